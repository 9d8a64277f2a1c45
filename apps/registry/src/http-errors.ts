import { isPackrError, PackrError, toErrorBody } from "@packr/core";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "./env.ts";
import { securityHeaders } from "./security-headers.ts";

/** For an error raised before the runtime is on the context (none is, today): the http set. */
const BASE_HEADERS = securityHeaders(undefined);

import { redactPath, scrubSecrets } from "./redact.ts";

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
      scrubSecrets(
        JSON.stringify({
          level: "error",
          requestId,
          method: c.req.method,
          path: redactPath(c.req.path),
          error: String(err),
          stack: err instanceof Error ? err.stack : undefined,
        }),
      ),
    );
  }
  // Errors on package paths skip the security middleware (it is not on the hot path): add them here.
  const headers: Record<string, string> = {
    ...(c.get("runtime")?.securityHeaders ?? BASE_HEADERS),
  };
  if (packrError.status === 401) {
    headers["WWW-Authenticate"] = challenge(c);
    headers["npm-notice"] = headerText(packrError.message);
  }
  // The uplink is down and nothing is cached, or a limit is reached: say when to come back.
  const retryAfter = packrError.details?.retryAfter;
  if ((packrError.status === 503 || packrError.status === 429) && typeof retryAfter === "number") {
    headers["Retry-After"] = String(retryAfter);
  }
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

/**
 * The 401 challenge. npm shows no body text for a 401 that carries WWW-Authenticate; it words the
 * error from the challenge alone (npm-registry-fetch check-response.js, npm/cli error-message.js):
 * `Bearer` → "your authentication token seems to be invalid … npm login", `Basic` → "Incorrect or
 * missing password". Password-login routes therefore challenge `Basic`, everything else `Bearer`
 * (RFC 6750, with `error="invalid_token"` when a presented token was refused), and the sentence
 * that says what really happened travels in `npm-notice`, which npm prints on any response.
 */
function challenge(c: Context<AppEnv>): string {
  if (c.get("challenge") === "basic") return 'Basic realm="packr", charset="UTF-8"';
  const actor = c.get("ctx")?.actor;
  const rejectedToken = actor?.type === "anonymous" && actor.authError !== undefined;
  return rejectedToken ? 'Bearer realm="packr", error="invalid_token"' : 'Bearer realm="packr"';
}

/** Header values are Latin-1 at best; keep the sentence readable in plain ASCII. */
export const headerText = (s: string): string =>
  s.replace(/…/g, "...").replace(/[^\x20-\x7e]/g, "?");
