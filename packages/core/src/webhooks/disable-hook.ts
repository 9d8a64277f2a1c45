import { and, eq } from "drizzle-orm";
import { emitAudit } from "../audit/emit-audit.ts";
import type { Deps, Tx } from "../context.ts";
import { webhooks } from "../db/schema/index.ts";
import type { WebhookRow } from "./webhook-view.ts";

/**
 * Turn off a hook whose every delivery has failed for `disableAfterMs` (PACKR_WEBHOOK_DISABLE_AFTER),
 * with its `webhook.disable` audit row, in the caller's transaction. Its pending attempts are then
 * closed unsent when their jobs run. Re-enabling (`PATCH active: true`) clears the failure record.
 *
 * Mail to the owner: core has no mail port today (only the dashboard sends sign-in links, with its
 * own nodemailer transport), so the disable is visible in the audit log, the hook's `disabledAt`
 * and `disabledReason`, and the registry's log — not by email.
 */
export async function disableHook(
  tx: Tx,
  deps: Deps,
  hook: Pick<WebhookRow, "id" | "orgId" | "userId" | "url">,
  reason: string,
  now: Date,
): Promise<boolean> {
  const updated = await tx
    .update(webhooks)
    .set({ active: false, disabledAt: now, disabledReason: reason, updatedAt: now })
    .where(and(eq(webhooks.id, hook.id), eq(webhooks.active, true)))
    .returning({ id: webhooks.id });
  if (updated.length === 0) return false;
  await emitAudit(
    tx,
    { deps, actor: { type: "system", reason: "webhook delivery" }, requestId: `hook:${hook.id}` },
    {
      action: "webhook.disable",
      targetType: "webhook",
      targetId: hook.id,
      orgId: hook.orgId,
      data: {
        reason,
        url: hook.url,
        owner: hook.orgId ? { orgId: hook.orgId } : { userId: hook.userId },
      },
    },
  );
  return true;
}
