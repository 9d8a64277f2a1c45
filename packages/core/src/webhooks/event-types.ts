import { z } from "zod";
import { PackrError } from "../errors.ts";

/**
 * The events a hook may subscribe to (issue 18). `ping` is not among them: only
 * `POST /api/v1/admin/webhooks/:id/test` sends it, to whichever hook it names.
 */
export const WEBHOOK_EVENT_TYPES = [
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
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const WebhookEventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES);

export const isWebhookEventType = (name: string): name is WebhookEventType =>
  (WEBHOOK_EVENT_TYPES as readonly string[]).includes(name);

/**
 * The events of a hook from a caller: at least one, each a known type (exact spelling), duplicates
 * folded, in the order of WEBHOOK_EVENT_TYPES so two equal subscriptions are stored alike.
 */
export function parseWebhookEvents(raw: readonly string[]): WebhookEventType[] {
  if (raw.length === 0) {
    throw new PackrError(
      "VALIDATION",
      `A webhook needs at least one event; choose from ${WEBHOOK_EVENT_TYPES.join(", ")}.`,
    );
  }
  const unknown = raw.filter((e) => !isWebhookEventType(e));
  if (unknown.length > 0) {
    const shown = unknown
      .slice(0, 3)
      .map((e) => JSON.stringify(e.length > 40 ? `${e.slice(0, 40)}…` : e))
      .join(", ");
    throw new PackrError(
      "VALIDATION",
      `${shown} ${unknown.length === 1 ? "is not an event" : "are not events"} a webhook can subscribe to; choose from ${WEBHOOK_EVENT_TYPES.join(", ")}.`,
      { details: { unknownEvents: unknown.slice(0, 10) } },
    );
  }
  return WEBHOOK_EVENT_TYPES.filter((e) => raw.includes(e));
}
