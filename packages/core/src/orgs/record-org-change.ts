import { emitAudit } from "../audit/emit-audit.ts";
import type { ServiceContext, Tx } from "../context.ts";
import { type EventType, emitEvent } from "../events/emit-event.ts";

/**
 * The record every org, membership, team and grant change leaves in its own transaction: the
 * audit row and the webhook event, under one name (`org.member.added`, `package.access.granted`…).
 */
export async function recordOrgChange(
  tx: Tx,
  ctx: ServiceContext,
  change: {
    type: EventType;
    orgId: string;
    target: { type: "org" | "user" | "team" | "package"; id: string };
    /** For grants: the package, so a hook's delivery can check its owner may read it. */
    packageName?: string;
    data: Record<string, unknown>;
  },
  now: Date,
): Promise<void> {
  await emitAudit(tx, ctx, {
    action: change.type,
    targetType: change.target.type,
    targetId: change.target.id,
    orgId: change.orgId,
    data: change.data,
  });
  await emitEvent(
    tx,
    ctx,
    {
      type: change.type,
      orgId: change.orgId,
      packageName: change.packageName ?? null,
      data: change.data,
    },
    now,
  );
}
