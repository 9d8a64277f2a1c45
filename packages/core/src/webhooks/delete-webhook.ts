import { eq } from "drizzle-orm";
import { emitAudit } from "../audit/emit-audit.ts";
import type { ServiceContext } from "../context.ts";
import { webhooks } from "../db/schema/index.ts";
import { loadManagedWebhook, webhookNotFound } from "./webhook-access.ts";

/**
 * Delete a hook the caller manages, with its delivery history (the rows cascade). Deliveries
 * already queued find no hook and stop.
 */
export async function deleteWebhook(args: {
  ctx: ServiceContext;
  input: { id: string };
}): Promise<{ ok: true }> {
  const { ctx } = args;
  const row = await loadManagedWebhook(ctx.deps, ctx, args.input.id);
  await ctx.deps.db.transaction(async (tx) => {
    const [gone] = await tx
      .delete(webhooks)
      .where(eq(webhooks.id, row.id))
      .returning({ id: webhooks.id });
    if (!gone) throw webhookNotFound(args.input.id);
    await emitAudit(tx, ctx, {
      action: "webhook.delete",
      targetType: "webhook",
      targetId: row.id,
      orgId: row.orgId,
      data: { urlHost: new URL(row.url).host, events: row.events, scope: row.scope },
    });
  });
  return { ok: true };
}
