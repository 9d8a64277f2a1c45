import { timingSafeEqual } from "node:crypto";
import { assertReadAllowed, authenticateSession, PackrError } from "@packr/core";
import type { MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { AppEnv } from "./env.ts";

export const SESSION_COOKIE = "packr_session";

/**
 * Who calls the admin API (identity contract): the dashboard server with
 * `Authorization: Bearer <INTERNAL_API_SECRET>` (acting for a person when `X-Packr-Session` is
 * added), a person's `packr_session` cookie, or a JWT, already resolved by the app's middleware.
 * The context's actor becomes the session's person, `system` for the bare internal secret, or
 * stays the token. What each route needs is decided by its core verb.
 */
export const adminAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const runtime = c.get("runtime");
  const ctx = c.get("ctx");
  const bearer = bearerOf(c.req.header("authorization"));
  const internal = bearer !== undefined && sameSecret(bearer, runtime.secrets.internalApi);
  const headerSession = c.req.header("x-packr-session");
  if (headerSession !== undefined && !internal) {
    throw new PackrError(
      "UNAUTHORIZED",
      "X-Packr-Session is accepted only together with the internal API secret.",
    );
  }
  const cookieSession = getCookie(c, SESSION_COOKIE);
  const session = headerSession ?? (internal ? undefined : cookieSession);
  if (session !== undefined) {
    if (headerSession === undefined) assertSameOrigin(c);
    c.set("ctx", { ...ctx, actor: await authenticateSession(runtime.deps, session) });
  } else if (internal) {
    c.set("ctx", { ...ctx, actor: { type: "system", reason: "dashboard" } });
  }
  // app.ts lets anonymous admin calls through to here (a session is resolved only here); the
  // private-by-login policy is the same one.
  assertReadAllowed(c.get("ctx").actor, {
    readRequiresAuth: runtime.config.readRequiresAuth,
    registryUrl: runtime.deps.publicUrl(),
  });
  await next();
};

const bearerOf = (auth: string | undefined): string | undefined =>
  auth?.toLowerCase().startsWith("bearer ") ? auth.slice(7).trim() : undefined;

function sameSecret(given: string, secret: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * A cookie rides along on requests other sites make. SameSite=Lax stops cross-site POSTs; a
 * writing request with a cookie must also come from the dashboard's or the registry's own origin
 * (browsers send Origin on every cross-origin write).
 */
function assertSameOrigin(c: import("hono").Context<AppEnv>): void {
  if (c.req.method === "GET" || c.req.method === "HEAD") return;
  const origin = c.req.header("origin");
  if (origin === undefined) return;
  const runtime = c.get("runtime");
  const allowed = [runtime.config.dashboardUrl, runtime.deps.publicUrl()].map(
    (u) => new URL(u).origin,
  );
  if (!allowed.includes(origin)) {
    throw new PackrError(
      "FORBIDDEN",
      `Requests from ${origin.slice(0, 200)} may not use a session cookie.`,
    );
  }
}
