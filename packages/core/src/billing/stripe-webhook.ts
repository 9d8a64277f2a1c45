import { eq } from "drizzle-orm";
import type Stripe from "stripe";
import { emitAudit } from "../audit/emit-audit.ts";
import type { ServiceContext, Tx } from "../context.ts";
import { orgs, stripeEvents, subscriptions, users } from "../db/schema/index.ts";
import type { PlanName } from "../db/schema/platform.ts";
import { PackrError } from "../errors.ts";
import { newId } from "../ids.ts";
import { parseAccountKey, requireBilling, type SubscriptionRow } from "./account.ts";
import { stripeCall } from "./checkout.ts";
import type { BillingAccount } from "./limits.ts";
import type { Billing } from "./stripe-client.ts";

export type WebhookOutcome = {
  received: true;
  /** What happened: applied, or why not (a replay, an older event, an event Packr ignores). */
  result: "applied" | "duplicate" | "stale" | "ignored";
  type: string;
};

/** What one event does to an account's row (null: nothing). */
type Change = {
  plan: PlanName;
  status: string;
  stripeCustomerId: string | null;
  stripeSubscriptionId: string | null;
  currentPeriodEnd: Date | null;
  pastDueSince: Date | null;
  action: string;
};

const HANDLED = new Set([
  "checkout.session.completed",
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "invoice.payment_failed",
  "invoice.paid",
]);

/**
 * `POST /api/billing/webhook`: verify the `Stripe-Signature` over the raw body (a missing, wrong
 * or older-than-5-minutes signature is a 400), then apply the event once:
 * - `checkout.session.completed`: the account's subscription (re-read from Stripe for its price
 *   and period);
 * - `customer.subscription.created|updated`: plan (from the price), status, period end; past due
 *   starts the grace, active ends it;
 * - `customer.subscription.deleted`: back to Free;
 * - `invoice.payment_failed`: past due, the grace counted from the first failure;
 *   `invoice.paid`: a past-due account is active again.
 * Idempotent by event id (`stripe_events`, written in the change's transaction); an event older
 * (`created`) than the last one applied to the subscription changes nothing, and a canceled
 * subscription never comes back; each change writes its audit event. Other event types are
 * acknowledged (2xx) and ignored.
 */
export async function handleStripeWebhook(args: {
  ctx: ServiceContext;
  input: { payload: string; signature: string | undefined };
}): Promise<WebhookOutcome> {
  const { ctx, input } = args;
  const billing = requireBilling(ctx);
  const event = verify(billing, input.payload, input.signature);
  if (!HANDLED.has(event.type)) return { received: true, result: "ignored", type: event.type };

  // Stripe is asked before the transaction (never hold a row lock over a network call).
  const checkoutSub =
    event.type === "checkout.session.completed" ? await checkoutSubscription(billing, event) : null;
  const sys: ServiceContext = { ...ctx, actor: { type: "system", reason: "stripe" } };
  const at = new Date(event.created * 1000);
  const result = await ctx.deps.db.transaction(async (tx) => {
    const fresh = await tx
      .insert(stripeEvents)
      .values({ id: event.id, type: event.type, processedAt: ctx.deps.now() })
      .onConflictDoNothing()
      .returning({ id: stripeEvents.id });
    if (fresh.length === 0) return "duplicate" as const;
    const target = await targetOf(tx, event, checkoutSub);
    if (!target) return "ignored" as const;
    const { account, row, object } = target;
    if (row?.stripeEventAt && at < row.stripeEventAt) return "stale" as const;
    const change = changeFor(billing, event.type, object, row, at);
    if (!change) return "stale" as const;
    await apply(tx, sys, account, row, change, at, event);
    return "applied" as const;
  });
  return { received: true, result, type: event.type };
}

function verify(billing: Billing, payload: string, signature: string | undefined): Stripe.Event {
  if (!signature) {
    throw new PackrError(
      "VALIDATION",
      "This endpoint takes Stripe's events only: the Stripe-Signature header is missing.",
    );
  }
  try {
    return billing.stripe.webhooks.constructEvent(payload, signature, billing.config.webhookSecret);
  } catch (err) {
    throw new PackrError(
      "VALIDATION",
      `The Stripe-Signature does not verify (${err instanceof Error ? err.message.split("\n")[0]?.slice(0, 160) : "bad signature"}); check STRIPE_WEBHOOK_SECRET against the endpoint's signing secret.`,
    );
  }
}

