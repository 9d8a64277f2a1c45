import { and, eq, sql, TransactionRollbackError } from "drizzle-orm";
import type { Deps } from "../context.ts";
import { webhookDeliveries, webhooks } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { disableHook } from "./disable-hook.ts";
import type { EventPayload } from "./event-payload.ts";
import { eventSubject, queueAttempt } from "./fan-out.ts";
import { HookReach } from "./hook-reach.ts";
import { type SendResult, sendWebhookRequest } from "./send-request.ts";
import { deliveryHeaders } from "./sign.ts";
import { checkWebhookUrl } from "./url-guard.ts";
import type { WebhookRow } from "./webhook-view.ts";

type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** A `webhook.deliver` job's payload. */
export function deliverJobOf(payload: Record<string, unknown>): {
  deliveryId: string;
  attempt: number;
} {
  const { deliveryId, attempt } = payload;
  if (typeof deliveryId !== "string" || typeof attempt !== "number") {
    throw new Error(`Malformed webhook.deliver payload: ${JSON.stringify(payload).slice(0, 200)}`);
  }
  return { deliveryId, attempt };
}

/**
 * The `webhook.deliver` job: make one attempt of one delivery. Before sending it checks again that
 * the hook is active, that its owner may still receive the event (hook-reach.ts) and that its URL
 * still passes the SSRF guard (DNS again); then it POSTs to the address that was checked (no second
 * lookup, no redirects, deps.webhooks.timeoutMs, 4 KiB of answer). It records the attempt and, on
 * failure, the next attempt's row and job (or `permanently_failed` after the schedule), in one
 * transaction opened after the request is over. Resolves once the attempt is recorded; a re-run
 * of a recorded attempt does nothing.
 */
export async function deliverAttempt(
  deps: Deps,
  job: { deliveryId: string; attempt: number },
): Promise<void> {
  const [row] = await deps.db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.deliveryId, job.deliveryId),
        eq(webhookDeliveries.attempt, job.attempt),
      ),
    )
    .limit(1);
  if (row?.status !== "pending") return;
  const [hook] = await deps.db.select().from(webhooks).where(eq(webhooks.id, row.webhookId));
  if (!hook) return; // deleted: its rows went with it
  if (!hook.active) {
    await closeUnsent(deps, row, "The hook is disabled; this delivery was not sent.");
    return;
  }
  const body = row.payload as Partial<EventPayload>;
  const { subject } = await eventSubject(deps.db, {
    type: row.event,
    packageName: body.package?.name ?? null,
    orgSlug: body.org?.slug ?? null,
    userId: hook.userId,
  });
  if (!(await new HookReach(deps.db, subject).receives(hook))) {
    await closeUnsent(
      deps,
      row,
      "The hook's owner may no longer receive this event (access to what it is about was lost); it was not sent.",
    );
    return;
  }
  const at = deps.now();
  const raw = JSON.stringify(row.payload);
  const headers = deliveryHeaders({
    secret: hook.secret,
    deliveryId: row.deliveryId,
    event: row.event,
    body: raw,
    at,
  });
  let result: SendResult;
  try {
    const target = await checkWebhookUrl(deps.webhooks, hook.url);
    result = await sendWebhookRequest(target, headers, raw, deps.webhooks.timeoutMs);
  } catch (err) {
    if (!(err instanceof PackrError)) throw err;
    result = { status: null, body: null, error: `Not sent: ${err.message}`, durationMs: 0 };
  }
  await recordAttempt(deps, row, hook, headers, result, at);
}

/** Close a pending attempt that will not be sent (hook off, access lost): no retry, no failure count. */
async function closeUnsent(deps: Deps, row: DeliveryRow, error: string): Promise<void> {
  await deps.db
    .update(webhookDeliveries)
    .set({ status: "permanently_failed", error, attemptedAt: deps.now(), nextAttemptAt: null })
    .where(and(eq(webhookDeliveries.id, row.id), eq(webhookDeliveries.status, "pending")));
}

async function recordAttempt(
  deps: Deps,
  row: DeliveryRow,
  hook: WebhookRow,
  headers: Record<string, string>,
  result: SendResult,
  attemptedAt: Date,
): Promise<void> {
  const ok = result.error === null;
  const now = deps.now();
  const delay = deps.webhooks.retryScheduleMs[row.attempt - 1];
  await deps.db
    .transaction(async (tx) => {
      let disable = false;
      if (!ok) {
        const [state] = await tx
          .update(webhooks)
          .set({
            failingSince: sql`coalesce(${webhooks.failingSince}, ${now.toISOString()}::timestamptz)`,
          })
          .where(eq(webhooks.id, hook.id))
          .returning({ failingSince: webhooks.failingSince, active: webhooks.active });
        disable =
          state?.active === true &&
          state.failingSince !== null &&
          now.getTime() - state.failingSince.getTime() >= deps.webhooks.disableAfterMs;
      }
      const retry = !ok && !disable && delay !== undefined;
      const nextAt = retry ? new Date(now.getTime() + delay) : null;
      const recorded = await tx
        .update(webhookDeliveries)
        .set({
          status: ok ? "succeeded" : retry ? "failed" : "permanently_failed",
          requestHeaders: headers,
          responseStatus: result.status,
          responseBody: result.body,
          error: result.error,
          durationMs: result.durationMs,
          attemptedAt,
          nextAttemptAt: nextAt,
        })
        .where(and(eq(webhookDeliveries.id, row.id), eq(webhookDeliveries.status, "pending")))
        .returning({ id: webhookDeliveries.id });
      // Recorded by another run of this job meanwhile: that run's record stands (and rolls ours back).
      if (recorded.length === 0) {
        tx.rollback();
        return;
      }
      if (ok) {
        await tx
          .update(webhooks)
          .set({ failingSince: null })
          .where(and(eq(webhooks.id, hook.id), sql`${webhooks.failingSince} is not null`));
      }
      if (retry && nextAt) {
        await queueAttempt(tx, {
          deliveryId: row.deliveryId,
          webhookId: row.webhookId,
          eventId: row.eventId,
          event: row.event,
          payload: row.payload,
          attempt: row.attempt + 1,
          at: nextAt,
        });
      }
      if (disable) {
        const days = Math.round((deps.webhooks.disableAfterMs / 86_400_000) * 10) / 10;
        await disableHook(
          tx,
          deps,
          hook,
          `Every delivery failed for ${days >= 1 ? `${days} days` : `${deps.webhooks.disableAfterMs} ms`}; last error: ${(result.error ?? "").slice(0, 300)}`,
          now,
        );
      }
    })
    .catch((err: unknown) => {
      // tx.rollback() throws to end the transaction: that is the "already recorded" case.
      if (err instanceof TransactionRollbackError) return;
      throw err;
    });
}
