/**
 * Webhook delivery through the real job path: the registry's relay hands `event.deliver` and
 * `webhook.deliver` jobs to BullMQ on a redis-server of this suite's own, apps/worker runs them as a
 * process, and a real HTTP receiver on loopback records every request. The faults issue 18 names
 * (kill -9 mid-delivery, Redis down while publishing, FLUSHALL with deliveries waiting) lose no
 * event, and every receipt of one event carries the one delivery id. Plus the access rule end to
 * end: a removed org member's own hook stops receiving the org's restricted packages.
 */
import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { BULLMQ_PREFIX, DELIVER_WEBHOOK, deliveryIdOf, JOB_QUEUES, schema } from "@packr/core";
import { publishBody, tokenContext } from "@packr/core/testing";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "../../registry/test/harness.ts";
import { client } from "../../registry/test/http.ts";
import {
  startRedisServer,
  startWorkerProcess,
  type TestRedis,
  type WorkerProcess,
  waitFor,
} from "./processes.ts";

// The worker shares the registry's database, so this suite needs PostgreSQL (CI sets it).
process.env.DATABASE_URL ??= "postgres://postgres@127.0.0.1:5432/test";

const HOOKS = "/api/v1/admin/webhooks";
/** Failed attempts are retried after 5 s: long enough to stop the worker before a retry is due. */
const RETRY_SCHEDULE = "5s,5s,5s,5s,5s";

type Receipt = {
  deliveryId: string;
  webhookId: string;
  signature: string;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: event bodies are free-form JSON, read in assertions
  json: Record<string, any>;
  /** The status answered, or null while held (and for good when the sender went away). */
  answered: number | null;
  /** The sender closed the connection before it got an answer. */
  abandoned: boolean;
};

/**
 * A webhook receiver on 127.0.0.1 that keeps every request: its X-Packr-Delivery, webhook-id,
 * signature and body. It answers 200, or 500 while `failing`, and `holdNext()` keeps the next
 * request's answer back until the sender gives up (a delivery "in flight").
 */
