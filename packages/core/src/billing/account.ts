import { eq } from "drizzle-orm";
import { type Principal, requirePrincipal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import type { Queryable } from "../db/client.ts";
import { subscriptions } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { manageOrg, requireOrgManager, viewOrg } from "../orgs/org-access.ts";
import type { BillingAccount } from "./limits.ts";
import type { Billing } from "./stripe-client.ts";

export type SubscriptionRow = typeof subscriptions.$inferSelect;

/** Billing's routes exist only with STRIPE_SECRET_KEY; without it they are a 404 that says why. */
export function requireBilling(ctx: ServiceContext): Billing {
  if (!ctx.deps.billing) {
    throw new PackrError(
      "NOT_FOUND",
      "Billing is not enabled on this registry (STRIPE_SECRET_KEY is not set): there are no plans and no limits.",
    );
  }
  return ctx.deps.billing;
}

export type ResolvedAccount = { account: BillingAccount; name: string; principal: Principal };

/**
 * The account a billing call is about: the org `org` (its members may look, its admins and
 * platform admins may buy and manage — others get the org routes' 404), or without `org` the
 * caller's own personal account (buying and managing it needs a person: a session or a
 * maintainer/admin token, never a CI token).
 */
export async function resolveAccount(
  ctx: ServiceContext,
  org: string | undefined,
  mode: "view" | "manage",
  action: string,
): Promise<ResolvedAccount> {
  if (org !== undefined) {
    const v =
      mode === "manage" ? await manageOrg(ctx, org, action) : await viewOrg(ctx, org, action);
    return { account: { kind: "org", id: v.org.id }, name: v.org.name, principal: v.principal };
  }
  const principal =
    mode === "manage" ? requireOrgManager(ctx, action) : requirePrincipal(ctx.actor, action);
  return {
    account: { kind: "user", id: principal.userId },
    name: principal.userName,
    principal,
  };
}

/** The account's subscription row (none: Free), optionally locked for the caller's transaction. */
export async function findSubscription(
  q: Queryable,
  account: BillingAccount,
): Promise<SubscriptionRow | null> {
  const [row] = await q
    .select()
    .from(subscriptions)
    .where(
      account.kind === "org"
        ? eq(subscriptions.orgId, account.id)
        : eq(subscriptions.userId, account.id),
    )
    .limit(1);
  return row ?? null;
}

/** `org:<id>` / `user:<id>`: how Stripe objects (metadata, client_reference_id) name an account. */
export const accountKey = (a: BillingAccount): string => `${a.kind}:${a.id}`;

export function parseAccountKey(key: unknown): BillingAccount | null {
  if (typeof key !== "string") return null;
  const m = /^(org|user):([A-Za-z0-9_-]{1,100})$/.exec(key);
  if (!m?.[1] || !m[2]) return null;
  return { kind: m[1] as "org" | "user", id: m[2] };
}
