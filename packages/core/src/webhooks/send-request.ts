import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import type { CheckedTarget } from "./url-guard.ts";

/** The most of a receiver's answer that is read and kept. */
export const RESPONSE_BODY_CAP = 4096;

export type SendResult = {
  /** The HTTP status, or null when no answer came (refused, reset, timeout, TLS). */
  status: number | null;
  /** The first RESPONSE_BODY_CAP bytes of the answer, as text. */
  body: string | null;
  /** Why it failed, when it did: a sentence (status ≥ 300, timeout, connection error). */
  error: string | null;
  durationMs: number;
};

/**
 * One POST to a checked target, connected to the address that was checked: the `lookup` hook
 * answers with it, so Node asks no resolver again (a DNS answer that changed since the check
 * cannot redirect the connection), while the URL's host name still goes in `Host` and, for
 * https:, in SNI and the certificate check. Redirects are not followed (a 3xx is a failure), the
 * whole exchange is bounded by `timeoutMs`, and at most RESPONSE_BODY_CAP bytes of the answer are
 * read before the connection is dropped. Never throws: failures are results.
 */
export function sendWebhookRequest(
  target: CheckedTarget,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<SendResult> {
  const started = performance.now();
  const [first] = target.addresses;
  const elapsed = () => Math.round(performance.now() - started);
  if (!first) {
    return Promise.resolve({
      status: null,
      body: null,
      error: "No address to connect to.",
      durationMs: 0,
    });
  }
  const pinned: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) {
      (callback as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(
        null,
        [{ address: first.address, family: first.family }],
      );
    } else {
      callback(null, first.address, first.family);
    }
  };
  const url = target.url;
  const isHttps = url.protocol === "https:";
  const payload = Buffer.from(body);
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (r: Omit<SendResult, "durationMs">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, durationMs: elapsed() });
    };
    const options: https.RequestOptions = {
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: url.port || (isHttps ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      headers: { ...headers, "content-length": String(payload.byteLength) },
      lookup: pinned,
      // One connection per attempt: a pooled socket could be one opened to another address.
      agent: false,
    };
    if (isHttps && !/^[\d.]+$|:/.test(options.hostname ?? "")) options.servername = url.hostname;
    const req = (isHttps ? https : http).request(options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        const text = Buffer.concat(chunks).subarray(0, RESPONSE_BODY_CAP).toString("utf8");
        const status = res.statusCode ?? 0;
        finish({
          status,
          body: text,
          error:
            status >= 200 && status < 300
              ? null
              : status >= 300 && status < 400
                ? `The receiver answered ${status} (a redirect${res.headers.location ? ` to ${String(res.headers.location).slice(0, 200)}` : ""}); redirects are not followed: point the hook at the final URL.`
                : `The receiver answered ${status}; only a 2xx counts as delivered.`,
        });
      };
      res.on("data", (chunk: Buffer) => {
        if (size >= RESPONSE_BODY_CAP) return;
        chunks.push(chunk);
        size += chunk.byteLength;
        if (size >= RESPONSE_BODY_CAP) {
          // Enough read: stop taking bytes from the receiver.
          done();
          res.destroy();
          req.destroy();
        }
      });
      res.on("end", done);
      res.on("error", () => done());
      res.on("close", done);
    });
    const timer = setTimeout(() => {
      finish({
        status: null,
        body: null,
        error: `The receiver did not answer within ${timeoutMs} ms.`,
      });
      req.destroy();
    }, timeoutMs);
    req.on("error", (err: NodeJS.ErrnoException) => {
      finish({
        status: null,
        body: null,
        error:
          `Could not deliver to ${url.host}: ${err.code ? `${err.code} ` : ""}${err.message}`.slice(
            0,
            500,
          ),
      });
    });
    req.end(payload);
  });
}
