import { Queue } from "bullmq";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ServiceContext } from "../src/context.ts";
import { outbox } from "../src/db/schema/index.ts";
import { BULLMQ_PREFIX, BullmqSink, bullJobId, JOB_QUEUES } from "../src/jobs/bullmq-sink.ts";
import { runHandedOffJob } from "../src/jobs/handed-off-job.ts";
import { type Job, SinkUnavailableError } from "../src/jobs/job-runner.ts";
import { BACKOFF_MS } from "../src/jobs/outbox-claim.ts";
import { OutboxRelay } from "../src/jobs/outbox-relay.ts";
import { ANALYZE_VERSION, DELIVER_EVENT } from "../src/jobs/topics.ts";
import { publishPackage } from "../src/packages/publish-package.ts";
import {
  createTestDeps,
  freeLocalPort,
  publishBody,
  startRedisServer,
  type TestDeps,
  type TestRedis,
  testDrivers,
  tokenContext,
} from "../src/testing/index.ts";

const analyzeRows = (deps: TestDeps) =>
  deps.db.select().from(outbox).where(eq(outbox.topic, ANALYZE_VERSION)).orderBy(outbox.id);

describe.each(testDrivers())("worker: the BullMQ sink's hand-off and fencing, on %s", (driver) => {
  let deps: TestDeps;
  let alice: ServiceContext;
  let redis: TestRedis;
  let sink: BullmqSink;
  let analyzeQueue: Queue;

  beforeAll(async () => {
    deps = await createTestDeps(driver);
    alice = await tokenContext(deps, { user: "alice", role: "maintainer" });
    redis = await startRedisServer();
    sink = new BullmqSink(redis.url);
    analyzeQueue = new Queue(JOB_QUEUES.analyze, {
      connection: { url: redis.url },
      prefix: BULLMQ_PREFIX,
    });
    await analyzeQueue.waitUntilReady();
  });
  afterAll(async () => {
    await analyzeQueue?.close();
    await sink?.close();
    await redis?.stop();
    await deps?.close();
  });
  afterEach(async () => {
    await redis.flushAll();
    await deps.db.delete(outbox);
  });

  /** Publishes, then takes the publish's event job (webhooks) out of the way: this suite counts analysis jobs. */
  async function publish(name: string, version: string) {
    await publishPackage({ ctx: alice, input: { name, body: publishBody(name, version) } });
    await deps.db.delete(outbox).where(eq(outbox.topic, DELIVER_EVENT));
  }

  /** A relay whose claims are sure to reach Redis: the sink's connection is ready first. */
  async function relayAt(t: number, leaseMs = 60_000) {
    await sink.connected();
    return new OutboxRelay(deps.db, sink, { now: () => new Date(t), leaseMs });
  }

  it("adds one BullMQ job per claim and leaves the row claimed, not processed", async () => {
    await publish("handoff", "1.0.0");
    const t0 = Date.now();
    expect(await (await relayAt(t0)).runOnce()).toBe(1);
    const [row] = await analyzeRows(deps);
    expect(row?.processedAt).toBeNull();
    expect(row?.attempts).toBe(1);
    expect(row?.lockedUntil?.getTime()).toBe(t0 + 60_000);
    const bull = await analyzeQueue.getJob(bullJobId({ id: row?.id ?? 0, attempt: 1 }));
    expect(bull?.name).toBe(ANALYZE_VERSION);
    expect(bull?.data).toMatchObject({ id: row?.id, topic: ANALYZE_VERSION, attempt: 1 });
    expect(bull?.opts.attempts).toBe(1);
    // Nothing more is due while the lease stands: no second job.
    expect(await (await relayAt(t0 + 30_000)).runOnce()).toBe(0);
    expect(await analyzeQueue.getWaitingCount()).toBe(1);
  });

  it("runs a handed-off job once: the row is processed, a second run of it is stale", async () => {
    await publish("runonce", "1.0.0");
    await (await relayAt(Date.now())).runOnce();
    const [row] = await analyzeRows(deps);
    const bull = await analyzeQueue.getJob(bullJobId({ id: row?.id ?? 0, attempt: 1 }));
    const job = bull?.data as Job;
    const ran: Job[] = [];
    const handlers = { [ANALYZE_VERSION]: async (j: Job) => void ran.push(j) };
    expect(await runHandedOffJob(deps.db, handlers, job, { leaseMs: 60_000 })).toEqual({
      outcome: "completed",
    });
    expect(await runHandedOffJob(deps.db, handlers, job, { leaseMs: 60_000 })).toEqual({
      outcome: "stale",
    });
    expect(ran).toHaveLength(1);
    const [after] = await analyzeRows(deps);
    expect(after?.processedAt).not.toBeNull();
    expect(after?.lockedUntil).toBeNull();
  });

  it("fences by attempt: a job Redis lost is handed over again, and the old claim no longer runs", async () => {
    await publish("fenced", "1.0.0");
    const t0 = Date.now();
    await (await relayAt(t0)).runOnce();
    const [row] = await analyzeRows(deps);
    const id = row?.id ?? 0;
    // The first claim's job still waits in Redis when its lease ends: it keeps its place, and
    // the new claim's attempt is taken back (no second job, no attempt burnt).
    expect(await (await relayAt(t0 + 61_000)).runOnce()).toBe(1);
    expect((await analyzeRows(deps))[0]?.attempts).toBe(1);
    expect(await analyzeQueue.getJob(bullJobId({ id, attempt: 2 }))).toBeUndefined();
    // Redis loses it (FLUSHALL): the next claim after the lease queues attempt 2.
    await redis.flushAll();
    expect(await (await relayAt(t0 + 122_000)).runOnce()).toBe(1);
    expect((await analyzeRows(deps))[0]?.attempts).toBe(2);
    expect(await analyzeQueue.getJob(bullJobId({ id, attempt: 2 }))).toBeDefined();
    const ran: number[] = [];
    const handlers = { [ANALYZE_VERSION]: async (j: Job) => void ran.push(j.attempt) };
    const old = { id, topic: ANALYZE_VERSION, payload: row?.payload ?? {}, attempt: 1 };
    expect((await runHandedOffJob(deps.db, handlers, old, { leaseMs: 60_000 })).outcome).toBe(
      "stale",
    );
    expect(
      (await runHandedOffJob(deps.db, handlers, { ...old, attempt: 2 }, { leaseMs: 60_000 }))
        .outcome,
    ).toBe("completed");
    expect(ran).toEqual([2]);
  });

  it("a handler that throws schedules the outbox's retry with the relay's backoff", async () => {
    await publish("flaky", "1.0.0");
    await (await relayAt(Date.now())).runOnce();
    const [row] = await analyzeRows(deps);
    const job = { id: row?.id ?? 0, topic: ANALYZE_VERSION, payload: {}, attempt: 1 };
    const t = Date.now();
    const result = await runHandedOffJob(
      deps.db,
      {
        [ANALYZE_VERSION]: async () => {
          throw new Error("blob store away");
        },
      },
      job,
      { leaseMs: 60_000, now: () => new Date(t) },
    );
    expect(result.outcome).toBe("failed");
    const [after] = await analyzeRows(deps);
    expect(after?.processedAt).toBeNull();
    expect(after?.lockedUntil).toBeNull();
    expect(after?.lastError).toBe("blob store away");
    expect(after?.availableAt.getTime()).toBe(t + (BACKOFF_MS[0] ?? 0));
  });

  it("with Redis unreachable the claim is given back uncounted and the round stops", async () => {
    await publish("noredis-a", "1.0.0");
    await publish("noredis-b", "1.0.0");
    const nowhere = new BullmqSink(`redis://127.0.0.1:${await freeLocalPort()}`);
    try {
      const relay = new OutboxRelay(deps.db, nowhere, {});
      await expect(relay.runOnce()).rejects.toBeInstanceOf(SinkUnavailableError);
      for (const row of await analyzeRows(deps)) {
        expect(row.attempts).toBe(0);
        expect(row.lockedUntil).toBeNull();
        expect(row.processedAt).toBeNull();
      }
    } finally {
      await nowhere.close();
    }
  });
});
