/**
 * `client.billing`: against the registry as a process with billing on (the Stripe client on a
 * loopback stand-in) and off: the personal account's plan and usage, a Checkout URL, the
 * registry's refusals as typed `PackrApiError`s.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  publishBody,
  type StripeStandIn,
  startStripeStandIn,
  TEST_WEBHOOK_SECRET,
} from "@packr/core/testing";
import {
  type RegistryProcess,
  seedTokens,
  startRegistryProcess,
} from "@packr/registry/test/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPackrClient, PackrApiError } from "../src/index.ts";

let registry: RegistryProcess;
let stripe: StripeStandIn;
let token = "";

beforeAll(async () => {
  stripe = await startStripeStandIn();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-sdk-billing-"));
  [token = ""] = await seedTokens(dataDir, [{ user: "alice", role: "maintainer" }]);
  registry = await startRegistryProcess({
    dataDir,
    env: {
      PACKR_LOG_LEVEL: "warn",
      STRIPE_SECRET_KEY: "sk_test_packr",
      STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      STRIPE_API_URL: stripe.url,
      PACKR_STRIPE_PRICE_SOLO: "price_solo",
      PACKR_BILLING_URL: "https://packr.example/billing",
    },
  });
});

afterAll(async () => {
  await registry?.stop();
  if (registry) await rm(registry.dataDir, { recursive: true, force: true });
  await stripe?.close();
});

describe("client.billing", () => {
  it("reads the personal account's plan and usage, and starts a Checkout", async () => {
    const res = await fetch(`${registry.url}/one`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(publishBody("one", "1.0.0")),
    });
    expect(res.status).toBe(201);
    const client = createPackrClient({ registry: registry.url, token });
    expect(await client.billing.get()).toMatchObject({
      account: { type: "user", name: "alice" },
      plan: "free",
      limits: { packages: 3, scopes: 1 },
      usage: { packages: 1, scopes: 0 },
      upgradeUrl: "https://packr.example/billing",
    });
    const { url } = await client.billing.checkout({ plan: "solo" });
    expect(url).toMatch(/^https:\/\/checkout\.stripe\.test\//);
    expect(stripe.calls.at(-1)?.form).toMatchObject({ "line_items[0][price]": "price_solo" });
  });

  it("turns refusals into PackrApiError: an unknown org, no token", async () => {
    const client = createPackrClient({ registry: registry.url, token });
    const err = await client.billing.get({ org: "@nope" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackrApiError);
    expect(err).toMatchObject({ status: 404, code: "NOT_FOUND" });
    const anon = createPackrClient({ registry: registry.url });
    expect(await anon.billing.get().catch((e: unknown) => e)).toMatchObject({ status: 401 });
  });
});