/** The subscription a completed Checkout created, as Stripe has it now. */
async function checkoutSubscription(
  billing: Billing,
  event: Stripe.Event,
): Promise<Stripe.Subscription | null> {
  const session = event.data.object as Stripe.Checkout.Session;
  if (session.mode !== "subscription" || !session.subscription) return null;
  const id =
    typeof session.subscription === "string" ? session.subscription : session.subscription.id;
  return stripeCall(() => billing.stripe.subscriptions.retrieve(id));
}

type Target = {
  account: BillingAccount;
  row: SubscriptionRow | null;
  /** The subscription (or invoice) the event is about. */
  object: Stripe.Subscription | Stripe.Invoice;
};

/** Whose row the event changes, locked for this transaction; null: not Packr's, or gone. */
async function targetOf(
  tx: Tx,
  event: Stripe.Event,
  checkoutSub: Stripe.Subscription | null,
): Promise<Target | null> {
  if (event.type === "checkout.session.completed") {
    const session = event.data.object as Stripe.Checkout.Session;
    const account = parseAccountKey(session.client_reference_id ?? session.metadata?.packr_account);
    if (!account || !checkoutSub || !(await accountExists(tx, account))) return null;
    return { account, row: await lockAccountRow(tx, account), object: checkoutSub };
  }
  if (event.type.startsWith("invoice.")) {
    const invoice = event.data.object as Stripe.Invoice;
    const subId = invoiceSubscriptionId(invoice);
    const row = subId ? await lockRowBySubscription(tx, subId) : null;
    if (!row) return null;
    return { account: accountOfRow(row), row, object: invoice };
  }
  const sub = event.data.object as Stripe.Subscription;
  const row = await lockRowBySubscription(tx, sub.id);
  if (row) return { account: accountOfRow(row), row, object: sub };
  // Not seen yet (this event overtook checkout.session.completed): the metadata names the account.
  const account = parseAccountKey(sub.metadata?.packr_account);
  if (!account || event.type === "customer.subscription.deleted") return null;
  if (!(await accountExists(tx, account))) return null;
  const current = await lockAccountRow(tx, account);
  // The account pays through another live subscription: an event about this one changes nothing.
  if (current?.stripeSubscriptionId && isLive(current.status)) return null;
  return { account, row: current, object: sub };
}

/** The row after this event, or null when the event must not change it. */
function changeFor(
  billing: Billing,
  type: string,
  object: Stripe.Subscription | Stripe.Invoice,
  row: SubscriptionRow | null,
  at: Date,
): Change | null {
  if (type === "invoice.payment_failed" || type === "invoice.paid") {
    if (!row || row.status === "canceled") return null;
    if (type === "invoice.paid") {
      if (row.status !== "past_due") return null;
      return {
        ...keep(row),
        status: "active",
        pastDueSince: null,
        action: "billing.payment_recovered",
      };
    }
    return {
      ...keep(row),
      status: "past_due",
      pastDueSince: row.pastDueSince ?? at,
      action: "billing.payment_failed",
    };
  }
  const sub = object as Stripe.Subscription;
  const customer = typeof sub.customer === "string" ? sub.customer : (sub.customer?.id ?? null);
  const sameSub = row?.stripeSubscriptionId === sub.id;
  // Stripe never reactivates a canceled subscription: a late `updated` must not resurrect it.
  if (sameSub && row?.status === "canceled") return null;
  if (type === "customer.subscription.deleted") {
    return {
      plan: "free",
      status: "canceled",
      stripeCustomerId: customer ?? row?.stripeCustomerId ?? null,
      stripeSubscriptionId: sub.id,
      currentPeriodEnd: null,
      pastDueSince: null,
      action: "billing.subscription_canceled",
    };
  }
  const plan = planOf(billing, sub) ?? (sameSub ? row?.plan : undefined);
  if (!plan) return null;
  const status = sub.status;
  const pastDueSince =
    status === "past_due"
      ? sameSub
        ? (row?.pastDueSince ?? at)
        : at
      : isActive(status)
        ? null
        : (row?.pastDueSince ?? null);
  return {
    plan,
    status,
    stripeCustomerId: customer ?? row?.stripeCustomerId ?? null,
    stripeSubscriptionId: sub.id,
    currentPeriodEnd: periodEnd(sub),
    pastDueSince,
    action: row?.plan === plan && sameSub ? "billing.subscription_updated" : "billing.plan_changed",
  };
}

