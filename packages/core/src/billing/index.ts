export { accountKey, parseAccountKey, requireBilling } from "./account.ts";
export { createCheckoutSession } from "./checkout.ts";
export { type BillingView, getBilling } from "./get-billing.ts";
export {
  assertPlanAllowsPackage,
  assertPlanAllowsScope,
  type BillingAccount,
  loadAccountUsage,
} from "./limits.ts";
export {
  type Limits,
  PAID_PLANS,
  PLAN_LIMITS,
  PLAN_PRICE_USD_PER_YEAR,
  type PlanName,
  planTitle,
  type Standing,
  standing,
} from "./plans.ts";
export { createPortalSession } from "./portal.ts";
export { setAccountPlan } from "./set-plan.ts";
export { type Billing, createBilling } from "./stripe-client.ts";
export { handleStripeWebhook, type WebhookOutcome } from "./stripe-webhook.ts";
