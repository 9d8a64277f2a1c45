import { and, eq } from "drizzle-orm";
import { isAdminPrincipal, requirePrincipal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { orgMembers, webhooks } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";

/*
 * MINIMAL STAND-IN written by s/hooks-delivery for its delivery routes; the contract gives
 * s/hooks-api this file, and its version is the one to keep at merge.
 */

export type WebhookRow = typeof webhooks.$inferSelect;

const hookNotFound = () =>
  new PackrError("NOT_FOUND", "There is no such webhook among the ones you manage.");

/**
 * The hook, if the caller may manage it: its owner user, an admin of its owning org, or a
 * platform admin. Anyone else — and a hook that does not exist — gets the same 404. Tokens of the
 * CI roles manage no hooks.
 */
export async function loadManagedWebhook(
  deps: ServiceContext["deps"],
  ctx: ServiceContext,
  id: string,
): Promise<WebhookRow> {
  const principal = requirePrincipal(ctx.actor, "manage webhooks");
  if (principal.via === "token" && principal.role !== "maintainer" && principal.role !== "admin") {
    throw new PackrError(
      "FORBIDDEN",
      `A ${principal.role} token cannot manage webhooks: use the dashboard, or a maintainer or admin token.`,
    );
  }
  if (id.length > 100) throw hookNotFound();
  const [hook] = await deps.db.select().from(webhooks).where(eq(webhooks.id, id)).limit(1);
  if (!hook) throw hookNotFound();
  if (isAdminPrincipal(principal)) return hook;
  if (hook.userId !== null) {
    if (hook.userId === principal.userId) return hook;
    throw hookNotFound();
  }
  const [member] = await deps.db
    .select({ role: orgMembers.role })
    .from(orgMembers)
    .where(and(eq(orgMembers.orgId, hook.orgId ?? ""), eq(orgMembers.userId, principal.userId)))
    .limit(1);
  if (member?.role === "admin") return hook;
  throw hookNotFound();
}