async function startHookReceiver() {
  const receipts: Receipt[] = [];
  let failing = false;
  let holdNext = false;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const receipt: Receipt = {
        deliveryId: String(req.headers["x-packr-delivery"] ?? ""),
        webhookId: String(req.headers["webhook-id"] ?? ""),
        signature: String(req.headers["x-packr-signature"] ?? ""),
        body,
        json: JSON.parse(body),
        answered: null,
        abandoned: false,
      };
      receipts.push(receipt);
      res.on("close", () => {
        if (receipt.answered === null) receipt.abandoned = true;
      });
      if (holdNext) {
        holdNext = false;
        return;
      }
      receipt.answered = failing ? 500 : 200;
      res.writeHead(receipt.answered, { "content-type": "text/plain" });
      res.end(failing ? "not now" : "ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    receipts,
    holdNext() {
      holdNext = true;
    },
    fail(on: boolean) {
      failing = on;
    },
    /** Receipts of package.published events about `name`. */
    published: (name: string) =>
      receipts.filter((r) => r.json.type === "package.published" && r.json.package?.name === name),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
type HookReceiver = Awaited<ReturnType<typeof startHookReceiver>>;

/** Every event id seen has exactly one delivery id, the one derived from (event, hook). */
function expectOneDeliveryIdPerEvent(receipts: Receipt[], hookId: string): Map<string, string> {
  const byEvent = new Map<string, Set<string>>();
  for (const r of receipts) {
    expect(r.webhookId).toBe(r.deliveryId);
    const ids = byEvent.get(r.json.id) ?? new Set<string>();
    ids.add(r.deliveryId);
    byEvent.set(r.json.id, ids);
  }
  const out = new Map<string, string>();
  for (const [eventId, ids] of byEvent) {
    expect([...ids], `delivery ids of event ${eventId}`).toEqual([deliveryIdOf(eventId, hookId)]);
    out.set(eventId, [...ids][0] ?? "");
  }
  return out;
}

describe("webhook faults: apps/worker as a process, BullMQ on its own redis-server", () => {
  let redis: TestRedis;
  let reg: TestRegistry;
  let alice: string;
  let bob: string;
  let workerEnv: { databaseUrl: string; redisUrl: string; env: Record<string, string> };
  const running: WorkerProcess[] = [];
  const receivers: HookReceiver[] = [];

  const startWorker = async () => {
    const w = await startWorkerProcess(workerEnv);
    running.push(w);
    return w;
  };
  const receiver = async () => {
    const rx = await startHookReceiver();
    receivers.push(rx);
    return rx;
  };
  const db = () => reg.runtime.deps.db;
  const publish = async (token: string, name: string, version: string) =>
    (await client(reg.app, token).put(`/${encodeURIComponent(name)}`, publishBody(name, version)))
      .status;
  const createHook = async (token: string, body: Record<string, unknown>) => {
    const res = await client(reg.app, token).post(HOOKS, body);
    expect(res.status).toBe(201);
    return (await res.json()) as { webhook: { id: string }; secret: string };
  };
  const rowsOf = async (hookId: string) =>
    (await db().select().from(schema.webhookDeliveries)).filter((r) => r.webhookId === hookId);
  const succeeded = async (hookId: string) =>
    (await rowsOf(hookId)).filter((r) => r.status === "succeeded");

  beforeAll(async () => {
    redis = await startRedisServer();
    const webhookEnv = {
      PACKR_WEBHOOK_ALLOW_HTTP: "true",
      PACKR_WEBHOOK_ALLOW_PRIVATE: "true",
      PACKR_WEBHOOK_RETRY_SCHEDULE: RETRY_SCHEDULE,
    };
    reg = await createTestRegistry({
      REDIS_URL: redis.url,
      // The relay runs (it moves committed jobs to Redis); a short lease so lost jobs come back soon.
      PACKR_RUN_JOBS: "true",
      PACKR_WORKER_LEASE: "2s",
      ...webhookEnv,
    });
    const databaseUrl = reg.runtime.config.databaseUrl;
    if (!databaseUrl) throw new Error("the worker suites need DATABASE_URL");
    workerEnv = {
      databaseUrl,
      redisUrl: redis.url,
      env: {
        PACKR_DATA_DIR: reg.runtime.config.dataDir,
        PACKR_WORKER_LEASE: "2s",
        PACKR_WORKER_SHUTDOWN_GRACE: "10s",
        ...webhookEnv,
      },
    };
    alice = (await tokenContext(reg.runtime.deps, { user: "alice", role: "maintainer" })).token;
    bob = (await tokenContext(reg.runtime.deps, { user: "bob", role: "maintainer" })).token;
  });
  afterAll(async () => {
    for (const w of running) w.signal("SIGKILL");
    await reg?.close();
    await redis?.stop();
    for (const rx of receivers) await rx.close();
  });

  it("kill -9 of the worker mid-delivery: after a restart the event arrives, under the same delivery id", async () => {
    const rx = await receiver();
    const { webhook, secret } = await createHook(alice, {
      url: rx.url,
      events: ["package.published"],
      scope: "hf-kill",
    });
    rx.holdNext();
    const first = await startWorker();
    expect(await publish(alice, "hf-kill", "1.0.0")).toBe(201);
    await waitFor("the delivery in flight", async () => rx.receipts.length === 1);
    first.signal("SIGKILL");
    await first.exited;
    await waitFor("the sender gone", async () => rx.receipts[0]?.abandoned === true);
    // Nothing was recorded: the attempt is still pending, as when it was sent.
    expect((await rowsOf(webhook.id)).map((r) => [r.attempt, r.status])).toEqual([[1, "pending"]]);

    const second = await startWorker();
    await waitFor("the delivery recorded", async () => (await succeeded(webhook.id)).length === 1);
    const receipts = rx.published("hf-kill");
    expect(receipts.length).toBeGreaterThanOrEqual(2);
    expect(receipts.filter((r) => r.answered === 200).length).toBeGreaterThanOrEqual(1);
    const ids = expectOneDeliveryIdPerEvent(receipts, webhook.id);
    expect(ids.size).toBe(1);
    for (const r of receipts) {
      expect(r.body).toBe(receipts[0]?.body);
      expect(r.signature).toBe(
        `sha256=${createHmac("sha256", secret).update(r.body).digest("hex")}`,
      );
    }
    // The re-run sent attempt 1 again (its result was never recorded): one row, succeeded.
    const rows = await rowsOf(webhook.id);
    expect(rows.map((r) => [r.deliveryId, r.attempt, r.status])).toEqual([
      [[...ids.values()][0], 1, "succeeded"],
    ]);
    expect(await second.stop()).toBe(0);
  });

  it("a user's hook stops receiving an org's restricted packages once the user leaves the org", async () => {
    const w = await startWorker();
    const a = client(reg.app, alice);
    expect((await a.post("/api/v1/admin/orgs", { name: "hfacme" })).status).toBe(201);
    expect(
      (await a.post("/api/v1/admin/orgs/hfacme/members", { user: "bob", role: "reader" })).status,
    ).toBe(201);
    const bobRx = await receiver();
    const orgRx = await receiver();
    const bobHook = await createHook(bob, { url: bobRx.url, events: ["package.published"] });
    const orgHook = await createHook(alice, {
      url: orgRx.url,
      events: ["package.published"],
      orgSlug: "hfacme",
    });
    // Scoped packages are restricted by default: org members read them, others do not.
    expect(await publish(alice, "@hfacme/lib", "1.0.0")).toBe(201);
    await waitFor("1.0.0 at both hooks", async () => {
      return (
        bobRx.published("@hfacme/lib").length === 1 && orgRx.published("@hfacme/lib").length === 1
      );
    });
    expect((await a.delete("/api/v1/admin/orgs/hfacme/members/bob")).status).toBe(200);
    expect(await publish(alice, "@hfacme/lib", "1.0.1")).toBe(201);
    await waitFor("1.0.1 at the org's hook", async () => {
      return orgRx.published("@hfacme/lib").length === 2;
    });
    const secondEvent = orgRx.published("@hfacme/lib")[1]?.json;
    expect(secondEvent?.package.version).toBe("1.0.1");
    // Fanned out once, to the org's hook only: bob's hook has no delivery of that event at all.
    expect(bobRx.published("@hfacme/lib").map((r) => r.json.package.version)).toEqual(["1.0.0"]);
    expect((await rowsOf(bobHook.webhook.id)).map((r) => r.eventId)).not.toContain(secondEvent?.id);
    expect((await rowsOf(orgHook.webhook.id)).map((r) => r.status)).toEqual([
      "succeeded",
      "succeeded",
    ]);
    expect(await w.stop()).toBe(0);
  });

  it("FLUSHALL with deliveries waiting in Redis: every one is still delivered", async () => {
    const rx = await receiver();
    const { webhook } = await createHook(alice, {
      url: rx.url,
      events: ["package.published"],
      scope: "hf-flush",
    });
    const versions = ["1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0.4"];
    // Attempt 1 of each fails, so attempt 2 is queued 5 s later…
    rx.fail(true);
    const w = await startWorker();
    for (const v of versions) expect(await publish(alice, "hf-flush", v)).toBe(201);
    await waitFor(
      "5 failed first attempts",
      async () => (await rowsOf(webhook.id)).filter((r) => r.status === "failed").length === 5,
    );
    // …and waits in Redis, with no worker to take it, when Redis is flushed.
    expect(await w.stop()).toBe(0);
    const queue = new Queue(JOB_QUEUES.webhooks, {
      connection: { url: redis.url },
      prefix: BULLMQ_PREFIX,
    });
    try {
      await waitFor("every pending attempt handed to Redis", async () => {
        const pending = (await rowsOf(webhook.id)).filter((r) => r.status === "pending");
        if (pending.length !== 5) return false;
        const jobs = (await db().select().from(schema.outbox)).filter(
          (j) =>
            j.topic === DELIVER_WEBHOOK &&
            pending.some(
              (p) => p.deliveryId === j.payload.deliveryId && p.attempt === j.payload.attempt,
            ),
        );
        return (
          jobs.length === 5 &&
          jobs.every((j) => j.attempts >= 1 && j.lockedUntil !== null && j.processedAt === null) &&
          (await queue.getWaitingCount()) >= 5
        );
      });
      await redis.flushAll();
      expect(await queue.getWaitingCount()).toBe(0);
    } finally {
      await queue.close();
    }
    rx.fail(false);
    const again = await startWorker();
    await waitFor("5 deliveries after the flush", async () => {
      return (await succeeded(webhook.id)).length === 5;
    });
    const receipts = rx.published("hf-flush");
    const ids = expectOneDeliveryIdPerEvent(receipts, webhook.id);
    expect(ids.size).toBe(5);
    expect(
      receipts
        .filter((r) => r.answered === 200)
        .map((r) => r.json.package.version)
        .sort(),
    ).toEqual(versions);
    for (const row of await succeeded(webhook.id)) expect(row.attempt).toBeGreaterThanOrEqual(2);
    expect(await again.stop()).toBe(0);
  });

  it("Redis down for ~30 s while 100 versions are published: every event arrives after, one delivery id each", async () => {
    const rx = await receiver();
    const { webhook } = await createHook(alice, {
      url: rx.url,
      events: ["package.published"],
      scope: "hf-outage",
    });
    const w = await startWorker();
    const stoppedAt = Date.now();
    await redis.stop();
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) statuses.push(await publish(alice, "hf-outage", `2.0.${i}`));
    expect(statuses.filter((s) => s === 201)).toHaveLength(100);
    expect(rx.receipts.filter((r) => r.json.package?.name === "hf-outage")).toHaveLength(0);
    const rest = 30_000 - (Date.now() - stoppedAt);
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    await redis.start();
    await waitFor(
      "100 deliveries after Redis came back",
      async () => (await succeeded(webhook.id)).length === 100,
      120_000,
    );
    const receipts = rx.published("hf-outage");
    const ids = expectOneDeliveryIdPerEvent(receipts, webhook.id);
    expect(ids.size).toBe(100);
    const versions = new Set(receipts.map((r) => r.json.package.version));
    expect(versions.size).toBe(100);
    for (let i = 0; i < 100; i++) expect(versions.has(`2.0.${i}`)).toBe(true);
    const rows = await rowsOf(webhook.id);
    expect(rows.every((r) => r.status === "succeeded" && r.attempt === 1)).toBe(true);
    expect(new Set(rows.map((r) => r.deliveryId))).toEqual(new Set(ids.values()));
    expect(await w.stop()).toBe(0);
  }, 180_000);
});
