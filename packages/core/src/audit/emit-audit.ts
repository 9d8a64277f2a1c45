import type { Queryable, ServiceContext, Tx } from "../context.ts";
import { auditEvents } from "../db/schema/index.ts";
import { newId } from "../ids.ts";

export type AuditEntry = {
  action: string;
  targetType?: string;
  targetId?: string;
  orgId?: string | null;
  data?: Record<string, unknown>;
};

/**
 * Record who did what, inside the caller's transaction: no audit row, no change. A token actor's
 * token id and name ride along in `data` (`tokenId`, `tokenName`), the client address in `ip`:
 * "who published this, with which token, from where" is one row.
 */
export async function emitAudit(tx: Tx, ctx: ServiceContext, entry: AuditEntry): Promise<void> {
  await writeAuditRow(tx, ctx, entry);
}

/**
 * The row itself, on any connection. Only for events that have no transaction of their own to
 * join (a failed sign-in changes nothing); every change goes through emitAudit.
 */
export async function writeAuditRow(
  db: Queryable,
  ctx: ServiceContext,
  entry: AuditEntry,
): Promise<void> {
  const a = ctx.actor;
  await db.insert(auditEvents).values({
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
      ...(a.type === "token"
        ? { tokenId: a.tokenId, ...(a.tokenName !== undefined ? { tokenName: a.tokenName } : {}) }
        : {}),
      ...(a.type === "session" ? { sessionId: a.sessionId } : {}),
    },
    requestId: ctx.requestId,
    ip: ctx.ip ?? null,
    createdAt: ctx.deps.now(),
  });
}
