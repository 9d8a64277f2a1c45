import { asc, eq } from "drizzle-orm";
import type { ServiceContext } from "../context.ts";
import { webhooks } from "../db/schema/index.ts";
import { manageOrg } from "../orgs/org-access.ts";
import { hookScopeWithin, requireHookManager } from "./webhook-access.ts";
import { type WebhookView, webhookViews } from "./webhook-view.ts";

/**
 * The caller's own hooks, or with `org` the org's (its admins and platform admins; other members
 * get the 403 that names their role, non-members the org routes' 404). Oldest first. A token
 * restricted to npm scopes sees only its scopes' hooks.
 */
export async function listWebhooks(args: {
  ctx: ServiceContext;
  input?: { org?: string | undefined };
}): Promise<WebhookView[]> {
  const { ctx } = args;
  const p = requireHookManager(ctx, "list webhooks");
  const org = args.input?.org;
  if (org !== undefined) {
    const managed = await manageOrg(ctx, org, "see the org's webhooks");
    const rows = await ctx.deps.db
      .select()
      .from(webhooks)
      .where(eq(webhooks.orgId, managed.org.id))
      .orderBy(asc(webhooks.createdAt), asc(webhooks.id));
    return webhookViews(ctx.deps.db, rows);
  }
  const rows = await ctx.deps.db
    .select()
    .from(webhooks)
    .where(eq(webhooks.userId, p.userId))
    .orderBy(asc(webhooks.createdAt), asc(webhooks.id));
  const visible =
    p.scopes.length > 0 ? rows.filter((r) => hookScopeWithin(r.scope, p.scopes)) : rows;
  return webhookViews(ctx.deps.db, visible);
}
