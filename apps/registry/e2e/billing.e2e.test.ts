/**
 * A plan limit through the real npm: with billing on (STRIPE_SECRET_KEY, the Stripe client on a
 * loopback stand-in it never needs here), a CI token's `npm publish` of a 4th package on the Free
 * plan fails and npm prints the registry's sentence (plan, limit, usage, upgrade URL); a new
 * version of an existing package still publishes.
 */
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type StripeStandIn, startStripeStandIn, TEST_WEBHOOK_SECRET } from "@packr/core/testing";
import { afterAll, beforeAll, describe, it, vi } from "vitest";
import { type RegistryProcess, seedTokens, startRegistryProcess } from "../test/harness.ts";
import {
  Clients,
  expectFailure,
  expectSuccess,
  makeProject,
  npmrc,
  stopRegistry,
} from "./clients.ts";

vi.setConfig({ testTimeout: 300_000 });

let registry: RegistryProcess;
let stripe: StripeStandIn;
let clients: Clients;
let ci = "";

beforeAll(async () => {
  clients = await Clients.create("billing");
  stripe = await startStripeStandIn();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-e2e-billing-data-"));
  [ci = ""] = await seedTokens(dataDir, [{ user: "builder", role: "ci-publish", kind: "ci" }]);
  registry = await startRegistryProcess({
    dataDir,
    env: {
      STRIPE_SECRET_KEY: "sk_test_packr",
      STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      STRIPE_API_URL: stripe.url,
      PACKR_DASHBOARD_URL: "http://dashboard.test",
    },
  });
});

afterAll(async () => {
  await stopRegistry(registry);
  await stripe?.close();
  await clients?.cleanup();
});

const project = (name: string, version: string) =>
  makeProject(clients, `${name}-${version}`, {
    manifest: { name, version, main: "index.js", license: "MIT" },
    files: { "index.js": `module.exports = ${JSON.stringify(version)};\n` },
    npmrc: npmrc(registry.url, ci),
  });

describe("npm publish over the Free plan's package limit", () => {
  it("prints the plan, the limit, the usage and the upgrade URL; new versions still publish", async () => {
    for (const name of ["bill-one", "bill-two", "bill-three"]) {
      expectSuccess(await clients.npm(["publish"], { cwd: await project(name, "1.0.0") }));
    }
    const refused = await clients.npm(["publish"], { cwd: await project("bill-four", "1.0.0") });
    expectFailure(
      refused,
      "402",
      "builder's personal account is on the Free plan, which allows 3 packages outside orgs, and it has 3: creating bill-four needs a bigger plan. Upgrade at http://dashboard.test/billing",
    );
    expectSuccess(await clients.npm(["publish"], { cwd: await project("bill-two", "1.1.0") }));
  });
});
