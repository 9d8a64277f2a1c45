import { createRoute } from "@hono/zod-openapi";
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhooks,
  updateWebhook,
  type WebhookView,
} from "@packr/core";
import { errorResponses } from "../api-schemas.ts";
import * as S from "../webhook-schemas.ts";
import { adminSecurity, json, openApiApp } from "./openapi-app.ts";

/*
 * Webhook management: the admin API (`/api/v1/admin/webhooks…`), mounted inside the admin app so
 * its authentication — sessions, the internal secret, tokens — applies. Thin: parse → core verb →
 * wire shape. Who may manage which hook, and what a hook must be, is core's decision. The delivery
 * routes (test, deliveries, redeliver) live in webhook-deliveries.ts.
 */

const security = adminSecurity;
const tags = ["webhooks"];
const BASE = "/api/v1/admin/webhooks";
const HOOK = `${BASE}/{id}`;

const route = <M extends "get" | "post" | "patch" | "delete", P extends string>(
  method: M,
  path: P,
  summary: string,
) => ({ method, path, tags, summary, security });

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const webhookJson = (w: WebhookView) => ({
  ...w,
  failingSince: iso(w.failingSince),
  disabledAt: iso(w.disabledAt),
  createdAt: w.createdAt.toISOString(),
  updatedAt: w.updatedAt.toISOString(),
});

const createRouteDef = createRoute({
  ...route(
    "post",
    BASE,
    "Create a webhook for the caller or, with orgSlug, for an org the caller administers; the secret is answered once",
  ),
  request: { body: { ...json(S.CreateWebhookBody), required: true } },
  responses: {
    201: { description: "Created; store the secret now", ...json(S.WebhookCreated) },
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const listRouteDef = createRoute({
  ...route("get", BASE, "The caller's webhooks, or with ?org= an org's (org admins)"),
  request: { query: S.WebhookListQuery },
  responses: {
    200: { description: "Webhooks, oldest first", ...json(S.WebhookList) },
    ...errorResponses(400, 401, 403, 404),
  },
});

const getRouteDef = createRoute({
  ...route("get", HOOK, "One webhook the caller manages (404 for any other); never its secret"),
  request: { params: S.WebhookIdParam },
  responses: {
    200: { description: "The webhook", ...json(S.WebhookBody) },
    ...errorResponses(401, 403, 404),
  },
});

const updateRouteDef = createRoute({
  ...route(
    "patch",
    HOOK,
    "Change a webhook's url (checked again), events, scope or active; active: true clears its failures",
  ),
  request: { params: S.WebhookIdParam, body: { ...json(S.UpdateWebhookBody), required: true } },
  responses: {
    200: { description: "The webhook", ...json(S.WebhookBody) },
    ...errorResponses(400, 401, 403, 404),
  },
});

const deleteRouteDef = createRoute({
  ...route("delete", HOOK, "Delete a webhook and its delivery history"),
  request: { params: S.WebhookIdParam },
  responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404) },
});

/** The admin API's webhook routes; admin.ts mounts them behind its authentication. */
export const webhookAdmin = openApiApp();
webhookAdmin
  .openapi(createRouteDef, async (c) => {
    const r = await createWebhook({ ctx: c.get("ctx"), input: c.req.valid("json") });
    return c.json({ webhook: webhookJson(r.webhook), secret: r.secret }, 201);
  })
  .openapi(listRouteDef, async (c) => {
    const hooks = await listWebhooks({
      ctx: c.get("ctx"),
      input: { org: c.req.valid("query").org },
    });
    return c.json({ webhooks: hooks.map(webhookJson) }, 200);
  })
  .openapi(getRouteDef, async (c) => {
    const hook = await getWebhook({ ctx: c.get("ctx"), input: { id: c.req.valid("param").id } });
    return c.json({ webhook: webhookJson(hook) }, 200);
  })
  .openapi(updateRouteDef, async (c) => {
    const hook = await updateWebhook({
      ctx: c.get("ctx"),
      input: { id: c.req.valid("param").id, ...c.req.valid("json") },
    });
    return c.json({ webhook: webhookJson(hook) }, 200);
  })
  .openapi(deleteRouteDef, async (c) => {
    await deleteWebhook({ ctx: c.get("ctx"), input: { id: c.req.valid("param").id } });
    return c.body(null, 204);
  });
