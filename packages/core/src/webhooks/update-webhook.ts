import { eq } from "drizzle-orm";
import { emitAudit } from "../audit/emit-audit.ts";
import { isAdminPrincipal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { webhooks } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { parseWebhookEvents } from "./event-types.ts";
import { parseHookScope } from "./hook-scope.ts";
import {
  hookScopeWithin,
  loadManagedWebhook,
  requireHookManager,
  webhookNotFound,
} from "./webhook-access.ts";
import { parseWebhookUrl } from "./webhook-input.ts";
import { type WebhookView, webhookViewOf } from "./webhook-view.ts";

export type UpdateWebhookInput = {
  id: string;
  url?: string | undefined;
  events?: readonly string[] | undefined;
  /** `true` turns a paused or disabled hook back on and forgets its failures; `false` pauses it. */
  active?: boolean | undefined;
  /** null clears the scope. */
  scope?: string | null | undefined;
};

/**
 * Change a hook the caller manages: its URL (checked again, as at creation), events, scope, or
 * whether it is active. Turning it on clears `disabledAt`, `disabledReason` and `failingSince`, so
 * the three-day clock of automatic disabling starts afresh. One audit row names what changed.
 */
export async function updateWebhook(args: {
  ctx: ServiceContext;
  input: UpdateWebhookInput;
}): Promise<WebhookView> {
  const { ctx, input } = args;
  const p = requireHookManager(ctx, "change webhooks");
  const current = await loadManagedWebhook(ctx.deps, ctx, input.id);
  if (
    input.url === undefined &&
    input.events === undefined &&
    input.active === undefined &&
    input.scope === undefined
  ) {
    throw new PackrError(
      "VALIDATION",
      "Nothing to change: send at least one of url, events, scope and active.",
    );
  }
  const events = input.events === undefined ? undefined : parseWebhookEvents(input.events);
  const scope = input.scope === undefined ? undefined : parseHookScope(input.scope);
  if (
    scope !== undefined &&
    current.userId !== null &&
    p.scopes.length > 0 &&
    !isAdminPrincipal(p) &&
    !hookScopeWithin(scope, p.scopes)
  ) {
    throw new PackrError(
      "SCOPE_FORBIDDEN",
      `This token is restricted to ${p.scopes.join(", ")}; the webhook's scope must stay inside them.`,
      { details: { allowedScopes: [...p.scopes] } },
    );
  }
  const url =
    input.url === undefined ? undefined : await parseWebhookUrl(ctx.deps.webhooks, input.url);
  const now = ctx.deps.now();
  const row = await ctx.deps.db.transaction(async (tx) => {
    const [locked] = await tx
      .select()
      .from(webhooks)
      .where(eq(webhooks.id, current.id))
      .for("update");
    if (!locked) throw webhookNotFound(input.id);
    const set: Partial<typeof webhooks.$inferInsert> = {};
    const from: Record<string, unknown> = {};
    const to: Record<string, unknown> = {};
    if (url !== undefined && url !== locked.url) {
      set.url = url;
      from.urlHost = new URL(locked.url).host;
      to.urlHost = new URL(url).host;
      to.urlChanged = true;
    }
    if (events !== undefined && events.join(",") !== locked.events.join(",")) {
      set.events = events;
      from.events = locked.events;
      to.events = events;
    }
    if (scope !== undefined && scope !== locked.scope) {
      set.scope = scope;
      from.scope = locked.scope;
      to.scope = scope;
    }
    if (input.active === true && (!locked.active || locked.disabledAt || locked.failingSince)) {
      Object.assign(set, {
        active: true,
        disabledAt: null,
        disabledReason: null,
        failingSince: null,
      });
      from.active = locked.active;
      to.active = true;
    } else if (input.active === false && locked.active) {
      set.active = false;
      from.active = true;
      to.active = false;
    }
    if (Object.keys(set).length === 0) return locked;
    const [updated] = await tx
      .update(webhooks)
      .set({ ...set, updatedAt: now })
      .where(eq(webhooks.id, locked.id))
      .returning();
    await emitAudit(tx, ctx, {
      action: "webhook.update",
      targetType: "webhook",
      targetId: locked.id,
      orgId: locked.orgId,
      data: { from, to },
    });
    return updated ?? locked;
  });
  return webhookViewOf(ctx.deps.db, row);
}
