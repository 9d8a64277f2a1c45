/**
 * `client.webhooks`: every hook call against the registry as a process, each answer checked against
 * its schema, and the registry's refusals as typed `PackrApiError`s. The delivery calls (test,
 * deliveries, delivery, redeliver) are checked for the request they send; until the delivery
 * routes are merged the registry answers those with 404, which `deliveryCall` tolerates.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  type RegistryProcess,
  seedTokens,
  startRegistryProcess,
} from "@packr/registry/test/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { createPackrClient, PackrApiError, type PackrClient } from "../src/index.ts";
import * as S from "../src/schemas.ts";

let registry: RegistryProcess;
let alice: PackrClient;
let bob: PackrClient;
let ci: PackrClient;
const sent: Array<{ method: string; url: string }> = [];

const PUBLIC = "https://93.184.216.34/hooks/sdk";

beforeAll(async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-sdk-hooks-"));
  const tokens = (await seedTokens(dataDir, [
    { user: "alice", role: "maintainer", kind: "personal" },
    { user: "bob", role: "maintainer", kind: "personal" },
    { user: "alice", role: "ci-readonly", kind: "ci" },
  ])) as [string, string, string];
  registry = await startRegistryProcess({ dataDir, env: { PACKR_LOG_LEVEL: "warn" } });
  const recording: typeof fetch = (input, init) => {
    sent.push({ method: init?.method ?? "GET", url: String(input) });
    return fetch(input, init);
  };
  alice = createPackrClient({ registry: registry.url, token: tokens[0], fetch: recording });
  bob = createPackrClient({ registry: registry.url, token: tokens[1] });
  ci = createPackrClient({ registry: registry.url, token: tokens[2] });
});

afterAll(async () => {
  await registry?.stop();
  if (registry) await rm(registry.dataDir, { recursive: true, force: true });
});

async function refusal(p: Promise<unknown>): Promise<PackrApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof PackrApiError) return err;
    throw err;
  }
  throw new Error("expected a PackrApiError");
}

/** A delivery route's answer, checked against its schema, or null while the route is not there. */
async function deliveryCall<T extends z.ZodTypeAny>(
  schema: T,
  p: Promise<unknown>,
): Promise<z.infer<T> | null> {
  try {
    return schema.parse(await p);
  } catch (err) {
    if (err instanceof PackrApiError && err.status === 404) return null;
    throw err;
  }
}

describe("client.webhooks against a registry", () => {
  it("creates, lists, gets, updates and deletes a hook", async () => {
    const created = S.WebhookCreated.parse(
      await alice.webhooks.create({ url: PUBLIC, events: ["package.published"], scope: "@acme" }),
    );
    expect(created.secret).toMatch(/^whsec_/);
    expect(created.webhook).toMatchObject({
      url: PUBLIC,
      events: ["package.published"],
      scope: "@acme",
      active: true,
      owner: { type: "user", name: "alice" },
    });
    const id = created.webhook.id;
    expect(S.WebhookList.parse(await alice.webhooks.list()).webhooks.map((w) => w.id)).toEqual([
      id,
    ]);
    expect(S.WebhookResponse.parse(await alice.webhooks.get(id)).webhook).toEqual(created.webhook);
    const updated = S.WebhookResponse.parse(
      await alice.webhooks.update(id, { active: false, events: ["token.created"] }),
    );
    expect(updated.webhook).toMatchObject({ active: false, events: ["token.created"] });
    expect(await alice.webhooks.delete(id)).toBeUndefined();
    expect((await refusal(alice.webhooks.get(id))).status).toBe(404);
  });

  it("sends the delivery calls to the contract's routes", async () => {
    const { webhook } = S.WebhookCreated.parse(
      await alice.webhooks.create({ url: PUBLIC, events: ["package.published"] }),
    );
    const base = `${registry.url}/api/v1/admin/webhooks/${webhook.id}`;
    sent.length = 0;
    const ping = await deliveryCall(S.WebhookPing, alice.webhooks.test(webhook.id));
    await deliveryCall(
      S.DeliveryList,
      alice.webhooks.deliveries(webhook.id, { limit: 5, cursor: "abc" }),
    );
    await deliveryCall(S.DeliveryResponse, alice.webhooks.delivery(webhook.id, "dlv_x/y"));
    await deliveryCall(S.Redelivery, alice.webhooks.redeliver(webhook.id, "dlv_1"));
    expect(sent.map((s) => [s.method, s.url.split("?")[0]])).toEqual([
      ["POST", `${base}/test`],
      ["GET", `${base}/deliveries`],
      ["GET", `${base}/deliveries/dlv_x%2Fy`],
      ["POST", `${base}/deliveries/dlv_1/redeliver`],
    ]);
    const q = new URL(sent[1]?.url ?? "").searchParams;
    expect([q.get("limit"), q.get("cursor")]).toEqual(["5", "abc"]);
    if (ping) expect(ping.deliveryId).toBeTruthy();
    await alice.webhooks.delete(webhook.id);
  });

  it("refuses what the registry refuses, as PackrApiError", async () => {
    const { webhook } = S.WebhookCreated.parse(
      await alice.webhooks.create({ url: PUBLIC, events: ["package.published"] }),
    );
    const other = await refusal(bob.webhooks.get(webhook.id));
    expect([other.status, other.code]).toEqual([404, "NOT_FOUND"]);
    const ciErr = await refusal(ci.webhooks.list());
    expect([ciErr.status, ciErr.code]).toEqual([403, "FORBIDDEN"]);
    const ssrf = await refusal(
      alice.webhooks.create({ url: "https://127.0.0.1/x", events: ["package.published"] }),
    );
    expect([ssrf.status, ssrf.code]).toEqual([400, "VALIDATION"]);
    expect(ssrf.message).toMatch(/127\.0\.0\.1/);
    await expect(alice.webhooks.get("")).rejects.toThrow(TypeError);
    await alice.webhooks.delete(webhook.id);
  });
});
