/**
 * The dashboard's Content-Security-Policy for one response. Scripts: only this origin's, and only
 * those carrying this response's nonce — Next's App Router streams its page data as inline
 * scripts, and Next puts the nonce it finds in the request's CSP on each of them (every page is
 * rendered per request already: the layout reads the session). 'strict-dynamic' lets those
 * scripts load Next's chunks. Styles allow inline: the pages use `style` attributes, which a nonce
 * cannot cover, and a style cannot run code. Framing is refused (clickjacking of the device
 * approval and token pages), as are plugins, `<base>` rewrites and forms posting elsewhere.
 */
export function contentSecurityPolicy(opts: {
  nonce: string;
  https: boolean;
  dev: boolean;
}): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${opts.nonce}' 'strict-dynamic'${opts.dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    // Only on https: on a plain-http dashboard it would send the browser to a port nobody serves.
    ...(opts.https ? ["upgrade-insecure-requests"] : []),
  ].join("; ");
}

/** Sent on every dashboard answer, static assets included (next.config.ts `headers()`). */
export const STATIC_SECURITY_HEADERS = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  { key: "X-Frame-Options", value: "DENY" },
] as const;

/** HSTS, only for an https dashboard (decided at run time: one build serves any URL). */
export const HSTS = "max-age=31536000";
