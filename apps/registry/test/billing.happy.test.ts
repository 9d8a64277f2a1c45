/**
 * Billing over HTTP, with the Stripe client pointed (STRIPE_API_URL) at a loopback stand-in and
 * events signed by Stripe's own helper: plan limits on creating packages (a CI token included,
 * 402 with npm's sentence), never on new versions or installs (even after a downgrade), Checkout
 * and portal URLs, the webhook changing the plan, and a registry without STRIPE_SECRET_KEY that
 * has no limits and no billing routes.
 */
import {
  publishBody,
  type StripeStandIn,
  signedStripeEvent,
  startStripeStandIn,
  stripeSubscription,
  TEST_WEBHOOK_SECRET,
  tokenContext,
} from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

const billingEnv = (stripeUrl: string): Record<string, string> => ({
  STRIPE_SECRET_KEY: "sk_test_packr",
  STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
  STRIPE_API_URL: stripeUrl,
  PACKR_STRIPE_PRICE_SOLO: "price_solo",
  PACKR_STRIPE_PRICE_TEAM: "price_team",
  PACKR_DASHBOARD_URL: "http://dashboard.test",
});

describe("billing on", () => {
  let reg: TestRegistry;
  let stripe: StripeStandIn;
  let alice: string; // maintainer, admin of @acme
  let aliceCi: string; // ci-publish token of alice
  let bob: string; // reader in @acme
  let acmeId: string;
  let seq = 0;

  const publish = (token: string, name: string, version: string) =>
    client(reg.app, token).put(
      `/${name.replace("/", "%2f")}`,
      publishBody(name, version, { access: "public" }),
    );
  const webhook = (type: string, object: Record<string, unknown>, created?: number) => {
    const { payload, signature } = signedStripeEvent({
      id: `evt_happy_${++seq}`,
      type,
      created: created ?? Math.floor(Date.now() / 1000),
      object,
    });
    return reg.app.request("/api/billing/webhook", {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signature },
      body: payload,
    });
  };

  beforeAll(async () => {
    stripe = await startStripeStandIn();
    reg = await createTestRegistry(billingEnv(stripe.url));
    const deps = reg.runtime.deps;
    alice = (await tokenContext(deps, { user: "alice", role: "maintainer" })).token;
    aliceCi = (await tokenContext(deps, { user: "alice", role: "ci-publish", kind: "ci" })).token;
    bob = (await tokenContext(deps, { user: "bob", role: "maintainer" })).token;
  });
  afterAll(async () => {
    await reg.close();
    await stripe.close();
  });

  it("shows the personal account's Free plan, limits and usage", async () => {
    const res = await client(reg.app, alice).get("/api/v1/admin/billing");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      account: { type: "user", name: "alice" },
      plan: "free",
      planTitle: "Free",
      status: "active",
      state: "free",
      limits: { packages: 3, scopes: 1 },
      usage: { packages: 0, scopes: 0 },
      currentPeriodEnd: null,
      graceEndsAt: null,
      upgradeUrl: "http://dashboard.test/billing",
      hasCustomer: false,
    });
  });

  it("refuses a CI token's 4th new package with 402 and the sentence; new versions still publish", async () => {
    for (const name of ["p-one", "p-two", "p-three"]) {
      expect((await publish(aliceCi, name, "1.0.0")).status).toBe(201);
    }
    const refused = await publish(aliceCi, "p-four", "1.0.0");
    const body = await expectError(refused, 402, "LIMIT_EXCEEDED");
    expect(body.error).toBe(
      "alice's personal account is on the Free plan, which allows 3 packages outside orgs, and it has 3: creating p-four needs a bigger plan. Upgrade at http://dashboard.test/billing (new versions of existing packages still publish).",
    );
    expect(body).toMatchObject({ plan: "free", limit: 3, usage: 3 });
    expect((await publish(aliceCi, "p-two", "1.1.0")).status).toBe(201);
    expect((await client(reg.app).get("/p-four")).status).toBe(404);
  });

  it("buys Team for an org through Checkout and the webhook, then the org creates more", async () => {
    // The first publish claims @acme (alice's one scope), then the org fills its Free plan.
    for (const n of ["a", "b", "c"])
      expect((await publish(alice, `@acme/${n}`, "1.0.0")).status).toBe(201);
    await expectError(await publish(alice, "@acme/d", "1.0.0"), 402, "LIMIT_EXCEEDED");
    await expectError(await publish(alice, "@second/x", "1.0.0"), 402, "LIMIT_EXCEEDED");
    const a = client(reg.app, alice);
    expect(
      (await a.post("/api/v1/admin/orgs/acme/members", { user: "bob", role: "reader" })).status,
    ).toBe(201);
    const org = (await (await a.get("/api/v1/admin/orgs/acme")).json()) as { org: { id: string } };
    acmeId = org.org.id;

    const checkout = await a.post("/api/v1/admin/billing/checkout", { plan: "team", org: "acme" });
    expect(checkout.status).toBe(200);
    const { url } = (await checkout.json()) as { url: string };
    expect(url).toMatch(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_/);
    const asked = stripe.calls.filter((c) => c.path === "/v1/checkout/sessions");
    expect(asked).toHaveLength(1);
    expect(asked[0]?.form).toMatchObject({
      "line_items[0][price]": "price_team",
      client_reference_id: `org:${acmeId}`,
      cancel_url: "http://dashboard.test/billing?org=acme&checkout=canceled",
    });

    stripe.subscriptions.set(
      "sub_acme",
      stripeSubscription({
        id: "sub_acme",
        customer: "cus_acme",
        price: "price_team",
        status: "active",
        periodEnd: 1_900_000_000,
      }),
    );
    const done = await webhook("checkout.session.completed", {
      id: "cs_test_1",
      object: "checkout.session",
      mode: "subscription",
      client_reference_id: `org:${acmeId}`,
      customer: "cus_acme",
      subscription: "sub_acme",
    });
    expect(done.status).toBe(200);
    expect(await done.json()).toEqual({
      received: true,
      result: "applied",
      type: "checkout.session.completed",
    });
    expect((await publish(alice, "@acme/d", "1.0.0")).status).toBe(201);

    // A reader of the org sees the plan; the portal opens for its admin.
    const view = await client(reg.app, bob).get("/api/v1/admin/billing?org=acme");
    expect(await view.json()).toMatchObject({
      account: { type: "org", name: "acme" },
      plan: "team",
      state: "active",
      limits: { packages: 100, scopes: null },
      usage: { packages: 4, scopes: 1 },
      currentPeriodEnd: new Date(1_900_000_000_000).toISOString(),
      hasCustomer: true,
    });
    const portal = await a.post("/api/v1/admin/billing/portal", { org: "acme" });
    expect(portal.status).toBe(200);
    expect(((await portal.json()) as { url: string }).url).toMatch(
      /^https:\/\/billing\.stripe\.test\//,
    );
  });

  it("after a cancellation blocks new packages only: new versions publish, installs still work", async () => {
    const gone = await webhook(
      "customer.subscription.deleted",
      stripeSubscription({
        id: "sub_acme",
        customer: "cus_acme",
        price: "price_team",
        status: "canceled",
      }),
    );
    expect(((await gone.json()) as { result: string }).result).toBe("applied");
    const refused = await expectError(
      await publish(alice, "@acme/e", "1.0.0"),
      402,
      "LIMIT_EXCEEDED",
    );
    expect(refused.error).toContain(
      "@acme is on the Free plan, which allows 3 packages, and it has 4: creating @acme/e needs a bigger plan.",
    );
    expect((await publish(alice, "@acme/d", "1.0.1")).status).toBe(201);
    // An install of the package beyond the limit: packument (both forms) and tarball.
    for (const accept of ["application/json", "application/vnd.npm.install-v1+json"]) {
      const doc = await client(reg.app).get("/@acme%2fd", { accept });
      expect(doc.status).toBe(200);
      const versions = ((await doc.json()) as { versions: Record<string, unknown> }).versions;
      expect(Object.keys(versions)).toEqual(["1.0.0", "1.0.1"]);
    }
    const tgz = await client(reg.app).get("/@acme/d/-/d-1.0.1.tgz");
    expect(tgz.status).toBe(200);
    expect((await tgz.arrayBuffer()).byteLength).toBeGreaterThan(0);
  });
});

