import { createRoute, z } from "@hono/zod-openapi";
import {
  allowMagicLink,
  createPasswordSession,
  createSession,
  createToken,
  decideDeviceCode,
  describeDeviceCode,
  endSession,
  inviteUser,
  listTokens,
  PackrError,
  revokeToken,
  type ServiceContext,
} from "@packr/core";
import { adminAuth } from "../admin-auth.ts";
import {
  CreateSessionBody,
  CreateTokenBody,
  DeviceCodeView,
  DeviceDecision,
  DeviceDecisionBody,
  errorResponses,
  InvitedUser,
  InviteUserBody,
  MagicLinkRequestBody,
  Me,
  PasswordSessionBody,
  SessionCreated,
  TokenCreated,
  TokenList,
} from "../api-schemas.ts";
import { auditAdmin } from "./audit.ts";
import { billingAdmin } from "./billing.ts";
import { adminSecurity, json, openApiApp, type Security } from "./openapi-app.ts";
import { orgAdmin } from "./orgs.ts";
import { webhookDeliveriesAdmin } from "./webhook-deliveries.ts";
import { webhookAdmin } from "./webhooks.ts";

const security = adminSecurity;
const sessionOnly: Security = [{ internalSecret: [], session: [] }, { sessionCookie: [] }];
const tags = ["admin"];

const createSessionRoute = createRoute({
  method: "post",
  path: "/api/v1/admin/sessions",
  tags,
  summary: "Sign a person in (dashboard server only, with the internal secret)",
  security: [{ internalSecret: [] }],
  request: { body: { ...json(CreateSessionBody), required: true } },
  responses: {
    201: { description: "Session created", ...json(SessionCreated) },
    ...errorResponses(400, 401, 403),
  },
});

const passwordSessionRoute = createRoute({
  method: "post",
  path: "/api/v1/admin/sessions/password",
  tags,
  summary: "Sign a local account in with its password (dashboard server only, internal secret)",
  security: [{ internalSecret: [] }],
  request: { body: { ...json(PasswordSessionBody), required: true } },
  responses: {
    201: { description: "Session created", ...json(SessionCreated) },
    ...errorResponses(400, 401, 403, 429),
  },
});

const magicLinkRoute = createRoute({
  method: "post",
  path: "/api/v1/admin/magic-links",
  tags,
  summary:
    "Count a sign-in mail before the dashboard sends it; 429 past 3 per email address in 15 minutes or 20 per client address in an hour (internal secret)",
  security: [{ internalSecret: [] }],
  request: { body: { ...json(MagicLinkRequestBody), required: true } },
  responses: {
    204: { description: "The mail may be sent" },
    ...errorResponses(400, 401, 429),
  },
});

const meRoute = createRoute({
  method: "get",
  path: "/api/v1/admin/me",
  tags,
  summary: "Who the caller is",
  security,
  responses: { 200: { description: "The caller", ...json(Me) }, ...errorResponses(401) },
});

const endSessionRoute = createRoute({
  method: "delete",
  path: "/api/v1/admin/sessions/current",
  tags,
  summary: "Sign out: the session stops working at once",
  security,
  responses: { 204: { description: "Signed out" }, ...errorResponses(401) },
});

const listTokensRoute = createRoute({
  method: "get",
  path: "/api/v1/admin/tokens",
  tags,
  summary: "The caller's tokens (admins: ?all=true for everyone's); never their secrets",
  security,
  request: { query: z.object({ all: z.enum(["true", "false"]).optional() }) },
  responses: {
    200: { description: "Tokens, newest first", ...json(TokenList) },
    ...errorResponses(400, 401, 403),
  },
});

const createTokenRoute = createRoute({
  method: "post",
  path: "/api/v1/admin/tokens",
  tags,
  summary: "Create a token with no more permission and scope than the caller holds",
  security,
  request: { body: { ...json(CreateTokenBody), required: true } },
  responses: {
    201: { description: "The token, shown once", ...json(TokenCreated) },
    ...errorResponses(400, 401, 403),
  },
});

const revokeTokenRoute = createRoute({
  method: "delete",
  path: "/api/v1/admin/tokens/{id}",
  tags,
  summary: "Revoke a token (owner or admin); refused everywhere within seconds",
  security,
  request: { params: z.object({ id: z.string().min(1).max(100) }) },
  responses: { 204: { description: "Revoked" }, ...errorResponses(401, 404) },
});

const inviteUserRoute = createRoute({
  method: "post",
  path: "/api/v1/admin/users",
  tags,
  summary:
    "Invite a person (platform admins): an account they claim by signing in with this email through a provider trusted for linking",
  security,
  request: { body: { ...json(InviteUserBody), required: true } },
  responses: {
    201: { description: "The account, waiting to be claimed", ...json(InvitedUser) },
    ...errorResponses(400, 401, 403, 409),
  },
});

const deviceLookupRoute = createRoute({
  method: "get",
  path: "/api/v1/admin/device/{userCode}",
  tags: ["device"],
  summary: "A device code's state, for the approval page (session required)",
  security: sessionOnly,
  request: { params: z.object({ userCode: z.string().min(1).max(40) }) },
  responses: {
    200: { description: "The code", ...json(DeviceCodeView) },
    ...errorResponses(401, 404, 429),
  },
});

