import type { ServiceContext, Tx } from "../context.ts";
import { auditEvents } from "../db/schema/index.ts";
import { newId } from "../ids.ts";

export type AuditEntry = {
  action: string;
  targetType?: string;
  targetId?: string;
  orgId?: string | null;
  data?: Record<string, unknown>;
};

/** Record who did what, inside the caller's transaction: no audit row, no change. */
export async function emitAudit(tx: Tx, ctx: ServiceContext, entry: AuditEntry): Promise<void> {
  const a = ctx.actor;
  await tx.insert(auditEvents).values({
    id: newId("evt"),
    orgId: entry.orgId ?? (a.type === "token" ? a.orgId : null),
    actorType: a.type,
    actorId: a.type === "token" || a.type === "session" ? a.userId : null,
    actorName:
      a.type === "token" || a.type === "session"
        ? a.userName
        : a.type === "system"
          ? a.reason
          : null,
    action: entry.action,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    data: {
      ...entry.data,
      ...(a.type === "token" ? { tokenId: a.tokenId } : {}),
      ...(a.type === "session" ? { sessionId: a.sessionId } : {}),
    },
    requestId: ctx.requestId,
    ip: ctx.ip ?? null,
    createdAt: ctx.deps.now(),
  });
}