describe("billing off (no STRIPE_SECRET_KEY)", () => {
  let reg: TestRegistry;
  let alice: string;
  beforeAll(async () => {
    reg = await createTestRegistry();
    alice = (
      await tokenContext(reg.runtime.deps, { user: "alice", role: "ci-publish", kind: "ci" })
    ).token;
  });
  afterAll(async () => reg.close());

  it("has no limits", async () => {
    for (let i = 0; i < 5; i++) {
      const res = await client(reg.app, alice).put(`/free-${i}`, publishBody(`free-${i}`, "1.0.0"));
      expect(res.status).toBe(201);
    }
    for (let i = 0; i < 3; i++) {
      const res = await client(reg.app, alice).put(
        `/@scope${i}%2fx`,
        publishBody(`@scope${i}/x`, "1.0.0"),
      );
      expect(res.status).toBe(201);
    }
  });

  it("answers the billing routes with a 404 that says billing is off", async () => {
    const maintainer = (await tokenContext(reg.runtime.deps, { user: "alice", role: "maintainer" }))
      .token;
    const c = client(reg.app, maintainer);
    for (const res of [
      await c.get("/api/v1/admin/billing"),
      await c.post("/api/v1/admin/billing/checkout", { plan: "team" }),
      await c.post("/api/v1/admin/billing/portal", {}),
      await client(reg.app).post("/api/billing/webhook", "{}", { "stripe-signature": "t=1,v1=00" }),
    ]) {
      const body = await expectError(res, 404, "NOT_FOUND");
      expect(body.error).toContain("Billing is not enabled on this registry");
    }
  });
});
