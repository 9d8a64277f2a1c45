/**
 * `packr-cli billing`: the built CLI against the registry as a process with billing on (the
 * Stripe client on a loopback stand-in it does not need here) and off: the plan and usage as a
 * table and as `--json`, an unknown org refused with the registry's sentence.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  publishBody,
  type StripeStandIn,
  startStripeStandIn,
  TEST_WEBHOOK_SECRET,
} from "@packr/core/testing";
import { npmrc, stopRegistry } from "@packr/registry/e2e/clients";
import {
  type RegistryProcess,
  seedTokens,
  startRegistryProcess,
} from "@packr/registry/test/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliSandbox, cli, fails, ok } from "./cli-harness.ts";

let registry: RegistryProcess;
let stripe: StripeStandIn;
let box: CliSandbox;
let home = "";

beforeAll(async () => {
  box = await CliSandbox.create("billing");
  stripe = await startStripeStandIn();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-cli-billing-"));
  const [token = ""] = await seedTokens(dataDir, [{ user: "alice", role: "maintainer" }]);
  registry = await startRegistryProcess({
    dataDir,
    env: {
      STRIPE_SECRET_KEY: "sk_test_packr",
      STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      STRIPE_API_URL: stripe.url,
      PACKR_BILLING_URL: "https://packr.example/billing",
    },
  });
  home = await box.home("alice");
  await writeFile(path.join(home, ".npmrc"), npmrc(registry.url, token));
  const res = await fetch(`${registry.url}/cli-one`, {
    method: "PUT",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(publishBody("cli-one", "1.0.0")),
  });
  expect(res.status).toBe(201);
});

afterAll(async () => {
  await stopRegistry(registry);
  await stripe?.close();
  await box?.cleanup();
});

describe("packr-cli billing", () => {
  it("prints the personal plan, usage and limits, and the API's document with --json", async () => {
    const human = ok(await cli(["billing"], { home }));
    expect(human.stdout).toContain("alice (personal): Free plan, free");
    expect(human.stdout).toMatch(/packages\s+1\s+3/);
    expect(human.stdout).toMatch(/scopes\s+0\s+1/);
    expect(human.stdout).toContain("Upgrade or manage: https://packr.example/billing");
    const json = ok(await cli(["billing", "--json"], { home })).json();
    expect(json).toMatchObject({
      account: { type: "user", name: "alice" },
      plan: "free",
      limits: { packages: 3, scopes: 1 },
      usage: { packages: 1, scopes: 0 },
    });
  });

  it("refuses an org the caller does not belong to with the registry's sentence", async () => {
    fails(await cli(["billing", "--org", "@nope"], { home }), 4, "There is no org @nope here");
  });
});
