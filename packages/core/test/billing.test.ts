/**
 * Billing, the core verbs: plan limits on creating packages and scopes (every token kind, CI
 * included; never a new version or a read), the Stripe webhook (signatures by Stripe's own
 * helper, replays, reordering, payment failure, grace, recovery) against a loopback stand-in of
 * Stripe's API, and billing off meaning no limits and no query.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCheckoutSession } from "../src/billing/checkout.ts";
import { getBilling } from "../src/billing/get-billing.ts";
import { assertPlanAllowsPackage, assertPlanAllowsScope } from "../src/billing/limits.ts";
import { PLAN_LIMITS, standing } from "../src/billing/plans.ts";
import { createPortalSession } from "../src/billing/portal.ts";
import { setAccountPlan } from "../src/billing/set-plan.ts";
import { createBilling } from "../src/billing/stripe-client.ts";
import { handleStripeWebhook } from "../src/billing/stripe-webhook.ts";
import type { ServiceContext, TokenActor } from "../src/context.ts";
import type { Queryable } from "../src/db/client.ts";
import { auditEvents, orgs, stripeEvents, subscriptions } from "../src/db/schema/index.ts";
import { createOrg } from "../src/orgs/create-org.ts";
import { getTarball } from "../src/packages/get-tarball.ts";
import { parsePackageName } from "../src/packages/names.ts";
import {
  createTestDeps,
  type StripeStandIn,
  signedStripeEvent,
  startStripeStandIn,
  stripeSubscription,
  type TestDeps,
  testBillingConfig,
  testDrivers,
  tokenContext,
} from "../src/testing/index.ts";
import { failure, publish, readDoc } from "./helpers.ts";

const DAY = 86_400_000;

describe("plans (pure)", () => {
  const now = new Date("2027-01-10T00:00:00Z");
  const sub = (status: string, pastDueSince: Date | null = null) => ({
    plan: "solo" as const,
    status,
    packageLimit: null,
    scopeLimit: null,
    pastDueSince,
  });
  it("gives Free without a subscription, the plan's limits while active or in grace, Free after", () => {
    expect(standing(null, now, 7 * DAY)).toMatchObject({ plan: "free", limits: PLAN_LIMITS.free });
    expect(standing(sub("active"), now, 7 * DAY)).toMatchObject({
      state: "active",
      limits: { packages: 20, scopes: 5 },
    });
    const failed = new Date(now.getTime() - 6 * DAY);
    expect(standing(sub("past_due", failed), now, 7 * DAY)).toMatchObject({
      state: "grace",
      limits: { packages: 20, scopes: 5 },
    });
    const longAgo = new Date(now.getTime() - 8 * DAY);
    expect(standing(sub("past_due", longAgo), now, 7 * DAY)).toMatchObject({
      state: "lapsed",
      limits: PLAN_LIMITS.free,
    });
    expect(standing(sub("canceled"), now, 7 * DAY)).toMatchObject({
      state: "inactive",
      limits: PLAN_LIMITS.free,
    });
    expect(
      standing(
        {
          plan: "enterprise",
          status: "active",
          packageLimit: 500,
          scopeLimit: null,
          pastDueSince: null,
        },
        now,
        7 * DAY,
      ).limits,
    ).toEqual({ packages: 500, scopes: null });
    expect(PLAN_LIMITS.team).toEqual({ packages: 100, scopes: null });
  });
});

describe("billing off", () => {
  let deps: TestDeps;
  beforeAll(async () => {
    deps = await createTestDeps("pglite");
  });
  afterAll(async () => deps.close());

  it("checks nothing and asks the database nothing", async () => {
    // Any use of the query handle fails the test: the check must not reach the database.
    const noDb = new Proxy(
      {},
      {
        get() {
          throw new Error("the limit check touched the database with billing off");
        },
      },
    ) as Queryable;
    const ctx = await tokenContext(deps, { user: "offuser", role: "ci-publish", kind: "ci" });
    const token = ctx.actor as TokenActor;
    await assertPlanAllowsPackage(noDb, deps, token, parsePackageName("x"), { kind: "open" });
    await assertPlanAllowsPackage(noDb, deps, token, parsePackageName("@o/x"), {
      kind: "claim",
      org: "o",
    });
    await assertPlanAllowsScope(noDb, deps, token.userId, "o");
  });

  it("lets anyone create as many packages and orgs as they like", async () => {
    const ctx = await tokenContext(deps, { user: "many", role: "maintainer" });
    for (let i = 0; i < 5; i++) await publish(ctx, `many-${i}`, ["1.0.0"]);
    for (let i = 0; i < 3; i++) await createOrg({ ctx, input: { name: `many-org-${i}` } });
    await publish(ctx, "@many-scope/a", ["1.0.0"]);
  });

  it("answers the billing verbs with a 404 that says billing is off", async () => {
    const ctx = await tokenContext(deps, { user: "many", role: "maintainer" });
    for (const call of [
      getBilling({ ctx, input: {} }),
      createCheckoutSession({ ctx, input: { plan: "solo" } }),
      createPortalSession({ ctx, input: {} }),
      handleStripeWebhook({ ctx, input: { payload: "{}", signature: "t=1,v1=x" } }),
    ]) {
      const err = await failure(call);
      expect(err.code).toBe("NOT_FOUND");
      expect(err.message).toContain("Billing is not enabled");
    }
  });
});

describe.each(testDrivers())("billing on %s", (driver) => {
  let deps: TestDeps;
  let stripe: StripeStandIn;
  let clock = Date.parse("2027-03-01T00:00:00Z");
  let alice: ServiceContext; // maintainer token
  let aliceCi: ServiceContext; // ci-publish token of alice
  let bob: ServiceContext;
  let root: ServiceContext;
  let acmeId: string;
  let eventSeq = 0;

  const seconds = () => Math.floor(clock / 1000);
  /** Sign and deliver one event as Stripe would; `created` defaults to now. */
  const deliver = async (
    type: string,
    object: Record<string, unknown>,
    opts: { id?: string; created?: number } = {},
  ) => {
    const { payload, signature } = signedStripeEvent({
      id: opts.id ?? `evt_test_${++eventSeq}`,
      type,
      created: opts.created ?? seconds(),
      object,
    });
    return handleStripeWebhook({
      ctx: { deps, actor: { type: "anonymous" }, requestId: "stripe" },
      input: { payload, signature },
    });
  };
  const acmeRow = async () =>
    (await deps.db.select().from(subscriptions).where(eq(subscriptions.orgId, acmeId)))[0];
  const audits = (action: string) =>
    deps.db.select().from(auditEvents).where(eq(auditEvents.action, action));

  beforeAll(async () => {
    stripe = await startStripeStandIn();
    deps = await createTestDeps(driver, undefined, {
      now: () => new Date(clock),
      billing: createBilling(testBillingConfig(stripe.url)),
    });
    alice = await tokenContext(deps, { user: "alice", role: "maintainer" });
    aliceCi = await tokenContext(deps, { user: "alice", role: "ci-publish", kind: "ci" });
    bob = await tokenContext(deps, { user: "bob", role: "maintainer" });
    root = await tokenContext(deps, { user: "root", role: "admin", isAdmin: true });
  });
  afterAll(async () => {
    await deps.close();
    await stripe.close();
  });

  it("holds a personal Free account to 3 packages, CI tokens included, with npm's sentence", async () => {
    await publish(alice, "a-one", ["1.0.0"]);
    await publish(aliceCi, "a-two", ["1.0.0"]);
    await publish(alice, "@alice/three", ["1.0.0"]);
    const err = await failure(publish(aliceCi, "a-four", ["1.0.0"]));
    expect(err.code).toBe("LIMIT_EXCEEDED");
    expect(err.status).toBe(402);
    expect(err.message).toBe(
      "alice's personal account is on the Free plan, which allows 3 packages outside orgs, and it has 3: creating a-four needs a bigger plan. Upgrade at http://dashboard.test/billing (new versions of existing packages still publish).",
    );
    expect(err.details).toMatchObject({ plan: "free", limit: 3, usage: 3, resource: "packages" });
    // A new version of an existing package is never a creation.
    await publish(aliceCi, "a-two", ["1.1.0"]);
    // Nothing of the refused package was left behind.
    expect(await failure(readDoc(alice, "a-four"))).toMatchObject({ code: "NOT_FOUND" });
  });

  it("holds a Free user to 1 scope: the first-publish claim and createOrg both count", async () => {
    await publish(bob, "@acme/a", ["1.0.0"]); // claims @acme: bob's one scope
    const [acme] = await deps.db.select().from(orgs).where(eq(orgs.name, "acme"));
    acmeId = acme?.id as string;
    const claim = await failure(publish(bob, "@bobco/x", ["1.0.0"]));
    expect(claim.code).toBe("LIMIT_EXCEEDED");
    expect(claim.message).toContain(
      "bob's personal account is on the Free plan, which allows 1 scope",
    );
    expect(claim.message).toContain("creating the org @bobco needs a bigger plan");
    const org = await failure(createOrg({ ctx: bob, input: { name: "bobco" } }));
    expect(org.code).toBe("LIMIT_EXCEEDED");
    expect(await deps.db.select().from(orgs).where(eq(orgs.name, "bobco"))).toEqual([]);
    // A platform admin is not limited.
    await createOrg({ ctx: root, input: { name: "rootco" } });
  });

  it("holds an org to its plan's packages, naming the org's billing page", async () => {
    await publish(bob, "@acme/b", ["1.0.0"]);
    await publish(bob, "@acme/c", ["1.0.0"]);
    const err = await failure(publish(bob, "@acme/d", ["1.0.0"]));
    expect(err.message).toBe(
      "@acme is on the Free plan, which allows 3 packages, and it has 3: creating @acme/d needs a bigger plan. Upgrade at http://dashboard.test/billing?org=acme (new versions of existing packages still publish).",
    );
    await publish(bob, "@acme/c", ["2.0.0"]);
  });

  it("sells a plan through Checkout with the account in the session", async () => {
    const { url } = await createCheckoutSession({ ctx: bob, input: { plan: "team", org: "acme" } });
    expect(url).toMatch(/^https:\/\/checkout\.stripe\.test\//);
    const call = stripe.calls.find((c) => c.path === "/v1/checkout/sessions");
    expect(call?.form).toMatchObject({
      mode: "subscription",
      "line_items[0][price]": "price_team",
      client_reference_id: `org:${acmeId}`,
      "metadata[packr_account]": `org:${acmeId}`,
      "subscription_data[metadata][packr_account]": `org:${acmeId}`,
      success_url: "http://dashboard.test/billing?org=acme&checkout=success",
    });
    // No customer yet: the portal says to buy first.
    expect(await failure(createPortalSession({ ctx: bob, input: { org: "acme" } }))).toMatchObject({
      code: "NOT_FOUND",
    });
    // Only org admins buy for an org; a CI token buys nothing.
    expect(
      (await failure(createCheckoutSession({ ctx: alice, input: { plan: "team", org: "acme" } })))
        .code,
    ).toBe("NOT_FOUND");
    const bobCi = await tokenContext(deps, { user: "bob", role: "ci-publish", kind: "ci" });
    expect(
      (await failure(createCheckoutSession({ ctx: bobCi, input: { plan: "team", org: "acme" } })))
        .code,
    ).toBe("FORBIDDEN");
    expect(
      (
        await failure(
          createCheckoutSession({ ctx: bob, input: { plan: "enterprise", org: "acme" } }),
        )
      ).code,
    ).toBe("VALIDATION");
  });

  it("applies checkout.session.completed once (a replay changes nothing) and lifts the limit", async () => {
    stripe.subscriptions.set(
      "sub_acme",
      stripeSubscription({
        id: "sub_acme",
        customer: "cus_acme",
        price: "price_team",
        status: "active",
        account: `org:${acmeId}`,
        periodEnd: seconds() + 365 * 86400,
      }),
    );
    const session = {
      id: "cs_test_done",
      object: "checkout.session",
      mode: "subscription",
      client_reference_id: `org:${acmeId}`,
      customer: "cus_acme",
      subscription: "sub_acme",
      metadata: { packr_account: `org:${acmeId}`, packr_plan: "team" },
    };
    const first = await deliver("checkout.session.completed", session, { id: "evt_checkout" });
    expect(first.result).toBe("applied");
    expect(
      stripe.calls.some((c) => c.method === "GET" && c.path === "/v1/subscriptions/sub_acme"),
    ).toBe(true);
    const replay = await deliver("checkout.session.completed", session, { id: "evt_checkout" });
    expect(replay.result).toBe("duplicate");
    expect(await acmeRow()).toMatchObject({
      plan: "team",
      status: "active",
      stripeCustomerId: "cus_acme",
      stripeSubscriptionId: "sub_acme",
    });
    expect(
      (await audits("billing.plan_changed")).filter((a) => a.targetId === acmeId),
    ).toHaveLength(1);
    expect(
      await deps.db.select().from(stripeEvents).where(eq(stripeEvents.id, "evt_checkout")),
    ).toHaveLength(1);
    await publish(bob, "@acme/d", ["1.0.0"]);
    await publish(bob, "@acme/e", ["1.0.0"]);
    const view = await getBilling({ ctx: bob, input: { org: "acme" } });
    expect(view).toMatchObject({
      plan: "team",
      state: "active",
      limits: { packages: 100, scopes: null },
      usage: { packages: 5 },
      hasCustomer: true,
    });
    const { url } = await createPortalSession({ ctx: bob, input: { org: "acme" } });
    expect(url).toMatch(/^https:\/\/billing\.stripe\.test\//);
    expect(stripe.calls.find((c) => c.path === "/v1/billing_portal/sessions")?.form).toMatchObject({
      customer: "cus_acme",
      return_url: "http://dashboard.test/billing?org=acme",
    });
  });

  it("refuses missing, wrong and stale signatures", async () => {
    const ctx = { deps, actor: { type: "anonymous" as const }, requestId: "s" };
    const good = signedStripeEvent({
      id: "evt_sig",
      type: "invoice.paid",
      created: seconds(),
      object: {},
    });
    expect(
      (
        await failure(
          handleStripeWebhook({ ctx, input: { payload: good.payload, signature: undefined } }),
        )
      ).message,
    ).toContain("Stripe-Signature header is missing");
    const wrong = signedStripeEvent(
      { id: "evt_sig", type: "invoice.paid", created: seconds(), object: {} },
      { secret: "whsec_other" },
    );
    expect((await failure(handleStripeWebhook({ ctx, input: wrong }))).code).toBe("VALIDATION");
    const stale = signedStripeEvent(
      { id: "evt_sig", type: "invoice.paid", created: seconds(), object: {} },
      { timestamp: Math.floor(Date.now() / 1000) - 3600 },
    );
    expect((await failure(handleStripeWebhook({ ctx, input: stale }))).code).toBe("VALIDATION");
    // A body changed after signing.
    const tampered = {
      payload: good.payload.replace("invoice.paid", "invoice.payment_failed"),
      signature: good.signature,
    };
    expect((await failure(handleStripeWebhook({ ctx, input: tampered }))).code).toBe("VALIDATION");
    expect(await deps.db.select().from(stripeEvents).where(eq(stripeEvents.id, "evt_sig"))).toEqual(
      [],
    );
  });

  it("acknowledges and ignores events it does not handle", async () => {
    expect((await deliver("customer.created", { id: "cus_x" })).result).toBe("ignored");
  });

  it("fails a payment: limits stay for the grace, then Free; a recovery restores the plan", async () => {
    const failedAt = seconds();
    const invoice = {
      id: "in_1",
      object: "invoice",
      parent: { subscription_details: { subscription: "sub_acme" } },
    };
    expect((await deliver("invoice.payment_failed", invoice, { created: failedAt })).result).toBe(
      "applied",
    );
    expect(await acmeRow()).toMatchObject({ status: "past_due", plan: "team" });
    // A second failure does not restart the grace.
    clock += 3 * DAY;
    await deliver("invoice.payment_failed", invoice);
    expect((await acmeRow())?.pastDueSince?.getTime()).toBe(failedAt * 1000);
    await publish(bob, "@acme/f", ["1.0.0"]); // within the grace: Team's limits
    clock += 5 * DAY; // 8 days after the failure
    const lapsed = await failure(publish(bob, "@acme/g", ["1.0.0"]));
    expect(lapsed.code).toBe("LIMIT_EXCEEDED");
    expect(lapsed.message).toContain(
      "@acme has the Team plan, but its payment failed and the grace period ended",
    );
    expect(lapsed.message).toContain("the Free plan's limit applies: 3 packages, and it has 6");
    await publish(bob, "@acme/f", ["1.0.1"]); // new versions still publish
    await deliver(
      "customer.subscription.updated",
      stripeSubscription({
        id: "sub_acme",
        customer: "cus_acme",
        price: "price_team",
        status: "active",
      }),
    );
    expect(await acmeRow()).toMatchObject({ status: "active", pastDueSince: null });
    await publish(bob, "@acme/g", ["1.0.0"]);
    expect((await audits("billing.payment_failed")).length).toBe(2);
  });

  it("applies reordered events by their time: an older update after a deletion changes nothing", async () => {
    const t = seconds();
    clock += 60_000;
    const deleted = await deliver(
      "customer.subscription.deleted",
      stripeSubscription({
        id: "sub_acme",
        customer: "cus_acme",
        price: "price_team",
        status: "canceled",
      }),
      { created: t + 20 },
    );
    expect(deleted.result).toBe("applied");
    const older = await deliver(
      "customer.subscription.updated",
      stripeSubscription({
        id: "sub_acme",
        customer: "cus_acme",
        price: "price_solo",
        status: "active",
      }),
      { created: t + 10 },
    );
    expect(older.result).toBe("stale");
    // Even at the same second, a canceled subscription does not come back.
    const sameSecond = await deliver(
      "customer.subscription.updated",
      stripeSubscription({
        id: "sub_acme",
        customer: "cus_acme",
        price: "price_team",
        status: "active",
      }),
      { created: t + 20 },
    );
    expect(sameSecond.result).toBe("stale");
    expect(await acmeRow()).toMatchObject({ plan: "free", status: "canceled" });
    expect(await audits("billing.subscription_canceled")).toHaveLength(1);
  });

  it("after a downgrade still publishes new versions and serves every package, over the limit", async () => {
    const over = await failure(publish(aliceCi, "a-five", ["1.0.0"]));
    expect(over.code).toBe("LIMIT_EXCEEDED");
    const refused = await failure(publish(bob, "@acme/h", ["1.0.0"]));
    expect(refused.message).toContain("and it has 7");
    await publish(bob, "@acme/g", ["1.0.1"]);
    const doc = await readDoc(bob, "@acme/g");
    expect(Object.keys(doc.versions)).toEqual(["1.0.0", "1.0.1"]);
    const tgz = await getTarball({ ctx: bob, input: { name: "@acme/g", filename: "g-1.0.1.tgz" } });
    expect(tgz).toMatchObject({ kind: "stream", integrity: doc.versions["1.0.1"].dist.integrity });
  });

  it("takes an update that overtook checkout.session.completed, from the subscription's metadata", async () => {
    const carol = await tokenContext(deps, { user: "carol", role: "maintainer" });
    const carolId = (carol.actor as TokenActor).userId;
    const r = await deliver(
      "customer.subscription.updated",
      stripeSubscription({
        id: "sub_carol",
        customer: "cus_carol",
        price: "price_solo",
        status: "active",
        account: `user:${carolId}`,
      }),
    );
    expect(r.result).toBe("applied");
    for (let i = 0; i < 4; i++) await publish(carol, `carol-${i}`, ["1.0.0"]);
    expect(await getBilling({ ctx: carol, input: {} })).toMatchObject({
      account: { type: "user", name: "carol" },
      plan: "solo",
      limits: { packages: 20, scopes: 5 },
      usage: { packages: 4, scopes: 0 },
    });
    // An account that pays already changes plans in the portal.
    expect(
      (await failure(createCheckoutSession({ ctx: carol, input: { plan: "team" } }))).code,
    ).toBe("CONFLICT");
  });

  it("lets a platform admin set Enterprise limits (and only them)", async () => {
    expect(
      (
        await failure(
          setAccountPlan({ ctx: bob, input: { org: "acme", plan: "enterprise", packages: 8 } }),
        )
      ).code,
    ).toBe("FORBIDDEN");
    await setAccountPlan({
      ctx: root,
      input: { org: "acme", plan: "enterprise", packages: 8, scopes: null },
    });
    await publish(bob, "@acme/h", ["1.0.0"]);
    const err = await failure(publish(bob, "@acme/i", ["1.0.0"]));
    expect(err.message).toContain(
      "@acme is on the Enterprise plan, which allows 8 packages, and it has 8",
    );
  });
});