async function apply(
  tx: Tx,
  ctx: ServiceContext,
  account: BillingAccount,
  row: SubscriptionRow | null,
  change: Change,
  at: Date,
  event: Stripe.Event,
): Promise<void> {
  const now = ctx.deps.now();
  const values = {
    plan: change.plan,
    status: change.status,
    stripeCustomerId: change.stripeCustomerId,
    stripeSubscriptionId: change.stripeSubscriptionId,
    currentPeriodEnd: change.currentPeriodEnd,
    pastDueSince: change.pastDueSince,
    stripeEventAt: at,
    updatedAt: now,
  };
  if (row) {
    // Another row may hold this subscription id (an account's old row): ids stay unique.
    await tx.update(subscriptions).set(values).where(eq(subscriptions.id, row.id));
  } else {
    await tx.insert(subscriptions).values({
      id: newId("sub"),
      orgId: account.kind === "org" ? account.id : null,
      userId: account.kind === "user" ? account.id : null,
      ...values,
      createdAt: now,
    });
  }
  await emitAudit(tx, ctx, {
    action: change.action,
    targetType: account.kind,
    targetId: account.id,
    orgId: account.kind === "org" ? account.id : null,
    data: {
      from: row ? { plan: row.plan, status: row.status } : { plan: "free", status: null },
      to: { plan: change.plan, status: change.status },
      currentPeriodEnd: change.currentPeriodEnd?.toISOString() ?? null,
      pastDueSince: change.pastDueSince?.toISOString() ?? null,
      stripeEvent: { id: event.id, type: event.type },
      stripeSubscriptionId: change.stripeSubscriptionId,
    },
  });
}

const keep = (row: SubscriptionRow): Omit<Change, "action"> => ({
  plan: row.plan,
  status: row.status,
  stripeCustomerId: row.stripeCustomerId,
  stripeSubscriptionId: row.stripeSubscriptionId,
  currentPeriodEnd: row.currentPeriodEnd,
  pastDueSince: row.pastDueSince,
});

const isActive = (status: string) => status === "active" || status === "trialing";
const isLive = (status: string) => status !== "canceled" && status !== "incomplete_expired";

/** The plan a subscription pays for, from its prices (PACKR_STRIPE_PRICE_*); undefined if none. */
function planOf(billing: Billing, sub: Stripe.Subscription): PlanName | undefined {
  const prices = (sub.items?.data ?? []).map((i) => i.price?.id);
  if (billing.config.prices.team && prices.includes(billing.config.prices.team)) return "team";
  if (billing.config.prices.solo && prices.includes(billing.config.prices.solo)) return "solo";
  return undefined;
}

/** The period end: on the items since Stripe's 2025 API versions, on the subscription before. */
function periodEnd(sub: Stripe.Subscription): Date | null {
  const item = sub.items?.data?.[0] as { current_period_end?: number } | undefined;
  const legacy = (sub as unknown as { current_period_end?: number }).current_period_end;
  const seconds = item?.current_period_end ?? legacy;
  return typeof seconds === "number" ? new Date(seconds * 1000) : null;
}

/** The subscription an invoice bills: `parent.subscription_details` now, `subscription` before. */
function invoiceSubscriptionId(invoice: Stripe.Invoice): string | null {
  const parent = (
    invoice as unknown as {
      parent?: { subscription_details?: { subscription?: string | { id: string } | null } | null };
    }
  ).parent;
  const legacy = (invoice as unknown as { subscription?: string | { id: string } | null })
    .subscription;
  const ref = parent?.subscription_details?.subscription ?? legacy ?? null;
  return typeof ref === "string" ? ref : (ref?.id ?? null);
}

const accountOfRow = (row: SubscriptionRow): BillingAccount =>
  row.orgId ? { kind: "org", id: row.orgId } : { kind: "user", id: row.userId as string };

async function lockRowBySubscription(tx: Tx, subId: string): Promise<SubscriptionRow | null> {
  const [row] = await tx
    .select()
    .from(subscriptions)
    .where(eq(subscriptions.stripeSubscriptionId, subId))
    .for("update");
  return row ?? null;
}

async function lockAccountRow(tx: Tx, account: BillingAccount): Promise<SubscriptionRow | null> {
  const [row] = await tx
    .select()
    .from(subscriptions)
    .where(
      account.kind === "org"
        ? eq(subscriptions.orgId, account.id)
        : eq(subscriptions.userId, account.id),
    )
    .for("update");
  return row ?? null;
}

async function accountExists(tx: Tx, account: BillingAccount): Promise<boolean> {
  const [row] =
    account.kind === "org"
      ? await tx.select({ id: orgs.id }).from(orgs).where(eq(orgs.id, account.id))
      : await tx.select({ id: users.id }).from(users).where(eq(users.id, account.id));
  return Boolean(row);
}
