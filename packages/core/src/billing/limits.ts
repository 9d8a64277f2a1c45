import { eq, sql } from "drizzle-orm";
import { isAdminToken } from "../auth/policy.ts";
import type { CreateDecision } from "../auth/write-rule.ts";
import type { Deps, TokenActor } from "../context.ts";
import type { Queryable } from "../db/client.ts";
import { orgs, subscriptions, users } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import type { PackageName } from "../packages/names.ts";
import {
  type Limits,
  planTitle,
  type Standing,
  type SubscriptionState,
  standing,
} from "./plans.ts";

/*
 * Plan limits (billing on). They apply to creating a package (the first publish of a name) and
 * creating a scope (an org, including the org a first publish claims), for every token kind, CI
 * tokens included. Nothing else is ever checked: a new version of an existing package, an
 * install and a read never reach this file. Billing off (no STRIPE_SECRET_KEY), every function
 * here returns before touching the database.
 *
 * Who pays: a package in an org's scope counts against the org; any other package (unscoped, or
 * in the user's own scope) against the personal account of the user whose token creates it. A
 * scope (an org) counts against the personal account of the user who creates it. A platform
 * administrator acting as one is not limited (they set Enterprise limits).
 *
 * The check is one small query, made in the publish's own transaction; two creations racing on
 * PostgreSQL may both pass at the boundary (the limit is a plan's bound, not a lock).
 */

/** A billing account: an org, or a user's personal account. */
export type BillingAccount = { kind: "org"; id: string } | { kind: "user"; id: string };

export type Resource = "packages" | "scopes";

/** The account's subscription, its name, and how many of `resource` it holds — in one query. */
export async function loadAccountUsage(
  q: Queryable,
  account: BillingAccount,
  resource: Resource,
): Promise<{ name: string; sub: SubscriptionState | null; used: number } | null> {
  const cols = {
    plan: subscriptions.plan,
    status: subscriptions.status,
    packageLimit: subscriptions.packageLimit,
    scopeLimit: subscriptions.scopeLimit,
    pastDueSince: subscriptions.pastDueSince,
  };
  // Registered names count (rev > 0: the in-flight first publish's own row is rev 0 until commit).
  const rows =
    account.kind === "org"
      ? await q
          .select({
            ...cols,
            name: orgs.name,
            used:
              resource === "packages"
                ? sql<number>`(select count(*) from packages p where p.org_id = ${orgs.id} and p.rev > 0)`.mapWith(
                    Number,
                  )
                : sql<number>`1`.mapWith(Number),
          })
          .from(orgs)
          .leftJoin(subscriptions, eq(subscriptions.orgId, orgs.id))
          .where(eq(orgs.id, account.id))
      : await q
          .select({
            ...cols,
            name: users.name,
            used:
              resource === "packages"
                ? sql<number>`(select count(*) from packages p where p.created_by = ${users.id} and p.org_id is null and p.rev > 0)`.mapWith(
                    Number,
                  )
                : sql<number>`(select count(*) from orgs o where o.created_by = ${users.id})`.mapWith(
                    Number,
                  ),
          })
          .from(users)
          .leftJoin(subscriptions, eq(subscriptions.userId, users.id))
          .where(eq(users.id, account.id));
  const [row] = rows;
  if (!row) return null;
  const sub =
    row.plan === null || row.status === null
      ? null
      : {
          plan: row.plan,
          status: row.status,
          packageLimit: row.packageLimit,
          scopeLimit: row.scopeLimit,
          pastDueSince: row.pastDueSince,
        };
  return { name: row.name, sub, used: row.used };
}

/**
 * Refuse creating a package whose owning account is at its plan's package limit, or (a first
 * publish claiming a scope) a user at their scope limit. `decision` is decideCreate's answer.
 */
