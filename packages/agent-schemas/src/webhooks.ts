import { z } from "zod";

/**
 * The webhook admin API (`/api/v1/admin/webhooks…`): managing hooks, sending a test `ping`, and
 * reading and redelivering deliveries. `@packr/agent` types its `webhooks` calls with these.
 * Dates are ISO 8601 strings.
 */

/** The events a hook may subscribe to (`ping` is sent only by the test call). */
export const WebhookEventType = z.enum([
  "package.published",
  "package.unpublished",
  "package.deprecated",
  "package.dist-tag.changed",
  "package.owner.changed",
  "token.created",
  "token.revoked",
  "org.member.added",
  "org.member.removed",
  "org.member.role_changed",
]);

export const WebhookOwner = z.union([
  z.object({ type: z.literal("user"), name: z.string() }),
  z.object({ type: z.literal("org"), slug: z.string() }),
]);

export const Webhook = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  /** `@acme`, a package name, or a glob (`@acme/ui-*`); null = every event the owner may read. */
  scope: z.string().nullable(),
  active: z.boolean(),
  owner: WebhookOwner,
  /** Since when every delivery has failed; null after a success. */
  failingSince: z.string().nullable(),
  disabledAt: z.string().nullable(),
  disabledReason: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const WebhookList = z.object({ webhooks: z.array(Webhook) });
export const WebhookResponse = z.object({ webhook: Webhook });
/** The answer to creating a hook: the only time its secret is shown. */
export const WebhookCreated = z.object({ webhook: Webhook, secret: z.string() });

export const CreateWebhookBody = z.object({
  url: z.string(),
  events: z.array(WebhookEventType).min(1),
  /** At least 16 characters; generated (`whsec_…`) when absent. */
  secret: z.string().min(16).optional(),
  scope: z.string().nullable().optional(),
  /** The org that owns the hook (its admins manage it); absent: the caller's own. */
  orgSlug: z.string().optional(),
});

export const UpdateWebhookBody = z.object({
  url: z.string().optional(),
  events: z.array(WebhookEventType).min(1).optional(),
  /** true turns the hook back on and forgets its failures; false pauses it. */
  active: z.boolean().optional(),
  /** null clears the scope. */
  scope: z.string().nullable().optional(),
});

export const DeliveryStatus = z.enum(["pending", "succeeded", "failed", "permanently_failed"]);

/** One delivery attempt (a row per attempt; `deliveryId` is the same on every attempt). */
export const Delivery = z.object({
  id: z.string(),
  deliveryId: z.string(),
  event: z.string(),
  eventId: z.string(),
  attempt: z.number().int(),
  status: DeliveryStatus,
  responseStatus: z.number().int().nullable(),
  durationMs: z.number().int().nullable(),
  error: z.string().nullable(),
  createdAt: z.string(),
  attemptedAt: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
});

export const DeliveryDetail = Delivery.extend({
  requestHeaders: z.record(z.string(), z.string()).nullable(),
  payload: z.record(z.string(), z.unknown()),
  /** The first 4 KiB of the receiver's answer. */
  responseBody: z.string().nullable(),
});

/** Newest first; pass `nextCursor` back as `cursor` for the next page (null: no more). */
export const DeliveryList = z.object({
  deliveries: z.array(Delivery),
  nextCursor: z.string().nullable(),
});
export const DeliveryResponse = z.object({ delivery: DeliveryDetail });
/** `POST …/test`: the queued ping's delivery id. */
export const WebhookPing = z.object({ deliveryId: z.string() });
/** `POST …/deliveries/:deliveryId/redeliver`: the same delivery id, a new attempt. */
export const Redelivery = z.object({ deliveryId: z.string(), attempt: z.number().int() });

export type WebhookEventType = z.infer<typeof WebhookEventType>;
export type WebhookOwner = z.infer<typeof WebhookOwner>;
export type Webhook = z.infer<typeof Webhook>;
export type WebhookList = z.infer<typeof WebhookList>;
export type WebhookResponse = z.infer<typeof WebhookResponse>;
export type WebhookCreated = z.infer<typeof WebhookCreated>;
export type CreateWebhookBody = z.infer<typeof CreateWebhookBody>;
export type UpdateWebhookBody = z.infer<typeof UpdateWebhookBody>;
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;
export type Delivery = z.infer<typeof Delivery>;
export type DeliveryDetail = z.infer<typeof DeliveryDetail>;
export type DeliveryList = z.infer<typeof DeliveryList>;
export type DeliveryResponse = z.infer<typeof DeliveryResponse>;
export type WebhookPing = z.infer<typeof WebhookPing>;
export type Redelivery = z.infer<typeof Redelivery>;
