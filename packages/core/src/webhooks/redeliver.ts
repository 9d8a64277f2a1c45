import { and, desc, eq } from "drizzle-orm";
import { emitAudit } from "../audit/emit-audit.ts";
import type { ServiceContext } from "../context.ts";
import { webhookDeliveries } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { queueAttempt } from "./fan-out.ts";
import { loadManagedWebhook } from "./webhook-access.ts";

/**
 * Send a delivery again: a new attempt row with the same delivery id (receivers deduplicate on
 * it) and the same body, sent by a job like every attempt. One try (no further retries unless the
 * retry schedule still has room for its attempt number). Refused while an attempt of it is still
 * pending, and for a disabled hook. Audited as `webhook.redeliver`.
 */
export async function redeliver(
  deps: ServiceContext["deps"],
  ctx: ServiceContext,
  hookId: string,
  deliveryId: string,
): Promise<{ deliveryId: string; attempt: number }> {
  const hook = await loadManagedWebhook(deps, ctx, hookId);
  if (!hook.active) {
    throw new PackrError(
      "CONFLICT",
      "This hook is disabled; enable it (PATCH active: true) before redelivering to it.",
    );
  }
  return deps.db.transaction(async (tx) => {
    const [latest] =
      deliveryId.length <= 100
        ? await tx
            .select()
            .from(webhookDeliveries)
            .where(
              and(
                eq(webhookDeliveries.deliveryId, deliveryId),
                eq(webhookDeliveries.webhookId, hook.id),
              ),
            )
            .orderBy(desc(webhookDeliveries.attempt))
            .limit(1)
            .for("update")
        : [];
    if (!latest) throw new PackrError("NOT_FOUND", "This hook has no delivery with that id.");
    if (latest.status === "pending") {
      throw new PackrError(
        "CONFLICT",
        `Attempt ${latest.attempt} of this delivery is still pending; wait for it before redelivering.`,
      );
    }
    const attempt = latest.attempt + 1;
    const queued = await queueAttempt(tx, {
      deliveryId,
      webhookId: hook.id,
      eventId: latest.eventId,
      event: latest.event,
      payload: latest.payload,
      attempt,
      at: deps.now(),
    });
    if (!queued) {
      throw new PackrError(
        "CONFLICT",
        "This delivery is being retried already; look again shortly.",
      );
    }
    await emitAudit(tx, ctx, {
      action: "webhook.redeliver",
      targetType: "webhook",
      targetId: hook.id,
      orgId: hook.orgId,
      data: { deliveryId, attempt, event: latest.event },
    });
    return { deliveryId, attempt };
  });
}