const deviceCallbackRoute = createRoute({
  method: "post",
  path: "/api/v1/admin/device/callback",
  tags: ["device"],
  summary: "Approve or deny a device code for the session's person",
  security: sessionOnly,
  request: { body: { ...json(DeviceDecisionBody), required: true } },
  responses: {
    200: { description: "Decided", ...json(DeviceDecision) },
    ...errorResponses(400, 401, 404, 409, 429),
  },
});

function me(ctx: ServiceContext) {
  const a = ctx.actor;
  if (a.type === "session" || a.type === "token") {
    return {
      user: { id: a.userId, name: a.userName, email: a.userEmail, isAdmin: a.isAdmin },
      via: a.type === "session" ? ("session" as const) : ("token" as const),
    };
  }
  if (a.type === "anonymous" && a.authError) throw a.authError;
  throw new PackrError("UNAUTHORIZED", "Sign in, or send a token (Authorization: Bearer …).");
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The admin API of the identity contract (`/work/identity-contract.md`). Thin: parse → core → map. */
export const admin = openApiApp();
admin.use("/api/v1/admin/*", adminAuth);
admin
  .openapi(createSessionRoute, async (c) => {
    const ctx = c.get("ctx");
    if (ctx.actor.type !== "system") {
      throw new PackrError(
        "UNAUTHORIZED",
        "Creating a session needs the internal API secret (Authorization: Bearer <INTERNAL_API_SECRET>).",
      );
    }
    const r = await createSession({
      ctx,
      input: { ...c.req.valid("json"), userAgent: c.req.valid("json").userAgent },
    });
    return c.json({ session: r.session, expiresAt: r.expiresAt.toISOString(), user: r.user }, 201);
  })
  .openapi(passwordSessionRoute, async (c) => {
    const ctx = c.get("ctx");
    if (ctx.actor.type !== "system") {
      throw new PackrError(
        "UNAUTHORIZED",
        "Creating a session needs the internal API secret (Authorization: Bearer <INTERNAL_API_SECRET>).",
      );
    }
    const r = await createPasswordSession({ ctx, input: c.req.valid("json") });
    return c.json({ session: r.session, expiresAt: r.expiresAt.toISOString(), user: r.user }, 201);
  })
  .openapi(magicLinkRoute, (c) => {
    allowMagicLink({ ctx: c.get("ctx"), input: c.req.valid("json") });
    return c.body(null, 204);
  })
  .openapi(meRoute, (c) => c.json(me(c.get("ctx")), 200))
  .openapi(endSessionRoute, async (c) => {
    await endSession({ ctx: c.get("ctx") });
    return c.body(null, 204);
  })
  .openapi(listTokensRoute, async (c) => {
    const rows = await listTokens({
      ctx: c.get("ctx"),
      input: { all: c.req.valid("query").all === "true" },
    });
    return c.json(
      {
        tokens: rows.map((t) => ({
          id: t.id,
          name: t.name,
          role: t.role,
          scopes: t.scopes,
          kind: t.kind,
          user: t.userName,
          createdAt: t.createdAt.toISOString(),
          lastUsedAt: iso(t.lastUsedAt),
          expiresAt: t.expiresAt.toISOString(),
          revokedAt: iso(t.revokedAt),
        })),
      },
      200,
    );
  })
  .openapi(createTokenRoute, async (c) => {
    const t = await createToken({ ctx: c.get("ctx"), input: c.req.valid("json") });
    return c.json(
      {
        token: t.token,
        id: t.id,
        name: t.name,
        role: t.role,
        scopes: t.scopes,
        kind: t.kind,
        expiresAt: t.expiresAt.toISOString(),
      },
      201,
    );
  })
  .openapi(revokeTokenRoute, async (c) => {
    await revokeToken({ ctx: c.get("ctx"), input: { id: c.req.valid("param").id } });
    return c.body(null, 204);
  })
  .openapi(inviteUserRoute, async (c) => {
    const u = await inviteUser({ ctx: c.get("ctx"), input: c.req.valid("json") });
    return c.json(
      {
        user: { id: u.id, name: u.name, email: u.email, isAdmin: u.isAdmin },
        signInUrl: u.signInUrl,
      },
      201,
    );
  })
  .openapi(deviceLookupRoute, async (c) => {
    const v = await describeDeviceCode({
      ctx: c.get("ctx"),
      input: { userCode: c.req.valid("param").userCode },
    });
    return c.json({ ...v, expiresAt: v.expiresAt.toISOString() }, 200);
  })
  .openapi(deviceCallbackRoute, async (c) => {
    const r = await decideDeviceCode({ ctx: c.get("ctx"), input: c.req.valid("json") });
    return c.json(r, 200);
  });
// Orgs and teams, behind the same authentication (sessions, the internal secret, tokens).
admin.route("/", orgAdmin);
// Webhooks, behind the same authentication.
admin.route("/", webhookAdmin);
// A webhook's deliveries (test, list, inspect, redeliver), behind the same authentication.
admin.route("/", webhookDeliveriesAdmin);
// Billing (plan, Checkout, portal; 404 without STRIPE_SECRET_KEY), behind the same authentication.
admin.route("/", billingAdmin);
admin.route("/", auditAdmin);