export async function assertPlanAllowsPackage(
  q: Queryable,
  deps: Pick<Deps, "billing" | "now">,
  token: TokenActor,
  name: PackageName,
  decision: CreateDecision,
): Promise<void> {
  if (!deps.billing || isAdminToken(token)) return;
  if (decision.kind === "claim") {
    await assertPlanAllowsScope(q, deps, token.userId, decision.org);
    return;
  }
  const account: BillingAccount =
    decision.kind === "org"
      ? { kind: "org", id: decision.orgId }
      : { kind: "user", id: token.userId };
  await assertBelowLimit(q, deps, account, "packages", name.name);
}

/** Refuse creating the org `slug` when its creator's personal plan holds no more scopes. */
export async function assertPlanAllowsScope(
  q: Queryable,
  deps: Pick<Deps, "billing" | "now">,
  userId: string,
  slug: string,
): Promise<void> {
  if (!deps.billing) return;
  await assertBelowLimit(q, deps, { kind: "user", id: userId }, "scopes", `the org @${slug}`);
}

async function assertBelowLimit(
  q: Queryable,
  deps: Pick<Deps, "billing" | "now">,
  account: BillingAccount,
  resource: Resource,
  creating: string,
): Promise<void> {
  const billing = deps.billing;
  if (!billing) return;
  const usage = await loadAccountUsage(q, account, resource);
  if (!usage) return;
  const st = standing(usage.sub, deps.now(), billing.config.graceMs);
  const limit = st.limits[resource];
  if (limit === null || usage.used < limit) return;
  throw limitExceeded({
    account,
    accountName: usage.name,
    standing: st,
    resource,
    limit,
    used: usage.used,
    creating,
    upgradeUrl: upgradeUrl(billing.config.billingUrl, account, usage.name),
  });
}

/** The billing page for this account: `<billing>?org=acme` for an org, `<billing>` for a person. */
export const upgradeUrl = (billingUrl: string, account: BillingAccount, name: string): string =>
  account.kind === "org" ? `${billingUrl}?org=${encodeURIComponent(name)}` : billingUrl;

/**
 * The sentence npm prints: whose plan, its limit, the usage, what was refused, where to upgrade.
 * "@acme is on the Free plan, which allows 3 packages, and it has 3: creating @acme/d needs a
 * bigger plan. Upgrade at https://…/billing?org=acme (new versions of existing packages still
 * publish)."
 */
export function limitExceeded(f: {
  account: BillingAccount;
  accountName: string;
  standing: Standing;
  resource: Resource;
  limit: number;
  used: number;
  creating: string;
  upgradeUrl: string;
}): PackrError {
  const who =
    f.account.kind === "org" ? `@${f.accountName}` : `${f.accountName}'s personal account`;
  const what = describe(f.resource, f.limit, f.account);
  const plan = planTitle(f.standing.plan);
  const status =
    f.standing.state === "lapsed"
      ? `${who} has the ${plan} plan, but its payment failed and the grace period ended${f.standing.graceEndsAt ? ` on ${f.standing.graceEndsAt.toISOString().slice(0, 10)}` : ""}, so the Free plan's limit applies: ${what}`
      : f.standing.state === "inactive"
        ? `${who}'s ${plan} plan is ${f.standing.status.replace(/_/g, " ")}, so the Free plan's limit applies: ${what}`
        : `${who} is on the ${plan} plan, which allows ${what}`;
  return new PackrError(
    "LIMIT_EXCEEDED",
    `${status}, and it has ${f.used}: creating ${f.creating} needs a bigger plan. Upgrade at ${f.upgradeUrl} (new versions of existing packages still publish).`,
    {
      details: {
        plan: f.standing.plan,
        planState: f.standing.state,
        resource: f.resource,
        limit: f.limit,
        usage: f.used,
        upgradeUrl: f.upgradeUrl,
        account: { type: f.account.kind, name: f.accountName },
      },
    },
  );
}

function describe(resource: Resource, limit: number, account: BillingAccount): string {
  if (resource === "scopes") return `${limit} ${limit === 1 ? "scope" : "scopes"} (orgs created)`;
  const noun = limit === 1 ? "package" : "packages";
  return account.kind === "org" ? `${limit} ${noun}` : `${limit} ${noun} outside orgs`;
}

export type { Limits };
