import type { ServiceContext } from "../context.ts";
import type { PlanName } from "../db/schema/platform.ts";
import { findSubscription, requireBilling, resolveAccount } from "./account.ts";
import { type Limits, loadAccountUsage, upgradeUrl } from "./limits.ts";
import { planTitle, type Standing, standing } from "./plans.ts";

export type BillingView = {
  account: { type: "org" | "user"; name: string };
  plan: PlanName;
  planTitle: string;
  /** Stripe's status of the subscription (`active` without one). */
  status: string;
  state: Standing["state"];
  /** The limits that apply now (null = unlimited). */
  limits: Limits;
  usage: { packages: number; scopes: number };
  currentPeriodEnd: Date | null;
  graceEndsAt: Date | null;
  upgradeUrl: string;
  /** Whether a Stripe customer exists, i.e. the customer portal can be opened. */
  hasCustomer: boolean;
};

/**
 * An account's plan, status, limits, usage and period end: an org's (`org`: its members and
 * platform admins), or the caller's personal account. 404 when billing is off.
 */
export async function getBilling(args: {
  ctx: ServiceContext;
  input: { org?: string | undefined };
}): Promise<BillingView> {
  const { ctx } = args;
  const billing = requireBilling(ctx);
  const { account, name } = await resolveAccount(ctx, args.input.org, "view", "see billing");
  const db = ctx.deps.db;
  const [sub, packages, scopes] = await Promise.all([
    findSubscription(db, account),
    loadAccountUsage(db, account, "packages"),
    loadAccountUsage(db, account, "scopes"),
  ]);
  const st = standing(packages?.sub ?? null, ctx.deps.now(), billing.config.graceMs);
  return {
    account: { type: account.kind, name },
    plan: st.plan,
    planTitle: planTitle(st.plan),
    status: st.status,
    state: st.state,
    limits: st.limits,
    usage: { packages: packages?.used ?? 0, scopes: scopes?.used ?? 0 },
    currentPeriodEnd: sub?.currentPeriodEnd ?? null,
    graceEndsAt: st.graceEndsAt,
    upgradeUrl: upgradeUrl(billing.config.billingUrl, account, name),
    hasCustomer: Boolean(sub?.stripeCustomerId),
  };
}
