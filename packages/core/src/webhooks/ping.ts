import type { ServiceContext } from "../context.ts";
import { PackrError } from "../errors.ts";
import { eventActor } from "../events/emit-event.ts";
import { newId } from "../ids.ts";
import type { EventPayload } from "./event-payload.ts";
import { freshDeliveryId, queueAttempt } from "./fan-out.ts";
import { loadManagedWebhook } from "./webhook-access.ts";

/**
 * `POST …/{id}/test`: queue a `ping` to the hook (never sent during the request: a job sends it,
 * signed and retried like any delivery). Its body has the shape of every event, with `hook`
 * naming the hook. A disabled hook is refused: enable it first.
 */
export async function pingWebhook(
  deps: ServiceContext["deps"],
  ctx: ServiceContext,
  hookId: string,
): Promise<{ deliveryId: string }> {
  const hook = await loadManagedWebhook(deps, ctx, hookId);
  if (!hook.active) {
    throw new PackrError(
      "CONFLICT",
      "This hook is disabled; enable it (PATCH active: true) before testing it.",
    );
  }
  const now = deps.now();
  const actor = eventActor(ctx);
  const payload: EventPayload & { hook: { id: string; events: string[] } } = {
    id: newId("evt"),
    type: "ping",
    createdAt: now.toISOString(),
    actor: {
      type: actor.type === "token" ? "token" : actor.type === "user" ? "user" : "system",
      name: actor.name,
    },
    registry: deps.publicUrl(),
    hook: { id: hook.id, events: hook.events },
    data: { zen: "Packr hooks deliver at least once; deduplicate on X-Packr-Delivery." },
  };
  const deliveryId = freshDeliveryId();
  await deps.db.transaction((tx) =>
    queueAttempt(tx, {
      deliveryId,
      webhookId: hook.id,
      eventId: payload.id,
      event: "ping",
      payload,
      attempt: 1,
      at: now,
    }),
  );
  return { deliveryId };
}
