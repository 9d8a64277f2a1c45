import type { ServiceContext, Tx } from "../context.ts";
import { newId } from "../ids.ts";
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
  /** The version it is about (a publish, the version a dist-tag now points at), if one. */
  version?: string | null;
  /** The user whose own event this is (token events go only to their own hooks). */
  userId?: string | null;
  data: Record<string, unknown>;
};

/**
 * Who caused an event, as receivers see it: a person (`user`), a person's token (`token`, with the
 * token's name, looked up at fan-out, never its secret), or Packr itself (`system`). Ids stay in
 * the outbox row only so fan-out can name the token.
 */
export type EventActor =
  | { type: "user"; name: string; userId: string }
  | { type: "token"; name: string; userId: string; tokenId: string }
  | { type: "system"; name: string }
  | { type: "anonymous"; name: null };

/** What the outbox row of an `event.deliver` job carries. */
export type CommittedEvent = {
  /** Stable: the same on every hook's delivery and on every retry of each. */
  id: string;
  type: EventType;
  orgId: string | null;
  packageName: string | null;
  version: string | null;
  userId: string | null;
  actor: EventActor;
  data: Record<string, unknown>;
  occurredAt: string;
};

export function eventActor(ctx: ServiceContext): EventActor {
  const a = ctx.actor;
  if (a.type === "token") {
    return { type: "token", name: a.userName, userId: a.userId, tokenId: a.tokenId };
  }
  if (a.type === "session") return { type: "user", name: a.userName, userId: a.userId };
  if (a.type === "system") return { type: "system", name: a.reason };
  return { type: "anonymous", name: null };
}

/**
 * Commit an event with the change it describes (call inside the change's transaction): the outbox
 * row makes delivery survive a crash after commit, and a rolled-back change emits nothing. One
 * insert: who receives it, and the body they receive, are worked out after commit (fan-out).
 */
export async function emitEvent(
  tx: Tx,
  ctx: ServiceContext,
  event: DomainEvent,
  at: Date = ctx.deps.now(),
): Promise<string> {
  const committed: CommittedEvent = {
    id: newId("evt"),
    type: event.type,
    orgId: event.orgId ?? null,
    packageName: event.packageName ?? null,
    version: event.version ?? null,
    userId: event.userId ?? null,
    actor: eventActor(ctx),
    data: event.data,
    occurredAt: at.toISOString(),
  };
  await enqueueJob(tx, { topic: DELIVER_EVENT, payload: committed });
  return committed.id;
}
