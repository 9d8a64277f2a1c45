import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./env.ts";

/** The headers every registry answer carries, fixed at start (the hot paths spread this object). */
export type SecurityHeaders = Readonly<Record<string, string>>;

/**
 * The registry answers JSON and tarballs, never pages: nothing it sends may run script, load
 * anything, or be framed, and browsers must not sniff a tarball or a README-bearing packument into
 * HTML. HSTS only when the advertised URL is https: sent over http it would be ignored, and an
 * operator on plain http behind a TLS proxy says so through PACKR_PUBLIC_URL.
 */
export function securityHeaders(publicUrl: string | undefined): SecurityHeaders {
  const headers: Record<string, string> = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
  };
  if (publicUrl?.startsWith("https:")) {
    // No includeSubDomains: the registry's host does not speak for its parent's other hosts.
    headers["Strict-Transport-Security"] = "max-age=31536000";
  }
  return Object.freeze(headers);
}

/**
 * For the routes answered through Hono's context (`c.json`, `c.body`), which merges these into the
 * response. Mounted on the registry's own paths only: package reads build plain header objects
 * that already hold the same constants, and a `Headers` write per request there is measurable.
 */
export const securityHeadersMiddleware: MiddlewareHandler<AppEnv> = async (c, next) => {
  setSecurityHeaders(c);
  await next();
};

/** Put the security headers on whatever this context answers next through `c.json`/`c.body`. */
export function setSecurityHeaders(c: Context<AppEnv>): void {
  for (const name in c.get("runtime").securityHeaders) {
    c.header(name, c.get("runtime").securityHeaders[name]);
  }
}
