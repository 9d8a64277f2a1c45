/**
 * What billing must refuse: the webhook without a signature, with a wrong or stale one, or with
 * a body changed after signing (the body is verified as it arrived, byte for byte); a replayed
 * event; and on the admin routes no credential, a non-member (404), a member who is not an admin,
 * CI tokens, a non-admin setting plans, malformed bodies. The webhook stays reachable without a
 * token when the registry is private by login.
 */
import {
  type StripeStandIn,
  signedStripeEvent,
  signStripePayload,
  startStripeStandIn,
  stripeSubscription,
  TEST_WEBHOOK_SECRET,
  tokenContext,
} from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

let reg: TestRegistry;
let stripe: StripeStandIn;
let alice: string; // admin of @acme
let bob: string; // maintainer in @acme
let carol: string; // not a member
let aliceCi: string;
let root: string; // platform admin
let acmeId: string;

const env = (stripeUrl: string) => ({
  STRIPE_SECRET_KEY: "sk_test_packr",
  STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
  STRIPE_API_URL: stripeUrl,
  PACKR_STRIPE_PRICE_SOLO: "price_solo",
  PACKR_STRIPE_PRICE_TEAM: "price_team",
  // Private by login: everything but the open routes needs a token.
  PACKR_READ_REQUIRES_AUTH: "true",
});

const post = (payload: string, signature?: string) =>
  reg.app.request("/api/billing/webhook", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(signature === undefined ? {} : { "stripe-signature": signature }),
    },
    body: payload,
  });

beforeAll(async () => {
  stripe = await startStripeStandIn();
  reg = await createTestRegistry(env(stripe.url));
  const deps = reg.runtime.deps;
  alice = (await tokenContext(deps, { user: "alice", role: "maintainer" })).token;
  bob = (await tokenContext(deps, { user: "bob", role: "maintainer" })).token;
  carol = (await tokenContext(deps, { user: "carol", role: "maintainer" })).token;
  aliceCi = (await tokenContext(deps, { user: "alice", role: "ci-publish", kind: "ci" })).token;
  root = await reg.login("admin", ADMIN_PASSWORD);
  const a = client(reg.app, alice);
  const created = await a.post("/api/v1/admin/orgs", { name: "acme" });
  acmeId = ((await created.json()) as { org: { id: string } }).org.id;
  expect(
    (await a.post("/api/v1/admin/orgs/acme/members", { user: "bob", role: "maintainer" })).status,
  ).toBe(201);
});
afterAll(async () => {
  await reg.close();
  await stripe.close();
});

describe("the Stripe webhook", () => {
  const event = (
    id: string,
    object: Record<string, unknown>,
    type = "customer.subscription.updated",
  ) => ({
    id,
    type,
    created: Math.floor(Date.now() / 1000),
    object,
  });
  const sub = (status: string) =>
    stripeSubscription({
      id: "sub_sec",
      customer: "cus_sec",
      price: "price_solo",
      status,
      account: `org:${acmeId}`,
    });

  it("refuses a missing, wrong, stale or tampered signature with 400 and changes nothing", async () => {
    const good = signedStripeEvent(event("evt_sec_1", sub("active")));
    const missing = await expectError(await post(good.payload), 400, "VALIDATION");
    expect(missing.error).toContain("Stripe-Signature header is missing");
    await expectError(await post(good.payload, "garbage"), 400, "VALIDATION");
    await expectError(await post(good.payload, "t=1,v1="), 400, "VALIDATION");
    const wrong = signedStripeEvent(event("evt_sec_1", sub("active")), { secret: "whsec_wrong" });
    await expectError(await post(wrong.payload, wrong.signature), 400, "VALIDATION");
    const stale = signedStripeEvent(event("evt_sec_1", sub("active")), {
      timestamp: Math.floor(Date.now() / 1000) - 600,
    });
    await expectError(await post(stale.payload, stale.signature), 400, "VALIDATION");
    const tampered = good.payload.replace('"price_solo"', '"price_team"');
    await expectError(await post(tampered, good.signature), 400, "VALIDATION");
    // A signed body that is not JSON is refused too, not a 500.
    const junk = "not json";
    const junkSig = signStripePayload(junk);
    await expectError(await post(junk, junkSig), 400, "VALIDATION");
    const view = await client(reg.app, alice).get("/api/v1/admin/billing?org=acme");
    expect(await view.json()).toMatchObject({ plan: "free" });
  });

  it("verifies the raw body exactly as sent (whitespace and key order kept), with no token, while private", async () => {
    const object = sub("active");
    const payload = `{\n  "type": "customer.subscription.updated",\n  "id": "evt_sec_raw",\n  "object": "event",\n  "created": ${Math.floor(Date.now() / 1000)},\n  "data": { "object": ${JSON.stringify(object, null, 4)} }\n}`;
    const signature = signStripePayload(payload);
    const res = await post(payload, signature);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      received: true,
      result: "applied",
      type: "customer.subscription.updated",
    });
    const view = await client(reg.app, alice).get("/api/v1/admin/billing?org=acme");
    expect(await view.json()).toMatchObject({ plan: "solo", state: "active" });
    // Private by login still closes everything else to strangers.
    await expectError(await client(reg.app).get("/api/v1/admin/billing"), 401, "UNAUTHORIZED");
  });

  it("acknowledges a replayed event without applying it again", async () => {
    const deleted = signedStripeEvent(
      event("evt_sec_del", sub("canceled"), "customer.subscription.deleted"),
    );
    expect(await (await post(deleted.payload, deleted.signature)).json()).toMatchObject({
      result: "applied",
    });
    const replay = await post(deleted.payload, deleted.signature);
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ result: "duplicate" });
    // A replay of the earlier "active" update, re-signed: its id was seen, nothing changes.
    const again = signedStripeEvent(event("evt_sec_raw", sub("active")));
    expect(await (await post(again.payload, again.signature)).json()).toMatchObject({
      result: "duplicate",
    });
    const view = await client(reg.app, alice).get("/api/v1/admin/billing?org=acme");
    expect(await view.json()).toMatchObject({ plan: "free", status: "canceled" });
  });

  it("ignores (2xx) events for accounts it does not know or types it does not handle", async () => {
    const stranger = signedStripeEvent(
      event(
        "evt_sec_x",
        stripeSubscription({
          id: "sub_x",
          customer: "cus_x",
          price: "price_team",
          status: "active",
          account: "org:org_nope",
        }),
      ),
    );
    expect(await (await post(stranger.payload, stranger.signature)).json()).toMatchObject({
      result: "ignored",
    });
    const other = signedStripeEvent(event("evt_sec_y", { id: "pi_1" }, "payment_intent.succeeded"));
    expect(await (await post(other.payload, other.signature)).json()).toMatchObject({
      result: "ignored",
    });
  });
});

