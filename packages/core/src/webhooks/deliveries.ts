import { and, desc, eq, lt, or } from "drizzle-orm";
import type { ServiceContext } from "../context.ts";
import { type WEBHOOK_DELIVERY_STATUSES, webhookDeliveries } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { loadManagedWebhook } from "./webhook-access.ts";

type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** One attempt as the deliveries list shows it (newest first). */
export type DeliveryView = {
  id: string;
  deliveryId: string;
  event: string;
  eventId: string;
  attempt: number;
  status: (typeof WEBHOOK_DELIVERY_STATUSES)[number];
  responseStatus: number | null;
  durationMs: number | null;
  error: string | null;
  createdAt: Date;
  attemptedAt: Date | null;
  nextAttemptAt: Date | null;
};

/** One attempt in full: what was sent (headers without the secret, the body) and what came back. */
export type DeliveryDetail = DeliveryView & {
  requestHeaders: Record<string, string> | null;
  payload: Record<string, unknown>;
  responseBody: string | null;
};

export const toDeliveryView = (r: DeliveryRow): DeliveryView => ({
  id: r.id,
  deliveryId: r.deliveryId,
  event: r.event,
  eventId: r.eventId,
  attempt: r.attempt,
  status: r.status,
  responseStatus: r.responseStatus,
  durationMs: r.durationMs,
  error: r.error,
  createdAt: r.createdAt,
  attemptedAt: r.attemptedAt,
  nextAttemptAt: r.nextAttemptAt,
});

export const DELIVERIES_DEFAULT_LIMIT = 30;
export const DELIVERIES_MAX_LIMIT = 100;

const badCursor = () =>
  new PackrError(
    "VALIDATION",
    "The cursor is not one this list gave out; start again without it (use nextCursor from the previous page).",
  );

/** Opaque keyset cursor: the last row's (createdAt, id). */
const encodeCursor = (r: { createdAt: Date; id: string }) =>
  Buffer.from(JSON.stringify([r.createdAt.toISOString(), r.id])).toString("base64url");

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  if (cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw badCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw badCursor();
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== "string" ||
    typeof parsed[1] !== "string"
  ) {
    throw badCursor();
  }
  const createdAt = new Date(parsed[0]);
  if (Number.isNaN(createdAt.getTime())) throw badCursor();
  return { createdAt, id: parsed[1] };
}

/**
 * A hook's attempts, newest first, a page at a time (keyset on (createdAt, id), so a page is as
 * cheap deep in the history as at its start and rows arriving meanwhile shift nothing).
 */
export async function listDeliveries(
  deps: ServiceContext["deps"],
  ctx: ServiceContext,
  hookId: string,
  opts: { cursor?: string | undefined; limit?: number | undefined } = {},
): Promise<{ deliveries: DeliveryView[]; nextCursor: string | null }> {
  const hook = await loadManagedWebhook(deps, ctx, hookId);
  const limit = opts.limit ?? DELIVERIES_DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > DELIVERIES_MAX_LIMIT) {
    throw new PackrError(
      "VALIDATION",
      `limit must be a whole number from 1 to ${DELIVERIES_MAX_LIMIT}; got ${String(limit).slice(0, 20)}.`,
    );
  }
  const after = opts.cursor ? decodeCursor(opts.cursor) : null;
  const rows = await deps.db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.webhookId, hook.id),
        after
          ? or(
              lt(webhookDeliveries.createdAt, after.createdAt),
              and(
                eq(webhookDeliveries.createdAt, after.createdAt),
                lt(webhookDeliveries.id, after.id),
              ),
            )
          : undefined,
      ),
    )
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    deliveries: page.map(toDeliveryView),
    nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
  };
}

/** One attempt of one of the caller's hooks, with what was sent and received; 404 otherwise. */
export async function getDelivery(
  deps: ServiceContext["deps"],
  ctx: ServiceContext,
  hookId: string,
  deliveryRowId: string,
): Promise<DeliveryDetail> {
  const hook = await loadManagedWebhook(deps, ctx, hookId);
  const [row] =
    deliveryRowId.length <= 100
      ? await deps.db
          .select()
          .from(webhookDeliveries)
          .where(
            and(eq(webhookDeliveries.id, deliveryRowId), eq(webhookDeliveries.webhookId, hook.id)),
          )
          .limit(1)
      : [];
  if (!row) {
    throw new PackrError("NOT_FOUND", "This hook has no such delivery attempt.");
  }
  return {
    ...toDeliveryView(row),
    requestHeaders: row.requestHeaders,
    payload: row.payload,
    responseBody: row.responseBody,
  };
}
