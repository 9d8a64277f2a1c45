/**
 * `client.webhooks`: every hook call against the registry as a process, each answer checked against
 * its schema, and the registry's refusals as typed `PackrApiError`s. The delivery calls (test,
 * deliveries, delivery, redeliver) run against a second registry process that may deliver to a
 * loopback receiver: the ping arrives, is listed, shown and redelivered under the same id.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import {
  type RegistryProcess,
  seedTokens,
  startRegistryProcess,
} from "@packr/registry/test/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

describe("client.webhooks delivery calls against a registry that delivers to loopback", () => {
  let reg: RegistryProcess;
  let carol: PackrClient;
  let dave: PackrClient;
  const calls: Array<{ method: string; url: string }> = [];
  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.end("pong");
    });
  });
  let hookUrl = "";

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-sdk-deliveries-"));
    const tokens = (await seedTokens(dataDir, [
      { user: "carol", role: "maintainer", kind: "personal" },
      { user: "dave", role: "maintainer", kind: "personal" },
    ])) as [string, string];
    reg = await startRegistryProcess({
      dataDir,
      env: {
        PACKR_LOG_LEVEL: "warn",
        PACKR_WEBHOOK_ALLOW_HTTP: "true",
        PACKR_WEBHOOK_ALLOW_PRIVATE: "true",
      },
    });
    const recording: typeof fetch = (input, init) => {
      calls.push({ method: init?.method ?? "GET", url: String(input) });
      return fetch(input, init);
    };
    carol = createPackrClient({ registry: reg.url, token: tokens[0], fetch: recording });
    dave = createPackrClient({ registry: reg.url, token: tokens[1] });
  });

  afterAll(async () => {
    await reg?.stop();
    if (reg) await rm(reg.dataDir, { recursive: true, force: true });
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  /** Poll the deliveries until `done` holds (the ping is sent by a job, after the request). */
  async function deliveriesUntil(id: string, done: (d: S.DeliveryList) => boolean) {
    for (let i = 0; i < 150; i++) {
      const page = S.DeliveryList.parse(await carol.webhooks.deliveries(id, { limit: 10 }));
      if (done(page)) return page;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("the deliveries did not reach the expected state within 15 s");
  }

  it("pings a hook, lists, shows and redelivers the delivery through the contract's routes", async () => {
    const { webhook, secret } = S.WebhookCreated.parse(
      await carol.webhooks.create({ url: hookUrl, events: ["package.published"] }),
    );
    const base = `${reg.url}/api/v1/admin/webhooks/${webhook.id}`;
    calls.length = 0;
    const { deliveryId } = S.WebhookPing.parse(await carol.webhooks.test(webhook.id));
    expect(deliveryId).toMatch(/^msg_/);
    const first = await deliveriesUntil(webhook.id, (p) =>
      p.deliveries.some((d) => d.deliveryId === deliveryId && d.status === "succeeded"),
    );
    expect(first.deliveries).toHaveLength(1);
    expect(first.nextCursor).toBeNull();
    const row = first.deliveries[0];
    expect(row).toMatchObject({
      deliveryId,
      event: "ping",
      attempt: 1,
      status: "succeeded",
      responseStatus: 200,
      error: null,
      nextAttemptAt: null,
    });
    expect(received).toHaveLength(1);
    expect(received[0]?.headers).toMatchObject({
      "x-packr-event": "ping",
      "x-packr-delivery": deliveryId,
      "webhook-id": deliveryId,
    });

    const { delivery } = S.DeliveryResponse.parse(
      await carol.webhooks.delivery(webhook.id, row?.id ?? ""),
    );
    expect(delivery).toMatchObject({ ...row, responseBody: "pong" });
    expect(delivery.payload).toEqual(JSON.parse(received[0]?.body ?? "{}"));
    expect(delivery.requestHeaders).toMatchObject({
      "x-packr-event": "ping",
      "x-packr-delivery": deliveryId,
    });
    expect(JSON.stringify(delivery)).not.toContain(secret);

    const again = S.Redelivery.parse(await carol.webhooks.redeliver(webhook.id, deliveryId));
    expect(again).toEqual({ deliveryId, attempt: 2 });
    const second = await deliveriesUntil(webhook.id, (p) =>
      p.deliveries.some((d) => d.attempt === 2 && d.status === "succeeded"),
    );
    // Newest first: the redelivery is attempt 2 of the same delivery id.
    expect(second.deliveries.map((d) => [d.deliveryId, d.attempt, d.status])).toEqual([
      [deliveryId, 2, "succeeded"],
      [deliveryId, 1, "succeeded"],
    ]);
    expect(received.map((r) => r.headers["x-packr-delivery"])).toEqual([deliveryId, deliveryId]);

    // Keyset pages of one.
    const page1 = S.DeliveryList.parse(await carol.webhooks.deliveries(webhook.id, { limit: 1 }));
    expect(page1.deliveries.map((d) => d.attempt)).toEqual([2]);
    expect(page1.nextCursor).not.toBeNull();
    const page2 = S.DeliveryList.parse(
      await carol.webhooks.deliveries(webhook.id, { limit: 1, cursor: page1.nextCursor ?? "" }),
    );
    expect(page2.deliveries.map((d) => d.attempt)).toEqual([1]);

    // The requests went to the contract's routes, with the query and the id encoded.
    const paths = calls.map((c) => [c.method, c.url.split("?")[0]]);
    expect(paths[0]).toEqual(["POST", `${base}/test`]);
    expect(paths).toContainEqual(["GET", `${base}/deliveries`]);
    expect(paths).toContainEqual(["GET", `${base}/deliveries/${row?.id}`]);
    expect(paths).toContainEqual(["POST", `${base}/deliveries/${deliveryId}/redeliver`]);
    const q = new URL(calls.at(-1)?.url ?? "").searchParams;
    expect([q.get("limit"), q.get("cursor")]).toEqual(["1", page1.nextCursor]);
    calls.length = 0;
    const odd = await refusal(carol.webhooks.delivery(webhook.id, "dlv_x/y"));
    expect([odd.status, odd.code]).toEqual([404, "NOT_FOUND"]);
    expect(calls.map((c) => c.url)).toEqual([`${base}/deliveries/dlv_x%2Fy`]);
    await carol.webhooks.delete(webhook.id);
  });

  it("refuses the delivery calls to anyone who may not manage the hook, and unknown ids", async () => {
    const { webhook } = S.WebhookCreated.parse(
      await carol.webhooks.create({ url: hookUrl, events: ["package.published"] }),
    );
    const { deliveryId } = S.WebhookPing.parse(await carol.webhooks.test(webhook.id));
    for (const p of [
      dave.webhooks.test(webhook.id),
      dave.webhooks.deliveries(webhook.id),
      dave.webhooks.redeliver(webhook.id, deliveryId),
      carol.webhooks.redeliver(webhook.id, "msg_unknown"),
      carol.webhooks.delivery(webhook.id, "dlv_unknown"),
      carol.webhooks.test("whk_unknown"),
    ]) {
      const err = await refusal(p);
      expect([err.status, err.code]).toEqual([404, "NOT_FOUND"]);
    }
    const bad = await refusal(carol.webhooks.deliveries(webhook.id, { limit: 0 }));
    expect([bad.status, bad.code]).toEqual([400, "VALIDATION"]);
    await carol.webhooks.delete(webhook.id);
  });
});
