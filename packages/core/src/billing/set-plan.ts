import { emitAudit } from "../audit/emit-audit.ts";
import { requireAdminPrincipal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { subscriptions } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { newId } from "../ids.ts";
import { requireUser } from "../orgs/find-user.ts";
import { findOrg, orgNotFound } from "../orgs/org-access.ts";
import { parseOrgSlug } from "../orgs/org-names.ts";
import { findSubscription, requireBilling } from "./account.ts";
import type { BillingAccount } from "./limits.ts";

/**
 * A platform admin sets an account's plan by hand: Enterprise with custom limits (null =
 * unlimited), or back to Free. Stripe-managed plans change through Checkout and the portal; this
 * leaves the Stripe ids on the row as they are.
 */
export async function setAccountPlan(args: {
  ctx: ServiceContext;
  input: {
    org?: string | undefined;
    user?: string | undefined;
    plan: "enterprise" | "free";
    packages?: number | null | undefined;
    scopes?: number | null | undefined;
  };
}): Promise<{ plan: "enterprise" | "free"; packages: number | null; scopes: number | null }> {
  const { ctx, input } = args;
  requireBilling(ctx);
  requireAdminPrincipal(ctx.actor, "set an account's plan");
  if ((input.org === undefined) === (input.user === undefined)) {
    throw new PackrError("VALIDATION", "Name exactly one account: org or user.");
  }
  let account: BillingAccount;
  if (input.org !== undefined) {
    const slug = parseOrgSlug(input.org);
    const org = await findOrg(ctx.deps.db, slug);
    if (!org) throw orgNotFound(slug);
    account = { kind: "org", id: org.id };
  } else {
    const user = await requireUser(ctx.deps.db, input.user as string);
    account = { kind: "user", id: user.id };
  }
  const packages = input.plan === "enterprise" ? (input.packages ?? null) : null;
  const scopes = input.plan === "enterprise" ? (input.scopes ?? null) : null;
  await ctx.deps.db.transaction(async (tx) => {
    const before = await findSubscription(tx, account);
    const now = ctx.deps.now();
    const values = {
      plan: input.plan,
      status: input.plan === "enterprise" ? "active" : (before?.status ?? "active"),
      packageLimit: packages,
      scopeLimit: scopes,
      pastDueSince: null,
      updatedAt: now,
    };
    await tx
      .insert(subscriptions)
      .values({
        id: newId("sub"),
        orgId: account.kind === "org" ? account.id : null,
        userId: account.kind === "user" ? account.id : null,
        ...values,
        createdAt: now,
      })
      .onConflictDoUpdate({
        target: account.kind === "org" ? subscriptions.orgId : subscriptions.userId,
        set: values,
      });
    await emitAudit(tx, ctx, {
      action: "billing.plan_changed",
      targetType: account.kind,
      targetId: account.id,
      orgId: account.kind === "org" ? account.id : null,
      data: {
        from: { plan: before?.plan ?? "free", status: before?.status ?? null },
        to: { plan: input.plan, status: values.status },
        limits: { packages, scopes },
        by: "platform-admin",
      },
    });
  });
  return { plan: input.plan, packages, scopes };
}
