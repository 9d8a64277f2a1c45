import { randomBytes } from "node:crypto";
import { type NextRequest, NextResponse } from "next/server";
import { dashboardIsHttps } from "./src/server/config.ts";
import { contentSecurityPolicy, HSTS } from "./src/server/security-headers.ts";

/**
 * Per-request security headers: the CSP with a fresh nonce (Next reads it from the request's CSP
 * and puts it on its inline scripts) and HSTS when PACKR_DASHBOARD_URL is https. Headers that never
 * change are in next.config.ts, so static assets get them without running this.
 */
export function proxy(request: NextRequest) {
  const nonce = randomBytes(16).toString("base64");
  const https = dashboardIsHttps();
  const csp = contentSecurityPolicy({
    nonce,
    https,
    dev: process.env.NODE_ENV === "development",
  });
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("Content-Security-Policy", csp);
  requestHeaders.set("x-nonce", nonce);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set("Content-Security-Policy", csp);
  if (https) response.headers.set("Strict-Transport-Security", HSTS);
  return response;
}

export const config = {
  // Pages, server actions and the auth routes; not the build's static files (no scripts run there).
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
