import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { clientAddress, PackrError, proxyTrust, readPolicyRefusal } from "@packr/core";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getPath } from "hono/utils/url";
import type { AppEnv } from "./env.ts";
import { errorResponse, notFoundResponse } from "./http-errors.ts";
import { isOpenRoute } from "./open-routes.ts";
import { SMALL_BODY } from "./read-json.ts";
import { redactPath } from "./redact.ts";
import { access } from "./routes/access.ts";
import { agentRoutingPath } from "./routes/agent.ts";
import { createApi } from "./routes/api.ts";
import { billingWebhook } from "./routes/billing.ts";
import { distTags } from "./routes/dist-tags.ts";
import { downloads } from "./routes/downloads.ts";
import { health } from "./routes/health.ts";
import { keys } from "./routes/keys.ts";
import { npmOrgs } from "./routes/npm-orgs.ts";
import { npmTokens } from "./routes/npm-tokens.ts";
import { packageRoute } from "./routes/packages.ts";
import { search } from "./routes/search.ts";
import { security } from "./routes/security.ts";
import { session } from "./routes/session.ts";
import type { Runtime } from "./runtime.ts";
import { securityHeadersMiddleware } from "./security-headers.ts";

/**
 * The registry as a Hono app over a runtime. Tests call `app.request()` on it; server.ts serves it.
 * Order matters: fixed `/-/…` routes first, package names last (a name can be almost any path).
 */
export function createApp(runtime: Runtime) {
  const app = new Hono<AppEnv>({ getPath: (req) => agentRoutingPath(getPath(req)) });
  const logRequests = runtime.logger.enabled("info");
  const readRequiresAuth = runtime.config.readRequiresAuth;
  const trusted = proxyTrust(runtime.config.trustedProxies);
  // One middleware for everything a request needs first (a level of middleware is a cost on
  // every packument GET): its id, the runtime, the caller, and whether it may be here at all.
  app.use(async (c, next) => {
    const started = logRequests ? performance.now() : 0;
    // The caller's X-Request-Id when it is a plausible id (what hono/request-id accepts), else ours.
    const given = c.req.header("x-request-id");
    const id = given && given.length <= 255 && !/[^\w\-=]/.test(given) ? given : randomUUID();
    c.set("requestId", id);
    c.header("X-Request-Id", id);
    c.set("runtime", runtime);
    const auth = c.req.header("authorization");
    const bearer = auth?.toLowerCase().startsWith("bearer ") ? auth.slice(7).trim() : undefined;
    const actor = await runtime.deps.tokens.authenticate(bearer);
    c.set("ctx", {
      deps: runtime.deps,
      actor,
      requestId: c.get("requestId"),
      ip: clientAddress(peerAddress(c), c.req.header("x-forwarded-for"), trusted),
    });
    // Private by login (PACKR_READ_REQUIRES_AUTH): decided here, before any route, so no read
    // can forget it; it costs nothing beyond the token check above.
    const refusal =
      readRequiresAuth && actor.type === "anonymous" && !isOpenRoute(c.req.method, c.req.path)
        ? readPolicyRefusal(actor, { readRequiresAuth, registryUrl: runtime.deps.publicUrl() })
        : undefined;
    if (refusal) c.res = errorResponse(c, refusal);
    else await next();
    if (!logRequests) return;
    // One line per request, with who made it: enough to answer "what did CI do at 03:12?".
    const caller = c.get("ctx").actor;
    runtime.logger.info({
      requestId: c.get("requestId"),
      method: c.req.method,
      path: redactPath(c.req.path),
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      user: caller.type === "token" ? caller.userName : undefined,
      agent: c.req.header("user-agent")?.split(" ")[0],
    });
  });
  // Security headers: on the registry's own paths here; package paths put the same constants in
  // their plain header objects (packages.ts), errors in errorResponse.
  for (const p of ["/", "/health", "/-/*", "/api/*", "/agent/*"])
    app.use(p, securityHeadersMiddleware);
  app.onError((err, c) => errorResponse(c, err));
  app.notFound((c) => notFoundResponse(c));

  app.route("/", health);
  // The JSON APIs take small bodies; refuse big ones before reading them. Every other route reads
  // its body through readJson, which caps it too (64 KB unless the route allows more: a package
  // write, once its caller is known to be allowed to send one).
  const smallBody = bodyLimit({
    maxSize: SMALL_BODY,
    onError: (c) =>
      errorResponse(
        c,
        new PackrError("PAYLOAD_TOO_LARGE", "The request body is larger than 64 KB."),
      ),
  });
  for (const p of [
    "/api/*",
    "/-/v1/login",
    "/-/v1/device/*",
    "/-/npm/v1/tokens",
    // npm's legacy login and adduser (PUT /-/user/org.couchdb.user:<name>): before the password check.
    "/-/user/*",
    // dist-tags, access: a version string or a few fields.
    "/-/package/*",
  ])
    app.use(p, smallBody);
  app.route("/", createApi());
  app.route("/", billingWebhook);
  app.route("/", session);
  app.route("/", npmTokens);
  app.route("/", security);
  app.route("/", keys);
  app.route("/", search);
  app.route("/", access);
  app.route("/", npmOrgs);
  app.route("/", downloads);
  app.route("/", distTags);
  app.on(["GET", "HEAD", "PUT", "DELETE"], "*", (c) => packageRoute(c));
  return app;
}

/** The socket's peer (undefined under `app.request()`, which has no socket). */
function peerAddress(c: Context<AppEnv>): string | undefined {
  const env = c.env as { incoming?: IncomingMessage } | undefined;
  return env?.incoming?.socket?.remoteAddress;
}

export type RegistryApp = ReturnType<typeof createApp>;
