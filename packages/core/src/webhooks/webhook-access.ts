import { eq } from "drizzle-orm";
import { isAdminPrincipal, type Principal, requirePrincipal } from "../auth/principal.ts";
import type { Deps, ServiceContext } from "../context.ts";
import { orgs, webhooks } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { orgRoleOf } from "../orgs/org-access.ts";
import type { WebhookRow } from "./webhook-view.ts";

/**
 * Who may manage webhooks at all: a person, i.e. a dashboard session or a token whose role is
 * `maintainer` or `admin`. CI tokens (`ci-readonly`, `ci-publish`) neither see nor change hooks: a
 * hook's URL and its deliveries' payloads are an owner's business, and a leaked CI token must not
 * be able to point the registry's events somewhere else.
 */
export function requireHookManager(ctx: ServiceContext, action: string): Principal {
  const p = requirePrincipal(ctx.actor, action);
  if (p.via === "token" && p.role !== "maintainer" && p.role !== "admin") {
    throw new PackrError(
      "FORBIDDEN",
      `A ${p.role} token cannot ${action}: managing webhooks needs a person, signed in to the dashboard or with a maintainer or admin token.`,
      { details: { role: p.role } },
    );
  }
  return p;
}

/**
 * Does a token restricted to npm scopes cover a user hook of this scope? Only when the hook is
 * narrowed to one of those scopes (`@acme`, `@acme/ui`, `@acme/ui-*` for a token of `@acme`): a
 * hook without a scope would carry events about every package its owner may read.
 */
export function hookScopeWithin(scope: string | null, tokenScopes: readonly string[]): boolean {
  if (scope === null || !scope.startsWith("@")) return false;
  const npmScope = scope.split("/")[0] ?? "";
  if (npmScope.includes("*")) return false;
  return tokenScopes.some((s) => s.toLowerCase() === npmScope);
}

/** The 404 for a hook that does not exist or that the caller may not manage: the same sentence. */
export const webhookNotFound = (id: string): PackrError =>
  new PackrError(
    "NOT_FOUND",
    `There is no webhook ${JSON.stringify(id.length > 60 ? `${id.slice(0, 60)}…` : id)} that you manage. List yours with GET /api/v1/admin/webhooks (or ?org=<slug> for an org's).`,
    { details: { webhook: id.slice(0, 100) } },
  );

/**
 * The hook of this id if the caller may manage it: its owner user, an admin of its owning org
 * (their role read now, never from the token), or a platform admin. Anyone else gets the same 404
 * as for a hook that does not exist, so hook ids reveal nothing. A token restricted to npm scopes
 * manages only the hooks of those scopes (org hooks of those orgs, user hooks narrowed to them).
 * Every other webhook verb (the delivery ones too) starts here.
 */
export async function loadManagedWebhook(
  deps: Deps,
  ctx: ServiceContext,
  id: string,
): Promise<WebhookRow> {
  const p = requireHookManager(ctx, "manage webhooks");
  if (!/^whk_[a-z0-9]{1,60}$/.test(id)) throw webhookNotFound(id);
  const [row] = await deps.db.select().from(webhooks).where(eq(webhooks.id, id)).limit(1);
  if (!row) throw webhookNotFound(id);
  if (isAdminPrincipal(p)) return row;
  if (row.userId !== null) {
    if (row.userId !== p.userId) throw webhookNotFound(id);
    if (p.scopes.length > 0 && !hookScopeWithin(row.scope, p.scopes)) throw webhookNotFound(id);
    return row;
  }
  if (row.orgId === null) throw webhookNotFound(id);
  const role = await orgRoleOf(deps.db, row.orgId, p.userId);
  if (role !== "admin") throw webhookNotFound(id);
  if (p.scopes.length > 0) {
    const [org] = await deps.db
      .select({ name: orgs.name })
      .from(orgs)
      .where(eq(orgs.id, row.orgId))
      .limit(1);
    if (!org || !p.scopes.some((s) => s.toLowerCase() === `@${org.name}`)) {
      throw webhookNotFound(id);
    }
  }
  return row;
}
