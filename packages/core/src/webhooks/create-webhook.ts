import { count, eq } from "drizzle-orm";
import { emitAudit } from "../audit/emit-audit.ts";
import type { ServiceContext } from "../context.ts";
import { orgs, users, webhooks } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { newId } from "../ids.ts";
import { manageOrg } from "../orgs/org-access.ts";
import { parseWebhookEvents } from "./event-types.ts";
import { parseHookScope } from "./hook-scope.ts";
import { hookScopeWithin, requireHookManager } from "./webhook-access.ts";
import { MAX_WEBHOOKS_PER_OWNER, parseWebhookUrl, webhookSecret } from "./webhook-input.ts";
import { type WebhookView, webhookView } from "./webhook-view.ts";

export type CreateWebhookInput = {
  url: string;
  events: readonly string[];
  /** At least 16 characters; generated (`whsec_…`) when absent. */
  secret?: string | undefined;
  scope?: string | null | undefined;
  /** The org that owns the hook (its admins manage it); absent: the caller's own hook. */
  orgSlug?: string | undefined;
};

/**
 * Create a hook owned by the caller or, with `orgSlug`, by an org the caller administers (or any
 * org, for a platform admin). The URL is checked at save as every delivery checks it again. The
 * secret is answered here and never again (like a token); the audit row holds neither it nor the
 * URL's path (hook URLs often carry a credential of their own, e.g. Slack's), only its host.
 */
export async function createWebhook(args: {
  ctx: ServiceContext;
  input: CreateWebhookInput;
}): Promise<{ webhook: WebhookView; secret: string }> {
  const { ctx, input } = args;
  const p = requireHookManager(ctx, "create webhooks");
  const managed =
    input.orgSlug !== undefined
      ? await manageOrg(ctx, input.orgSlug, "manage the org's webhooks")
      : null;
  const events = parseWebhookEvents(input.events);
  const scope = parseHookScope(input.scope);
  if (!managed && p.scopes.length > 0 && !hookScopeWithin(scope, p.scopes)) {
    throw new PackrError(
      "SCOPE_FORBIDDEN",
      `This token is restricted to ${p.scopes.join(", ")}; its webhooks must have a scope inside them (e.g. --scope ${p.scopes[0]}).`,
      { details: { allowedScopes: [...p.scopes] } },
    );
  }
  const secret = webhookSecret(input.secret);
  const url = await parseWebhookUrl(ctx.deps.webhooks, input.url);
  const now = ctx.deps.now();
  const owner = managed
    ? ({ type: "org", slug: managed.org.name } as const)
    : ({ type: "user", name: p.userName } as const);
  const row = await ctx.deps.db.transaction(async (tx) => {
    // The owner's row, locked: two creates at once cannot both pass the limit.
    if (managed) {
      await tx.select({ id: orgs.id }).from(orgs).where(eq(orgs.id, managed.org.id)).for("update");
    } else {
      await tx.select({ id: users.id }).from(users).where(eq(users.id, p.userId)).for("update");
    }
    const [existing] = await tx
      .select({ n: count() })
      .from(webhooks)
      .where(managed ? eq(webhooks.orgId, managed.org.id) : eq(webhooks.userId, p.userId));
    if ((existing?.n ?? 0) >= MAX_WEBHOOKS_PER_OWNER) {
      throw new PackrError(
        "CONFLICT",
        `${owner.type === "org" ? `@${owner.slug}` : p.userName} already has ${MAX_WEBHOOKS_PER_OWNER} webhooks, the most one owner may have; delete one first.`,
        { details: { limit: MAX_WEBHOOKS_PER_OWNER } },
      );
    }
    const [inserted] = await tx
      .insert(webhooks)
      .values({
        id: newId("whk"),
        orgId: managed?.org.id ?? null,
        userId: managed ? null : p.userId,
        url,
        secret,
        events,
        scope,
        active: true,
        createdBy: p.userId,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    if (!inserted) throw new Error("webhook insert returned nothing");
    await emitAudit(tx, ctx, {
      action: "webhook.create",
      targetType: "webhook",
      targetId: inserted.id,
      orgId: managed?.org.id ?? null,
      data: { owner, urlHost: new URL(url).host, events, scope },
    });
    return inserted;
  });
  return { webhook: webhookView(row, owner), secret };
}
