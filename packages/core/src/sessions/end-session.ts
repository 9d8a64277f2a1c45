import { and, eq, isNull } from "drizzle-orm";
import { emitAudit } from "../audit/emit-audit.ts";
import { recordSignOut } from "../audit/sign-in-events.ts";
import type { ServiceContext } from "../context.ts";
import { sessions } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";

/** Sign out: the caller's session stops working at once (authenticateSession reads the row). */
export async function endSession(args: { ctx: ServiceContext }): Promise<void> {
  const { ctx } = args;
  const actor = ctx.actor;
  if (actor.type !== "session") {
    throw new PackrError("UNAUTHORIZED", "Signing out needs a session (packr_session).");
  }
  await ctx.deps.db.transaction(async (tx) => {
    const ended = await tx
      .update(sessions)
      .set({ revokedAt: ctx.deps.now() })
      .where(and(eq(sessions.id, actor.sessionId), isNull(sessions.revokedAt)))
      .returning({ id: sessions.id });
    if (ended.length > 0) {
      await emitAudit(tx, ctx, {
        action: "session.revoked",
        targetType: "session",
        targetId: actor.sessionId,
      });
      await recordSignOut(tx, ctx, { userId: actor.userId, via: "dashboard" });
    }
  });
}
