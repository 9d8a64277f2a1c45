import type { ServiceContext } from "../context.ts";
import { PackrError } from "../errors.ts";
import { findSubscription, requireBilling, resolveAccount } from "./account.ts";
import { stripeCall } from "./checkout.ts";
import { upgradeUrl } from "./limits.ts";

/**
 * A Stripe Customer Portal session (change plan, card, cancel, invoices) for an org (its admins
 * and platform admins) or the caller's personal account. Needs a Stripe customer, i.e. a plan
 * bought once through Checkout; before that a 404 says to buy one.
 */
export async function createPortalSession(args: {
  ctx: ServiceContext;
  input: { org?: string | undefined };
}): Promise<{ url: string }> {
  const { ctx, input } = args;
  const billing = requireBilling(ctx);
  const { account, name } = await resolveAccount(
    ctx,
    input.org,
    "manage",
    `manage the billing of ${input.org === undefined ? "your personal account" : `@${input.org}`}`,
  );
  const sub = await findSubscription(ctx.deps.db, account);
  if (!sub?.stripeCustomerId) {
    throw new PackrError(
      "NOT_FOUND",
      `${account.kind === "org" ? `@${name}` : "Your personal account"} has no Stripe customer yet: buy a plan first (POST /api/v1/admin/billing/checkout).`,
    );
  }
  const customer = sub.stripeCustomerId;
  const session = await stripeCall(() =>
    billing.stripe.billingPortal.sessions.create({
      customer,
      return_url: upgradeUrl(billing.config.billingUrl, account, name),
    }),
  );
  return { url: session.url };
}
