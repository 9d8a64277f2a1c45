import { createRoute, z } from "@hono/zod-openapi";
import {
  DELIVERIES_DEFAULT_LIMIT,
  DELIVERIES_MAX_LIMIT,
  type DeliveryView,
  getDelivery,
  listDeliveries,
  pingWebhook,
  redeliver,
  WEBHOOK_DELIVERY_STATUSES,
} from "@packr/core";
import { errorResponses } from "../api-schemas.ts";
import { adminSecurity, json, openApiApp } from "./openapi-app.ts";

/*
 * A webhook's deliveries (`/api/v1/admin/webhooks/{id}/…`, mounted inside the admin app so its
 * authentication applies): send a test ping, list and inspect attempts, redeliver one. Thin:
 * parse → core verb → wire shape. Who may manage which hook is core's decision (404 otherwise).
 */

const security = adminSecurity;
const tags = ["webhooks"];
const HOOK = "/api/v1/admin/webhooks/{id}";
const when = z.string().datetime();

const param = (name: string, example: string) =>
  z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name, in: "path" }, example });
const HookParam = z.object({ id: param("id", "whk_0m3x2k9a1b2c3d4e5f6g7h8i9j") });

const Delivery = z
  .object({
    id: z.string().openapi({ description: "This attempt's row" }),
    deliveryId: z
      .string()
      .openapi({ description: "X-Packr-Delivery / webhook-id: the same on every attempt" }),
    event: z.string().openapi({ example: "package.published" }),
    eventId: z.string(),
    attempt: z.number().int(),
    status: z.enum(WEBHOOK_DELIVERY_STATUSES),
    responseStatus: z.number().int().nullable(),
    durationMs: z.number().int().nullable(),
    error: z.string().nullable(),
    createdAt: when,
    attemptedAt: when.nullable(),
    nextAttemptAt: when.nullable(),
  })
  .openapi("WebhookDelivery");
const DeliveryDetail = Delivery.extend({
  requestHeaders: z.record(z.string(), z.string()).nullable(),
  payload: z.record(z.string(), z.unknown()),
  responseBody: z.string().nullable(),
}).openapi("WebhookDeliveryDetail");

const testRoute = createRoute({
  method: "post",
  path: `${HOOK}/test`,
  tags,
  security,
  summary: "Queue a ping to the hook (sent by a job, signed like every delivery)",
  request: { params: HookParam },
  responses: {
    202: { description: "Queued", ...json(z.object({ deliveryId: z.string() })) },
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const listRoute = createRoute({
  method: "get",
  path: `${HOOK}/deliveries`,
  tags,
  security,
  summary: "The hook's delivery attempts, newest first (keyset-paginated)",
  request: {
    params: HookParam,
    query: z.object({
      cursor: z
        .string()
        .max(500)
        .optional()
        .openapi({ description: "nextCursor of the last page" }),
      limit: z.coerce
        .number()
        .int()
        .min(1)
        .max(DELIVERIES_MAX_LIMIT)
        .optional()
        .openapi({ example: DELIVERIES_DEFAULT_LIMIT }),
    }),
  },
  responses: {
    200: {
      description: "Attempts",
      ...json(
        z
          .object({ deliveries: z.array(Delivery), nextCursor: z.string().nullable() })
          .openapi("WebhookDeliveryList"),
      ),
    },
    ...errorResponses(400, 401, 403, 404),
  },
});

const getRoute = createRoute({
  method: "get",
  path: `${HOOK}/deliveries/{row}`,
  tags,
  security,
  summary: "One attempt: request headers (no secret), body, and the first 4 KiB of the answer",
  request: { params: HookParam.extend({ row: param("row", "dlv_0m3x2k9a1b2c3d4e5f6g7h8i9j") }) },
  responses: {
    200: { description: "The attempt", ...json(z.object({ delivery: DeliveryDetail })) },
    ...errorResponses(400, 401, 403, 404),
  },
});

const redeliverRoute = createRoute({
  method: "post",
  path: `${HOOK}/deliveries/{deliveryId}/redeliver`,
  tags,
  security,
  summary: "Send a delivery again: same delivery id, a new attempt, sent by a job",
  request: { params: HookParam.extend({ deliveryId: param("deliveryId", "msg_2b7e…") }) },
  responses: {
    202: {
      description: "Queued",
      ...json(z.object({ deliveryId: z.string(), attempt: z.number().int() })),
    },
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const deliveryJson = (d: DeliveryView) => ({
  ...d,
  createdAt: d.createdAt.toISOString(),
  attemptedAt: iso(d.attemptedAt),
  nextAttemptAt: iso(d.nextAttemptAt),
});

export const webhookDeliveriesAdmin = openApiApp();
webhookDeliveriesAdmin
  .openapi(testRoute, async (c) => {
    const ctx = c.get("ctx");
    const r = await pingWebhook(ctx.deps, ctx, c.req.valid("param").id);
    return c.json(r, 202);
  })
  .openapi(listRoute, async (c) => {
    const ctx = c.get("ctx");
    const q = c.req.valid("query");
    const r = await listDeliveries(ctx.deps, ctx, c.req.valid("param").id, {
      cursor: q.cursor,
      limit: q.limit,
    });
    return c.json({ deliveries: r.deliveries.map(deliveryJson), nextCursor: r.nextCursor }, 200);
  })
  .openapi(getRoute, async (c) => {
    const ctx = c.get("ctx");
    const { id, row } = c.req.valid("param");
    const d = await getDelivery(ctx.deps, ctx, id, row);
    return c.json({ delivery: { ...d, ...deliveryJson(d) } }, 200);
  })
  .openapi(redeliverRoute, async (c) => {
    const ctx = c.get("ctx");
    const { id, deliveryId } = c.req.valid("param");
    return c.json(await redeliver(ctx.deps, ctx, id, deliveryId), 202);
  });
