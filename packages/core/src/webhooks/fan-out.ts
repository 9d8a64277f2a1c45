import { createHash, randomBytes } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import type { Deps } from "../context.ts";
import type { Queryable, Tx } from "../db/client.ts";
import { webhookDeliveries, webhooks } from "../db/schema/index.ts";
import type { CommittedEvent, EventType } from "../events/emit-event.ts";
import { newId } from "../ids.ts";
import { enqueueJob } from "../jobs/outbox.ts";
import { DELIVER_WEBHOOK } from "../jobs/topics.ts";
import { buildEventPayload, type EventPayload } from "./event-payload.ts";
import { type EventSubject, findOrgRow, HookReach, loadPackageSubject } from "./hook-reach.ts";
import type { WebhookRow } from "./webhook-view.ts";

/**
 * The delivery id of one event to one hook: derived from both, so a fan-out run twice (a relay
 * that crashed after commit) names the same delivery and the unique (deliveryId, attempt) index
 * keeps it once. Receivers see it as `X-Packr-Delivery` and `webhook-id`.
 */
export const deliveryIdOf = (eventId: string, hookId: string): string =>
  `msg_${createHash("sha256").update(`${eventId}:${hookId}`).digest("hex").slice(0, 32)}`;

/** A delivery id of its own, for a `ping` (it belongs to no event). */
export const freshDeliveryId = (): string => `msg_${randomBytes(16).toString("hex")}`;

/** What an event is about, and the org slug its body names (null for none). */
export async function eventSubject(
  db: Queryable,
  input: {
    type: string;
    packageName: string | null;
    orgId?: string | null;
    orgSlug?: string | null;
    userId?: string | null;
  },
): Promise<{ subject: EventSubject; orgSlug: string | null }> {
  if (input.type === "ping") return { subject: { kind: "hook" }, orgSlug: null };
  if (input.type.startsWith("token.")) {
    return { subject: { kind: "token", userId: input.userId ?? null }, orgSlug: null };
  }
  if (input.packageName) {
    const pkg = await loadPackageSubject(db, input.packageName);
    if (!pkg) return { subject: { kind: "none" }, orgSlug: null };
    const org = pkg.orgId
      ? await findOrgRow(db, { id: pkg.orgId })
      : pkg.scope
        ? await findOrgRow(db, { slug: pkg.scope })
        : null;
    return {
      subject: { kind: "package", pkg, orgName: org?.name ?? null },
      orgSlug: org?.name ?? null,
    };
  }
  const org = input.orgId
    ? await findOrgRow(db, { id: input.orgId })
    : input.orgSlug
      ? await findOrgRow(db, { slug: input.orgSlug })
      : null;
  if (!org) return { subject: { kind: "none" }, orgSlug: null };
  return { subject: { kind: "org", orgId: org.id, orgName: org.name }, orgSlug: org.name };
}

/** Active hooks subscribed to this event type (token events: only the owner's). */
async function subscribedHooks(
  db: Queryable,
  type: EventType,
  subject: EventSubject,
): Promise<WebhookRow[]> {
  const subscribed = and(eq(webhooks.active, true), sql`${type} = any(${webhooks.events})`);
  if (subject.kind === "token") {
    if (!subject.userId) return [];
    return db
      .select()
      .from(webhooks)
      .where(and(subscribed, eq(webhooks.userId, subject.userId)));
  }
  return db.select().from(webhooks).where(subscribed);
}

/** Insert a pending attempt and commit its job, in the caller's transaction; false if it existed. */
export async function queueAttempt(
  tx: Tx,
  row: {
    deliveryId: string;
    webhookId: string;
    eventId: string;
    event: string;
    payload: EventPayload | Record<string, unknown>;
    attempt: number;
    at: Date;
  },
): Promise<boolean> {
  const inserted = await tx
    .insert(webhookDeliveries)
    .values({
      id: newId("dlv"),
      deliveryId: row.deliveryId,
      webhookId: row.webhookId,
      eventId: row.eventId,
      event: row.event,
      payload: row.payload as Record<string, unknown>,
      attempt: row.attempt,
      status: "pending",
      nextAttemptAt: row.at,
      createdAt: new Date(),
    })
    .onConflictDoNothing({ target: [webhookDeliveries.deliveryId, webhookDeliveries.attempt] })
    .returning({ id: webhookDeliveries.id });
  if (inserted.length === 0) return false;
  await enqueueJob(tx, {
    topic: DELIVER_WEBHOOK,
    payload: { deliveryId: row.deliveryId, attempt: row.attempt },
    availableAt: row.at,
  });
  return true;
}

/**
 * The `event.deliver` job: find every active hook subscribed to the event whose scope covers it
 * and whose owner may receive it at this moment (hook-reach.ts), build the body once, and commit
 * one pending attempt-1 row and one `webhook.deliver` job per hook, in one transaction. A re-run
 * adds nothing (deterministic delivery ids, unique index). Returns how many deliveries it queued.
 */
export async function fanOutEvent(deps: Deps, event: CommittedEvent): Promise<number> {
  const { subject, orgSlug } = await eventSubject(deps.db, {
    type: event.type,
    packageName: event.packageName,
    orgId: event.orgId,
    userId: event.userId,
  });
  if (subject.kind === "none") return 0;
  const candidates = await subscribedHooks(deps.db, event.type, subject);
  if (candidates.length === 0) return 0;
  const reach = new HookReach(deps.db, subject);
  const receivers: WebhookRow[] = [];
  for (const hook of candidates) {
    if (await reach.receives(hook)) receivers.push(hook);
  }
  if (receivers.length === 0) return 0;
  const payload = await buildEventPayload(deps, event, {
    pkg: subject.kind === "package" ? subject.pkg : null,
    orgSlug,
  });
  const at = deps.now();
  return deps.db.transaction(async (tx) => {
    let queued = 0;
    for (const hook of receivers) {
      const fresh = await queueAttempt(tx, {
        deliveryId: deliveryIdOf(event.id, hook.id),
        webhookId: hook.id,
        eventId: event.id,
        event: event.type,
        payload,
        attempt: 1,
        at,
      });
      if (fresh) queued++;
    }
    return queued;
  });
}

/**
 * An `event.deliver` job's payload, or null for one committed before events had ids (those were
 * never deliverable: there were no hooks to deliver them to, so they are consumed as before).
 */
export function committedEventOf(payload: Record<string, unknown>): CommittedEvent | null {
  const { id, type, occurredAt, actor, data } = payload;
  if (typeof id !== "string" || typeof type !== "string" || typeof occurredAt !== "string") {
    return null;
  }
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  return {
    id,
    type: type as EventType,
    orgId: str(payload.orgId),
    packageName: str(payload.packageName),
    version: str(payload.version),
    userId: str(payload.userId),
    actor: (actor as CommittedEvent["actor"]) ?? { type: "anonymous", name: null },
    data: (data as Record<string, unknown>) ?? {},
    occurredAt,
  };
}
