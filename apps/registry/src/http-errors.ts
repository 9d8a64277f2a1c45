import { isPackrError, PackrError, toErrorBody } from "@packr/core";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "./env.ts";

/**
 * The one place an error becomes an HTTP answer: the flat body of DESIGN.md §6 on every route,
 * `WWW-Authenticate` on 401 (npm words its hint from it), and never a 5xx for a client mistake,
 * because npm retries 5xx.
 */
export function errorResponse(c: Context<AppEnv>, err: unknown): Response {
  const requestId = c.get("requestId") ?? "unknown";
  const packrError = toPackrError(err);
  if (packrError.status >= 500) {
    console.error(
      JSON.stringify({
        level: "error",
        requestId,
        method: c.req.method,
        path: c.req.path,
        error: String(err),
        stack: err instanceof Error ? err.stack : undefined,
      }),
    );
  }
  const headers: Record<string, string> = {};
  if (packrError.status === 401) headers["WWW-Authenticate"] = 'Bearer realm="packr"';
  return c.json(
    toErrorBody(packrError, requestId),
    packrError.status as ContentfulStatusCode,
    headers,
  );
}

function toPackrError(err: unknown): PackrError {
  if (isPackrError(err)) return err;
  if (err instanceof HTTPException) {
    if (err.status === 413) {
      return new PackrError(
        "PAYLOAD_TOO_LARGE",
        "The request body is larger than this registry accepts (PACKR_MAX_BODY_SIZE).",
      );
    }
    if (err.status < 500) return new PackrError("VALIDATION", err.message || "Bad request.");
  }
  return new PackrError(
    "INTERNAL",
    "The registry failed to handle this request. It is logged under the request id; try again.",
    {
      cause: err,
    },
  );
}

export const notFoundResponse = (c: Context<AppEnv>): Response =>
  errorResponse(
    c,
    new PackrError("NOT_FOUND", `No such endpoint: ${c.req.method} ${c.req.path.slice(0, 200)}.`),
  );
