import { z } from "@hono/zod-openapi";
import { WEBHOOK_EVENT_TYPES } from "@packr/core";

/**
 * The wire shapes of the webhook management routes (`/api/v1/admin/webhooks…`), shared by the
 * routes and `GET /openapi.json`. Lengths here only keep absurd input out; what a hook must be
 * (a checked URL, known events, a valid scope, a long enough secret) is core's decision, answered
 * with a sentence.
 */

const when = z.string().datetime();
const eventsDescription = `Events to receive, at least one of: ${WEBHOOK_EVENT_TYPES.join(", ")}`;

export const WebhookOwner = z
  .union([
    z.object({ type: z.literal("user"), name: z.string() }),
    z.object({ type: z.literal("org"), slug: z.string() }),
  ])
  .openapi("WebhookOwner");

export const Webhook = z
  .object({
    id: z.string().openapi({ example: "whk_0m3x…" }),
    url: z.string().openapi({ example: "https://hooks.example.com/packr" }),
    events: z.array(z.string()).openapi({ example: ["package.published"] }),
    scope: z.string().nullable().openapi({
      description: "`@acme`, a package name, or a glob (`@acme/ui-*`); null = every event",
    }),
    active: z.boolean(),
    owner: WebhookOwner,
    failingSince: when.nullable().openapi({
      description: "Since when every delivery has failed; null after a success",
    }),
    disabledAt: when.nullable(),
    disabledReason: z.string().nullable(),
    createdAt: when,
    updatedAt: when,
  })
  .openapi("Webhook");

export const WebhookList = z.object({ webhooks: z.array(Webhook) }).openapi("WebhookList");
export const WebhookBody = z.object({ webhook: Webhook }).openapi("WebhookResponse");
export const WebhookCreated = z
  .object({
    webhook: Webhook,
    secret: z.string().openapi({
      description: "The signing secret, shown only in this answer: store it now",
      example: "whsec_…",
    }),
  })
  .openapi("WebhookCreated");

export const CreateWebhookBody = z
  .object({
    url: z.string().max(4096).openapi({ example: "https://hooks.example.com/packr" }),
    events: z
      .array(z.string().max(100))
      .max(100)
      .openapi({ description: eventsDescription, example: ["package.published"] }),
    secret: z.string().max(1000).optional().openapi({
      description: "At least 16 characters; generated (whsec_…) when absent",
    }),
    scope: z.string().max(1000).nullable().optional().openapi({ example: "@acme" }),
    orgSlug: z.string().max(300).optional().openapi({
      description: "The org that owns the hook (its admins manage it); absent: the caller's own",
      example: "acme",
    }),
  })
  .strict()
  .openapi("CreateWebhook");

export const UpdateWebhookBody = z
  .object({
    url: z.string().max(4096).optional(),
    events: z.array(z.string().max(100)).max(100).optional().openapi({
      description: eventsDescription,
    }),
    active: z.boolean().optional().openapi({
      description: "true turns the hook back on and forgets its failures; false pauses it",
    }),
    scope: z.string().max(1000).nullable().optional().openapi({ description: "null clears it" }),
  })
  .strict()
  .openapi("UpdateWebhook");

export const WebhookIdParam = z.object({ id: z.string().min(1).max(100) });
export const WebhookListQuery = z.object({
  org: z.string().max(300).optional().openapi({ description: "An org's hooks instead of yours" }),
});
