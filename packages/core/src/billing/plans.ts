import type { PlanName } from "../db/schema/platform.ts";

/*
 * The plans and what an account may create under each (pure: no database). Limits bound only
 * *creating* packages and scopes; nothing here ever blocks a new version, an install or a read.
 */

export type { PlanName };

/** How many packages and scopes an account may hold; null = unlimited. */
export type Limits = { packages: number | null; scopes: number | null };

/** The self-serve plans; Enterprise's limits are the ones a platform admin set on the account. */
export const PLAN_LIMITS: Record<Exclude<PlanName, "enterprise">, Limits> = {
  free: { packages: 3, scopes: 1 },
  solo: { packages: 20, scopes: 5 },
  team: { packages: 100, scopes: null },
};

/** What the paid self-serve plans cost (USD per year); Stripe's price is what is charged. */
export const PLAN_PRICE_USD_PER_YEAR = { solo: 10, team: 50 } as const;

export const PAID_PLANS = ["solo", "team"] as const;
export type PaidPlan = (typeof PAID_PLANS)[number];

export const planTitle = (plan: PlanName): string =>
  ({ free: "Free", solo: "Solo", team: "Team", enterprise: "Enterprise" })[plan];

/** What the `subscriptions` row says (absent: Free). */
export type SubscriptionState = {
  plan: PlanName;
  status: string;
  packageLimit: number | null;
  scopeLimit: number | null;
  pastDueSince: Date | null;
};

/**
 * Where an account stands: `free` (no paid plan), `active` (paid, or trialing), `grace` (a
 * payment failed less than the grace ago: the plan's limits still apply), `lapsed` (past due for
 * longer than the grace: Free limits), `inactive` (canceled, unpaid, incomplete: Free limits).
 */
export type Standing = {
  plan: PlanName;
  status: string;
  state: "free" | "active" | "grace" | "lapsed" | "inactive";
  /** The limits that apply now. */
  limits: Limits;
  /** Past due: when the plan's limits stop applying (or stopped). */
  graceEndsAt: Date | null;
};

const ACTIVE = new Set(["active", "trialing"]);

export function standing(sub: SubscriptionState | null, now: Date, graceMs: number): Standing {
  if (!sub || sub.plan === "free") {
    return {
      plan: "free",
      status: sub?.status ?? "active",
      state: "free",
      limits: PLAN_LIMITS.free,
      graceEndsAt: null,
    };
  }
  const own: Limits =
    sub.plan === "enterprise"
      ? { packages: sub.packageLimit, scopes: sub.scopeLimit }
      : PLAN_LIMITS[sub.plan];
  const base = { plan: sub.plan, status: sub.status };
  if (ACTIVE.has(sub.status)) return { ...base, state: "active", limits: own, graceEndsAt: null };
  if (sub.status === "past_due") {
    const graceEndsAt = new Date((sub.pastDueSince ?? now).getTime() + graceMs);
    return now < graceEndsAt
      ? { ...base, state: "grace", limits: own, graceEndsAt }
      : { ...base, state: "lapsed", limits: PLAN_LIMITS.free, graceEndsAt };
  }
  return { ...base, state: "inactive", limits: PLAN_LIMITS.free, graceEndsAt: null };
}
