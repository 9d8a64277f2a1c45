import type { Uplink } from "./uplink.ts";

/** The uplink did not answer usefully: unreachable, too slow, too large, or a 5xx. */
export class UplinkFailure extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "UplinkFailure";
  }
}

export type UplinkAnswer = { status: number; headers: Headers; body: Buffer };

/** `@scope/name` → `@scope%2fname`, as npm itself asks registries. */
export const uplinkPackagePath = (name: string): string => `/${name.replace("/", "%2f")}`;

/** What one uplink request sends, and how much and how long it may take. */
export type UplinkRequest = {
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: Uint8Array;
  maxBytes: number;
  timeoutMs?: number;
};

/**
 * One request to the uplink (or to a tarball URL it named), bounded in time and size. Never
 * follows credentials anywhere: Packr asks the uplink anonymously, so nothing private can leak
 * into an upstream request. Statuses below 500 are answers; 5xx and transport errors throw
 * `UplinkFailure`.
 */
export async function requestUplink(
  uplink: Uplink,
  url: string,
  init: UplinkRequest,
): Promise<UplinkAnswer> {
  const timeoutMs = init.timeoutMs ?? uplink.timeoutMs;
  const opened = await openUplink(uplink, url, init);
  const chunks: Uint8Array[] = [];
  try {
    for await (const chunk of opened.chunks()) chunks.push(chunk);
  } catch (err) {
    if (err instanceof UplinkFailure) throw err;
    throw new UplinkFailure(describe(err, timeoutMs));
  }
  return { status: opened.status, headers: opened.headers, body: Buffer.concat(chunks) };
}

export type OpenedUplinkAnswer = {
  status: number;
  headers: Headers;
  /**
   * The body, chunk by chunk, still bounded by `maxBytes` and the timeout: read it to the end or
   * call `cancel`. A transport error or an oversized body throws `UplinkFailure` mid-iteration.
   */
  chunks(): AsyncIterable<Uint8Array>;
  cancel(): Promise<void>;
};

/**
 * `requestUplink` without holding the body: the status and headers, and the body as a stream, so
 * a tarball of hundreds of MB passes through a few chunks at a time.
 */
export async function openUplink(
  uplink: Uplink,
  url: string,
  init: UplinkRequest,
): Promise<OpenedUplinkAnswer> {
  const timeoutMs = init.timeoutMs ?? uplink.timeoutMs;
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? "GET",
      headers: { "user-agent": "packr-uplink", ...init.headers },
      ...(init.body ? { body: init.body } : {}),
      redirect: "follow",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new UplinkFailure(describe(err, timeoutMs));
  }
  const cancel = async () => {
    await res.body?.cancel().catch(() => {});
  };
  if (res.status >= 500) {
    await cancel();
    throw new UplinkFailure(`the uplink answered ${res.status}`, res.status);
  }
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > init.maxBytes) {
    await cancel();
    throw new UplinkFailure(`the uplink's answer is larger than ${init.maxBytes} bytes`);
  }
  async function* chunks(): AsyncGenerator<Uint8Array> {
    if (!res.body) return;
    let size = 0;
    try {
      for await (const chunk of res.body) {
        size += chunk.byteLength;
        if (size > init.maxBytes) {
          throw new UplinkFailure(`the uplink's answer is larger than ${init.maxBytes} bytes`);
        }
        yield chunk;
      }
    } catch (err) {
      await cancel();
      if (err instanceof UplinkFailure) throw err;
      throw new UplinkFailure(describe(err, timeoutMs));
    }
  }
  return { status: res.status, headers: res.headers, chunks, cancel };
}

function describe(err: unknown, timeoutMs: number): string {
  const name = (err as { name?: string }).name;
  if (name === "TimeoutError" || name === "AbortError") {
    return `the uplink did not answer within ${timeoutMs} ms`;
  }
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return `the uplink is unreachable (${cause?.code ?? cause?.message ?? String(err)})`;
}
