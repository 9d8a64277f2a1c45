import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { BULLMQ_PREFIX, GENERATE_DOCS, JOB_QUEUES, schema } from "@packr/core";
import { publishBody } from "@packr/core/testing";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN_PASSWORD,
  createTestRegistry,
  type TestRegistry,
} from "../../registry/test/harness.ts";
import { client } from "../../registry/test/http.ts";
import {
  runWorkerToExit,
  startRedisServer,
  startWorkerProcess,
  type TestRedis,
  type WorkerProcess,
  waitFor,
} from "./processes.ts";

// The worker shares the registry's database, so these suites need PostgreSQL (CI sets it).
process.env.DATABASE_URL ??= "postgres://postgres@127.0.0.1:5432/test";

/**
 * A local stand-in of the Anthropic Messages API that `docs.generate` calls: it can hold its
 * answers, so a test has a job "in hand" in the worker for as long as it likes.
 */
function messagesStandIn() {
  const received: { body: string; answered: boolean }[] = [];
  let holding = false;
  const held: Array<() => void> = [];
  const answer = (res: ServerResponse, entry: { answered: boolean }) => {
    if (res.destroyed) return;
    entry.answered = true;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        id: "msg_standin",
        type: "message",
        role: "assistant",
        model: "claude-standin-1",
        content: [{ type: "text", text: "# docs\n\nWritten by the stand-in." }],
        stop_reason: "end_turn",
        stop_sequence: null,
        usage: { input_tokens: 10, output_tokens: 5 },
      }),
    );
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    req.on("data", (c) => {
      raw += c;
    });
    req.on("end", () => {
      const entry = { body: raw, answered: false };
      received.push(entry);
      if (holding) held.push(() => answer(res, entry));
      else answer(res, entry);
    });
  });
  return {
    received,
    /** Requests about `name` that got their answer. */
    answeredFor: (name: string) => received.filter((r) => r.answered && r.body.includes(name)),
    receivedFor: (name: string) => received.filter((r) => r.body.includes(name)),
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const h of held.splice(0)) h();
    },
    async start(): Promise<string> {
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const address = server.address();
      return `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    },
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe("worker: apps/worker as a real process, BullMQ on its own redis-server", () => {
  let redis: TestRedis;
  let reg: TestRegistry;
  let admin: string;
  let workerEnv: { databaseUrl: string; redisUrl: string; env: Record<string, string> };
  const standIn = messagesStandIn();
  const running: WorkerProcess[] = [];

  const startWorker = async () => {
    const w = await startWorkerProcess(workerEnv);
    running.push(w);
    return w;
  };
  const publish = async (name: string, version: string) => {
    const res = await client(reg.app, admin).put(`/${name}`, publishBody(name, version));
    return res.status;
  };
  const db = () => reg.runtime.deps.db;
  const packageId = async (name: string) =>
    (await db().select().from(schema.packages)).find((p) => p.name === name)?.id;
  /** Versions of `name` whose analysis is stored. */
  const analyzed = async (name: string) => {
    const id = await packageId(name);
    return (await db().select().from(schema.versionAnalyses)).filter((a) => a.packageId === id);
  };
  const aiDocs = async (name: string) => {
    const id = await packageId(name);
    return (await db().select().from(schema.packageDocs)).filter(
      (d) => d.packageId === id && d.kind === "ai",
    );
  };
  /** The outbox rows of `topic` about `name`'s versions. */
  const jobsFor = async (name: string, topic: string) => {
    const id = await packageId(name);
    return (await db().select().from(schema.outbox)).filter(
      (r) => r.topic === topic && r.payload.packageId === id,
    );
  };

  beforeAll(async () => {
    redis = await startRedisServer();
    const claude = await standIn.start();
    reg = await createTestRegistry({
      REDIS_URL: redis.url,
      // The relay runs (it moves committed jobs to Redis); a short lease so lost jobs come back soon.
      PACKR_RUN_JOBS: "true",
      PACKR_WORKER_LEASE: "3s",
    });
    admin = await reg.login("admin", ADMIN_PASSWORD);
    const databaseUrl = reg.runtime.config.databaseUrl;
    if (!databaseUrl) throw new Error("the worker suites need DATABASE_URL");
    workerEnv = {
      databaseUrl,
      redisUrl: redis.url,
      env: {
        PACKR_DATA_DIR: reg.runtime.config.dataDir,
        PACKR_WORKER_LEASE: "3s",
        PACKR_WORKER_SHUTDOWN_GRACE: "20s",
        DOC_GEN_ENABLED: "true",
        ANTHROPIC_API_KEY: "sk-standin",
        ANTHROPIC_BASE_URL: claude,
      },
    };
  });
  afterAll(async () => {
    for (const w of running) w.signal("SIGKILL");
    await reg?.close();
    await redis?.stop();
    await standIn.stop();
  });

  it("refuses to start without REDIS_URL, or without DATABASE_URL, saying what to set", async () => {
    const noRedis = await runWorkerToExit({ DATABASE_URL: workerEnv.databaseUrl });
    expect(noRedis.code).toBe(1);
    expect(noRedis.output).toContain("apps/worker needs REDIS_URL");
    const noDb = await runWorkerToExit({ REDIS_URL: redis.url });
    expect(noDb.code).toBe(1);
    expect(noDb.output).toContain("apps/worker needs DATABASE_URL");
  });

  it("the registry with REDIS_URL hands jobs over and runs none itself", async () => {
    expect(await publish("w-handoff", "1.0.0")).toBe(201);
    const queue = new Queue(JOB_QUEUES.analyze, {
      connection: { url: redis.url },
      prefix: BULLMQ_PREFIX,
    });
    try {
      await waitFor("the analysis job in Redis", async () => (await queue.getWaitingCount()) === 1);
      const [row] = await jobsFor("w-handoff", "version.analyze");
      expect(row?.processedAt).toBeNull();
      expect(row?.attempts).toBe(1);
      expect(await analyzed("w-handoff")).toHaveLength(0);
      // A worker comes: it runs.
      const w = await startWorker();
      await waitFor("w-handoff analysed", async () => (await analyzed("w-handoff")).length === 1);
      expect(await w.stop()).toBe(0);
    } finally {
      await queue.close();
    }
  });

  it("runs committed jobs (analysis, then AI docs) and answers /health and /metrics", async () => {
    const w = await startWorker();
    for (const v of ["1.0.0", "1.1.0", "1.2.0"]) expect(await publish("w-basic", v)).toBe(201);
    await waitFor("3 analyses", async () => (await analyzed("w-basic")).length === 3);
    await waitFor("3 AI docs", async () => (await aiDocs("w-basic")).length === 3);
    const health = await fetch(`${w.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({
      status: "ok",
      database: "ok",
      storage: "ok",
      redis: "ok",
    });
    const metrics = await (await fetch(`${w.url}/metrics`)).text();
    expect(metrics).toMatch(
      /packr_worker_jobs_total\{topic="version.analyze",outcome="completed"\} [3-9]/,
    );
    expect(metrics).toMatch(
      /packr_worker_jobs_total\{topic="docs.generate",outcome="completed"\} 3/,
    );
    expect(metrics).toContain('packr_worker_job_duration_seconds_count{topic="version.analyze"}');
    expect(metrics).toContain('packr_worker_queue_waiting{queue="analyze"} 0');
    expect((await fetch(`${w.url}/nope`)).status).toBe(404);
    expect(await w.stop()).toBe(0);
  });

  it("SIGTERM lets the job in hand finish before the worker exits", async () => {
    standIn.hold();
    const w = await startWorker();
    expect(await publish("w-term", "1.0.0")).toBe(201);
    await waitFor(
      "the docs request in hand",
      async () => standIn.receivedFor("w-term").length === 1,
    );
    w.signal("SIGTERM");
    await waitFor("the worker closing", async () => w.output().includes('"msg":"closing"'));
    standIn.release();
    expect(await w.exited).toBe(0);
    expect(await aiDocs("w-term")).toHaveLength(1);
    const [docsJob] = await jobsFor("w-term", GENERATE_DOCS);
    expect(docsJob?.processedAt).not.toBeNull();
    expect(docsJob?.attempts).toBe(1);
  });

  it("kill -9 mid-job: after a restart the job runs again and completes once", async () => {
    standIn.hold();
    const first = await startWorker();
    expect(await publish("w-kill", "1.0.0")).toBe(201);
    await waitFor(
      "the docs request in hand",
      async () => standIn.receivedFor("w-kill").length === 1,
    );
    first.signal("SIGKILL");
    await first.exited;
    standIn.release();
    expect(await aiDocs("w-kill")).toHaveLength(0);
    const second = await startWorker();
    await waitFor("w-kill's docs", async () => (await aiDocs("w-kill")).length === 1);
    const [docsJob] = await jobsFor("w-kill", GENERATE_DOCS);
    expect(docsJob?.processedAt).not.toBeNull();
    expect(docsJob?.lastError).toBeNull();
    // The killed run's claim was attempt 1; the one that completed is attempt 2, and only once.
    expect(docsJob?.attempts).toBe(2);
    expect(standIn.answeredFor("w-kill")).toHaveLength(1);
    expect(await second.stop()).toBe(0);
  });

  it("FLUSHALL with jobs waiting in Redis: every job still runs", async () => {
    const versions = ["1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0.4"];
    for (const v of versions) expect(await publish("w-flush", v)).toBe(201);
    await waitFor("5 jobs handed to Redis", async () => {
      const rows = await jobsFor("w-flush", "version.analyze");
      return rows.length === 5 && rows.every((r) => r.attempts === 1 && r.lockedUntil !== null);
    });
    await redis.flushAll();
    const w = await startWorker();
    await waitFor(
      "5 analyses after the flush",
      async () => (await analyzed("w-flush")).length === 5,
    );
    for (const row of await jobsFor("w-flush", "version.analyze")) {
      expect(row.processedAt).not.toBeNull();
      expect(row.lastError).toBeNull();
    }
    expect(await w.stop()).toBe(0);
  });

  it("Redis down for ~30 s while 100 versions are published: the registry answers each, every job runs after", async () => {
    const w = await startWorker();
    const stoppedAt = Date.now();
    await redis.stop();
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) statuses.push(await publish("w-outage", `2.0.${i}`));
    expect(statuses.filter((s) => s === 201)).toHaveLength(100);
    const unhealthy = await fetch(`${w.url}/health`);
    expect(unhealthy.status).toBe(503);
    expect(await unhealthy.json()).toMatchObject({ status: "degraded", redis: "error" });
    // Nothing ran and no attempt was counted while Redis was away.
    for (const row of await jobsFor("w-outage", "version.analyze")) {
      expect(row.attempts).toBe(0);
      expect(row.processedAt).toBeNull();
    }
    const rest = 30_000 - (Date.now() - stoppedAt);
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    await redis.start();
    await waitFor(
      "100 analyses after Redis came back",
      async () => (await analyzed("w-outage")).length === 100,
      180_000,
    );
    const rows = await jobsFor("w-outage", "version.analyze");
    expect(rows).toHaveLength(100);
    for (const row of rows) {
      expect(row.processedAt).not.toBeNull();
      expect(row.lastError).toBeNull();
    }
    expect(await w.stop()).toBe(0);
  }, 300_000);
});
