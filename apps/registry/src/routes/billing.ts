import { createRoute, z } from "@hono/zod-openapi";
import {
  type BillingView,
  createCheckoutSession,
  createPortalSession,
  getBilling,
  handleStripeWebhook,
  setAccountPlan,
} from "@packr/core";
import { Hono } from "hono";
import { errorResponses } from "../api-schemas.ts";
import type { AppEnv } from "../env.ts";
import { adminSecurity, json, openApiApp } from "./openapi-app.ts";

/*
 * Billing: the admin API (`/api/v1/admin/billing…`, mounted inside the admin app so its
 * authentication — sessions, the internal secret, tokens — applies) and Stripe's webhook
 * (`POST /api/billing/webhook`, open: Stripe's signature is its authentication). Thin: parse →
 * core verb → wire shape. Without STRIPE_SECRET_KEY every one answers 404 saying billing is off.
 */

const security = adminSecurity;
const tags = ["billing"];
const BASE = "/api/v1/admin/billing";

const Org = z
  .string()
  .min(1)
  .max(214)
  .openapi({ example: "acme", description: "The org (npm scope); omitted: your personal account" });
const Limit = z.number().int().nullable().openapi({ description: "null = unlimited" });

const BillingBody = z
  .object({
    account: z.object({ type: z.enum(["org", "user"]), name: z.string() }),
    plan: z.enum(["free", "solo", "team", "enterprise"]),
    planTitle: z.string(),
    status: z.string().openapi({ description: "Stripe's subscription status" }),
    state: z.enum(["free", "active", "grace", "lapsed", "inactive"]).openapi({
      description:
        "grace: a payment failed, the plan's limits still apply until graceEndsAt; lapsed: Free limits apply",
    }),
    limits: z.object({ packages: Limit, scopes: Limit }),
    usage: z.object({ packages: z.number().int(), scopes: z.number().int() }),
    currentPeriodEnd: z.string().datetime().nullable(),
    graceEndsAt: z.string().datetime().nullable(),
    upgradeUrl: z.string(),
    hasCustomer: z.boolean(),
  })
  .openapi("Billing");

const Url = z.object({ url: z.string().url() }).openapi("BillingUrl");

const CheckoutBody = z
  .object({
    plan: z.string().min(1).max(40).openapi({ example: "team", description: "solo | team" }),
    org: Org.optional(),
  })
  .openapi("CheckoutRequest");

const PortalBody = z.object({ org: Org.optional() }).openapi("PortalRequest");

const SetPlanBody = z
  .object({
    org: Org.optional(),
    user: z.string().min(1).max(64).optional(),
    plan: z.enum(["enterprise", "free"]),
    packages: z.number().int().min(0).max(1_000_000).nullable().optional(),
    scopes: z.number().int().min(0).max(1_000_000).nullable().optional(),
  })
  .openapi("SetPlanRequest");

const getRoute = createRoute({
  method: "get",
  path: BASE,
  tags,
  security,
  summary: "Plan, status, limits, usage and period end of an org (members) or your own account",
  request: { query: z.object({ org: Org.optional() }) },
  responses: {
    200: { description: "The account's billing", ...json(BillingBody) },
    ...errorResponses(400, 401, 404),
  },
});

const checkoutRoute = createRoute({
  method: "post",
  path: `${BASE}/checkout`,
  tags,
  security,
  summary: "A Stripe Checkout Session URL buying a plan (org admins, or you for your own account)",
  request: { body: { ...json(CheckoutBody), required: true } },
  responses: {
    200: { description: "Where to pay", ...json(Url) },
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const portalRoute = createRoute({
  method: "post",
  path: `${BASE}/portal`,
  tags,
  security,
  summary: "A Stripe Customer Portal URL (change plan, card, cancel, invoices)",
  request: { body: { ...json(PortalBody), required: false } },
  responses: {
    200: { description: "The portal", ...json(Url) },
    ...errorResponses(400, 401, 403, 404),
  },
});

const setPlanRoute = createRoute({
  method: "put",
  path: `${BASE}/plan`,
  tags,
  security,
  summary: "Set Enterprise limits on an account, or put it back on Free (platform admins)",
  request: { body: { ...json(SetPlanBody), required: true } },
  responses: {
    200: {
      description: "The plan set",
      ...json(z.object({ plan: z.enum(["enterprise", "free"]), packages: Limit, scopes: Limit })),
    },
    ...errorResponses(400, 401, 403, 404),
  },
});

const billingJson = (b: BillingView) => ({
  ...b,
  currentPeriodEnd: b.currentPeriodEnd?.toISOString() ?? null,
  graceEndsAt: b.graceEndsAt?.toISOString() ?? null,
});

export const billingAdmin = openApiApp();
billingAdmin
  .openapi(getRoute, async (c) => {
    const b = await getBilling({ ctx: c.get("ctx"), input: { org: c.req.valid("query").org } });
    return c.json(billingJson(b), 200);
  })
  .openapi(checkoutRoute, async (c) => {
    const r = await createCheckoutSession({ ctx: c.get("ctx"), input: c.req.valid("json") });
    return c.json({ url: r.url }, 200);
  })
  .openapi(portalRoute, async (c) => {
    const body = (c.req.valid("json") as z.infer<typeof PortalBody> | undefined) ?? {};
    const r = await createPortalSession({ ctx: c.get("ctx"), input: { org: body.org } });
    return c.json(r, 200);
  })
  .openapi(setPlanRoute, async (c) => {
    const r = await setAccountPlan({ ctx: c.get("ctx"), input: c.req.valid("json") });
    return c.json(r, 200);
  });

/**
 * Stripe's webhook. The body is read here as the exact text that arrived (nothing before this
 * route parses it; the app's 64 KB cap only counts it) and verified by core against
 * `Stripe-Signature`. Open under PACKR_READ_REQUIRES_AUTH (open-routes.ts): Stripe has no token.
 */
export const billingWebhook = new Hono<AppEnv>().post("/api/billing/webhook", async (c) => {
  const payload = await c.req.text();
  const outcome = await handleStripeWebhook({
    ctx: c.get("ctx"),
    input: { payload, signature: c.req.header("stripe-signature") },
  });
  return c.json(outcome, 200);
});
