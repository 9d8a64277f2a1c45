/**
 * The routes a stranger may call when PACKR_READ_REQUIRES_AUTH makes the registry private: the
 * probes a load balancer needs and the ways to sign in. Everything else, including any route added
 * later, needs a token or a session (app.ts asks this on every request), so a new read cannot
 * forget the check. The list is of exact shapes (method and routing path, the same path the
 * router matches), never prefixes, so a route that happens to share a prefix is not opened.
 */
const OPEN: ReadonlyArray<{ methods: readonly string[]; path: RegExp; why: string }> = [
  { methods: ["GET"], path: /^\/(health)?$/, why: "health probes and the landing page" },
  { methods: ["POST"], path: /^\/-\/v1\/login$/, why: "npm login (password and web)" },
  { methods: ["GET"], path: /^\/-\/v1\/done$/, why: "npm's web-login poll" },
  { methods: ["POST"], path: /^\/-\/v1\/device\/(authorize|token)$/, why: "RFC 8628 device flow" },
  {
    // npm's legacy login: the PUT, and after a 409 the user document (fetched with whatever
    // token the client has, often none) and the PUT with /-rev/ (protocol §4.1).
    methods: ["GET", "PUT"],
    path: /^\/-\/user\/org\.couchdb\.user:[^/]+$/,
    why: "legacy (couch) login",
  },
  {
    methods: ["PUT"],
    path: /^\/-\/user\/org\.couchdb\.user:[^/]+\/-rev\/[^/]+$/,
    why: "legacy login",
  },
  {
    // npm logout revokes the token named in the path; it must succeed with an expired or revoked
    // token, or npm stops before clearing .npmrc (protocol §4.4). It reveals nothing.
    methods: ["DELETE"],
    path: /^\/-\/user\/token\/[^/]+$/,
    why: "npm logout",
  },
  {
    // Stripe sends no token: the Stripe-Signature over the raw body is checked by the route.
    methods: ["POST"],
    path: /^\/api\/billing\/webhook$/,
    why: "Stripe's billing webhook",
  },
];

/** The admin API resolves sessions and the internal secret itself, then applies the same policy. */
const SELF_AUTHENTICATED = /^\/api\/v1\/admin\//;

/** Whether an anonymous request may go on under private-by-login; HEAD counts as GET. */
export function isOpenRoute(method: string, path: string): boolean {
  if (SELF_AUTHENTICATED.test(path)) return true;
  const m = method === "HEAD" ? "GET" : method;
  return OPEN.some((r) => r.methods.includes(m) && r.path.test(path));
}
