import { promisify } from "node:util";
import { brotliDecompress, gunzip, inflate } from "node:zlib";
import { type AuditAnswer, auditBulk, auditQuick, PackrError } from "@packr/core";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../env.ts";
import { errorResponse, headerText } from "../http-errors.ts";

/** Largest audit body accepted, compressed and after decompression. */
const MAX_AUDIT_BYTES = 16 * 1024 * 1024;

const decoders = {
  gzip: promisify(gunzip),
  "x-gzip": promisify(gunzip),
  deflate: promisify(inflate),
  br: promisify(brotliDecompress),
} as const;

const tooLarge = () =>
  new PackrError(
    "PAYLOAD_TOO_LARGE",
    `An audit request may be at most ${MAX_AUDIT_BYTES / 1024 / 1024} MB, decompressed.`,
  );

/**
 * npm audit (`advisories/bulk`, gzipped) and pnpm ≤ 10 audit (`audits/quick`, then `audits`),
 * protocol §5.1. Malformed bodies are a 400, never a 5xx.
 */
export const security = new Hono<AppEnv>()
  .use(
    "/-/npm/v1/security/*",
    bodyLimit({
      maxSize: MAX_AUDIT_BYTES,
      onError: (c) => errorResponse(c, tooLarge()),
    }),
  )
  .post("/-/npm/v1/security/advisories/bulk", async (c) =>
    auditResponse(
      c,
      await auditBulk({ ctx: c.get("ctx"), input: { body: await readAuditBody(c) } }),
    ),
  )
  .post("/-/npm/v1/security/audits/quick", async (c) =>
    auditResponse(
      c,
      await auditQuick({ ctx: c.get("ctx"), input: { body: await readAuditBody(c) } }),
    ),
  )
  .post("/-/npm/v1/security/audits", async (c) =>
    auditResponse(
      c,
      await auditQuick({ ctx: c.get("ctx"), input: { body: await readAuditBody(c) } }),
    ),
  );

/** The report; when the uplink could not be asked, a Warning (RFC 7234 199) and an npm-notice. */
function auditResponse(c: Context<AppEnv>, answer: AuditAnswer<unknown>): Response {
  const headers: Record<string, string> = {};
  if (answer.warning) {
    headers.Warning = `199 - "${headerText(answer.warning).replace(/"/g, "'")}"`;
    headers["npm-notice"] = headerText(answer.warning);
  }
  return c.json(answer.report as Record<string, unknown>, 200, headers);
}

/** The JSON body, decompressed per `Content-Encoding` with a cap on the inflated size. */
async function readAuditBody(c: Context<AppEnv>): Promise<unknown> {
  let bytes: Buffer = Buffer.from(await c.req.arrayBuffer());
  const encoding = (c.req.header("content-encoding") ?? "identity").trim().toLowerCase();
  if (encoding !== "identity" && encoding !== "") {
    const decode = decoders[encoding as keyof typeof decoders] as
      | ((buf: Buffer, opts: { maxOutputLength: number }) => Promise<Buffer>)
      | undefined;
    if (!decode) {
      throw new PackrError(
        "VALIDATION",
        `Content-Encoding "${encoding.slice(0, 40)}" is not supported; send gzip, deflate, br or none.`,
      );
    }
    try {
      bytes = await decode(bytes, { maxOutputLength: MAX_AUDIT_BYTES });
    } catch (err) {
      if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge();
      throw new PackrError("VALIDATION", `The request body is not valid ${encoding} data.`);
    }
  }
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new PackrError("VALIDATION", "The audit request body is not valid JSON.");
  }
}
