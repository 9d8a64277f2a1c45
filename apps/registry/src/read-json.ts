import { PackrError } from "@packr/core";
import type { Context } from "hono";

/** What a JSON body of a few fields (a login, a token request, a dist-tag) may weigh. */
export const SMALL_BODY = 64 * 1024;

export type ReadLimit = {
  /** Largest body read, in bytes; SMALL_BODY unless the route says otherwise. */
  limit?: number;
  /** The refusal for a body over the limit; a 413 that names the limit by default. */
  tooLarge?: () => PackrError;
};

/**
 * Parse a JSON request body, turning garbage into a 400 that says so. The body is read with a
 * cap: a declared Content-Length over it is refused before a byte is read, and a chunked body is
 * cut off (the stream cancelled) as soon as it passes the cap, so no route can be made to buffer
 * more than it allows.
 */
export async function readJson(
  c: Context,
  opts: { optional?: boolean } & ReadLimit = {},
): Promise<unknown> {
  const text = await readCappedText(c, opts);
  if (text.trim() === "") {
    if (opts.optional) return null;
    throw new PackrError("VALIDATION", "The request body is empty; expected JSON.");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new PackrError("VALIDATION", "The request body is not valid JSON.");
  }
}

/** The body as UTF-8 text, at most `limit` bytes of it (see `readJson`). */
export async function readCappedText(c: Context, opts: ReadLimit = {}): Promise<string> {
  const limit = opts.limit ?? SMALL_BODY;
  const tooLarge =
    opts.tooLarge ??
    (() => new PackrError("PAYLOAD_TOO_LARGE", `The request body is larger than ${limit} bytes.`));
  const declared = c.req.header("content-length");
  if (declared !== undefined && !c.req.header("transfer-encoding")) {
    const length = Number(declared);
    if (!Number.isFinite(length) || length > limit) throw tooLarge();
  }
  const body = c.req.raw.body;
  if (!body) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      // Stop reading: the server closes the connection instead of taking the rest.
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString("utf8");
}
