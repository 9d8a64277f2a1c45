import { eq } from "drizzle-orm";
import type { ServiceContext } from "../context.ts";
import { users } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { accountKey, findSubscription, requireBilling, resolveAccount } from "./account.ts";
import { upgradeUrl } from "./limits.ts";
import { PAID_PLANS, type PaidPlan, planTitle } from "./plans.ts";

/** Statuses of a subscription that still bills: a new Checkout would charge twice. */
const LIVE = new Set(["active", "trialing", "past_due", "unpaid", "incomplete"]);

/**
 * A Stripe Checkout Session selling `plan` (Solo or Team) to an org (`org`: its admins and
 * platform admins) or the caller's personal account (a person, not a CI token). The session
 * carries the account in `client_reference_id` and in the subscription's metadata, so the
 * webhook knows whose plan to change whichever event arrives first. An account that already
 * pays changes plans in the customer portal instead (409).
 */
export async function createCheckoutSession(args: {
  ctx: ServiceContext;
  input: { plan: string; org?: string | undefined };
}): Promise<{ url: string; id: string }> {
  const { ctx, input } = args;
  const billing = requireBilling(ctx);
  const plan = parsePaidPlan(input.plan);
  const price = billing.config.prices[plan];
  if (!price) {
    throw new PackrError(
      "VALIDATION",
      `The ${planTitle(plan)} plan cannot be bought on this registry: PACKR_STRIPE_PRICE_${plan.toUpperCase()} is not set.`,
    );
  }
  const { account, name, principal } = await resolveAccount(
    ctx,
    input.org,
    "manage",
    `buy a plan for ${input.org === undefined ? "your personal account" : `@${input.org}`}`,
  );
  const sub = await findSubscription(ctx.deps.db, account);
  if (sub && sub.plan !== "free" && LIVE.has(sub.status)) {
    throw new PackrError(
      "CONFLICT",
      `${account.kind === "org" ? `@${name}` : "Your personal account"} already has the ${planTitle(sub.plan)} plan; change or cancel it in the customer portal (POST /api/v1/admin/billing/portal).`,
      { details: { plan: sub.plan, status: sub.status } },
    );
  }
  let email: string | undefined;
  if (!sub?.stripeCustomerId && account.kind === "user") {
    const [u] = await ctx.deps.db
      .select({ email: users.email })
      .from(users)
      .where(eq(users.id, principal.userId));
    email = u?.email ?? undefined;
  }
  const key = accountKey(account);
  const page = upgradeUrl(billing.config.billingUrl, account, name);
  const back = (outcome: string) => `${page}${page.includes("?") ? "&" : "?"}checkout=${outcome}`;
  const metadata = { packr_account: key, packr_plan: plan };
  const session = await stripeCall(() =>
    billing.stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price, quantity: 1 }],
      client_reference_id: key,
      metadata,
      subscription_data: { metadata },
      success_url: back("success"),
      cancel_url: back("canceled"),
      ...(sub?.stripeCustomerId
        ? { customer: sub.stripeCustomerId }
        : email
          ? { customer_email: email }
          : {}),
    }),
  );
  if (!session.url) throw new PackrError("BAD_GATEWAY", "Stripe returned a session without a URL.");
  return { url: session.url, id: session.id };
}

function parsePaidPlan(plan: string): PaidPlan {
  if ((PAID_PLANS as readonly string[]).includes(plan)) return plan as PaidPlan;
  if (plan === "enterprise") {
    throw new PackrError(
      "VALIDATION",
      "Enterprise limits are set by a platform admin (PUT /api/v1/admin/billing/plan), not bought.",
    );
  }
  throw new PackrError(
    "VALIDATION",
    `There is no plan "${plan.slice(0, 40)}" to buy; choose ${PAID_PLANS.join(" or ")}.`,
  );
}

/** A Stripe call whose failure is Stripe's, not the caller's: a 502 that says so. */
export async function stripeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof PackrError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new PackrError(
      "BAD_GATEWAY",
      `Stripe refused or could not be reached (${message.slice(0, 200)}); try again in a minute.`,
      { cause: err },
    );
  }
}