describe("the billing admin routes", () => {
  const routes = [
    { method: "GET", path: "/api/v1/admin/billing?org=acme" },
    { method: "POST", path: "/api/v1/admin/billing/checkout", body: { plan: "team", org: "acme" } },
    { method: "POST", path: "/api/v1/admin/billing/portal", body: { org: "acme" } },
    {
      method: "PUT",
      path: "/api/v1/admin/billing/plan",
      body: { org: "acme", plan: "enterprise", packages: 1000 },
    },
  ];
  const send = (
    r: { method: string; path: string; body?: unknown },
    token?: string,
    raw?: string,
  ) =>
    reg.app.request(r.path, {
      method: r.method,
      headers: {
        "content-type": "application/json",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(r.body !== undefined || raw !== undefined ? { body: raw ?? JSON.stringify(r.body) } : {}),
    });

  it("refuses every route without a credential or with a forged token", async () => {
    for (const r of routes) {
      await expectError(await send(r), 401, "UNAUTHORIZED");
      expect((await send(r, "a.b.c")).status).toBe(401);
    }
  });

  it("hides an org from a non-member (404) and refuses a maintainer and CI tokens (403)", async () => {
    for (const r of routes.slice(0, 3)) await expectError(await send(r, carol), 404, "NOT_FOUND");
    // A member may look, but only an org admin buys or opens the portal.
    expect((await send(routes[0] as never, bob)).status).toBe(200);
    for (const r of routes.slice(1, 3)) {
      const body = await expectError(await send(r, bob), 403, "FORBIDDEN");
      expect(body.error).toContain("bob is a maintainer in @acme");
    }
    for (const r of routes.slice(1, 3)) await expectError(await send(r, aliceCi), 403, "FORBIDDEN");
    // Nobody but a platform admin sets plans, not even the org's admin.
    await expectError(await send(routes[3] as never, alice), 403, "FORBIDDEN");
    expect(stripe.calls.filter((c) => c.method === "POST")).toEqual([]);
  });

  it("refuses malformed bodies with 400 before calling Stripe", async () => {
    const checkout = routes[1] as { method: string; path: string };
    for (const body of [
      {},
      { plan: 5 },
      { plan: "" },
      { plan: "gold" },
      { plan: "enterprise" },
      { plan: "team", org: "" },
      { plan: "team", org: "../x" },
      { plan: "team", org: "x".repeat(300) },
    ]) {
      await expectError(await send({ ...checkout, body }, alice), 400, "VALIDATION");
    }
    await expectError(await send(checkout, alice, "{not json"), 400, "VALIDATION");
    const plan = routes[3] as { method: string; path: string };
    for (const body of [
      { plan: "enterprise" },
      { org: "acme", user: "alice", plan: "enterprise" },
      { org: "acme", plan: "team" },
      { org: "acme", plan: "enterprise", packages: -1 },
    ]) {
      await expectError(await send({ ...plan, body }, root), 400, "VALIDATION");
    }
    expect(stripe.calls.filter((c) => c.method === "POST")).toEqual([]);
  });

  it("lets a platform admin set Enterprise limits", async () => {
    const res = await send(routes[3] as never, root);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ plan: "enterprise", packages: 1000, scopes: null });
    const view = await client(reg.app, alice).get("/api/v1/admin/billing?org=acme");
    expect(await view.json()).toMatchObject({
      plan: "enterprise",
      limits: { packages: 1000, scopes: null },
    });
  });
});
