import type { Tx } from "../db/client.ts";
import { enqueueJob } from "../jobs/outbox.ts";
import { DELIVER_EVENT } from "../jobs/topics.ts";

/** The event names Packr emits; webhooks subscribe to these. */
export type EventType =
  | "package.published"
  | "package.unpublished"
  | "package.deprecated"
  | "package.dist-tag.changed"
  | "package.owner.changed"
  | "package.access.granted"
  | "package.access.revoked"
  | "token.created"
  | "token.revoked"
  | "org.created"
  | "org.updated"
  | "org.deleted"
  | "org.member.added"
  | "org.member.removed"
  | "org.member.role_changed"
  | "team.created"
  | "team.deleted"
  | "team.member.added"
  | "team.member.removed";

export type DomainEvent = {
  type: EventType;
  /** The org the event belongs to (org events, packages of an org's scope), else null. */
  orgId?: string | null;
  /** The package it is about, when it is about one: delivery checks the hook owner may read it. */
  packageName?: string | null;
  /** The user whose own event this is (token events go only to their own hooks). */
  userId?: string | null;
  data: Record<string, unknown>;
};

/**
 * Commit an event with the change it describes (call inside the change's transaction): the outbox
 * row makes delivery survive a crash after commit, and a rolled-back change emits nothing.
 */
export async function emitEvent(tx: Tx, event: DomainEvent, at: Date): Promise<void> {
  await enqueueJob(tx, {
    topic: DELIVER_EVENT,
    payload: {
      type: event.type,
      orgId: event.orgId ?? null,
      packageName: event.packageName ?? null,
      userId: event.userId ?? null,
      data: event.data,
      occurredAt: at.toISOString(),
    },
  });
}
