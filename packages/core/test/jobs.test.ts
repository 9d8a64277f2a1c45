import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { and, eq, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceContext } from "../src/context.ts";
import {
  outbox,
  packageDocs,
  packages,
  versionAnalyses,
  versions,
} from "../src/db/schema/index.ts";
import { createJobHandlers } from "../src/jobs/handlers.ts";
import { InProcessRunner, type Job, type JobSink } from "../src/jobs/job-runner.ts";
import { OutboxRelay } from "../src/jobs/outbox-relay.ts";
import { ANALYZE_VERSION, DELIVER_EVENT } from "../src/jobs/topics.ts";
import { publishPackage } from "../src/packages/publish-package.ts";
import {
  createTestDeps,
  makeTarball,
  publishBody,
  type TestDeps,
  testDrivers,
  tokenContext,
} from "../src/testing/index.ts";
import { failure } from "./helpers.ts";

const manifest = (name: string, version: string) => ({
  name,
  version,
  description: "Cron-style job scheduling with a rate limiter",
  keywords: ["cron", "scheduler"],
  types: "index.d.ts",
  dependencies: { semver: "^7.0.0" },
});

async function publishReal(ctx: ServiceContext, name: string, version: string) {
  const m = manifest(name, version);
  const bytes = await makeTarball(m, {
    "index.d.ts":
      "/** Run fn on a cron schedule. */\nexport declare function every(cron: string, fn: () => void): void;\n",
    "README.md": "# sched\n\n## Scheduling\n",
  });
  const result = await publishPackage({
    ctx,
    input: { name, body: publishBody(name, version, { bytes, manifest: m }) },
  });
  // This suite counts the analysis job; the publish's event job (webhooks, see
  // webhook-delivery.test.ts) is taken out of the way.
  await ctx.deps.db
    .update(outbox)
    .set({ processedAt: new Date() })
    .where(and(eq(outbox.topic, DELIVER_EVENT), isNull(outbox.processedAt)));
  return result;
}

const pendingJobs = (deps: TestDeps) =>
  deps.db.select().from(outbox).where(eq(outbox.topic, ANALYZE_VERSION)).orderBy(outbox.id);

describe.each(testDrivers())("jobs committed with a publish, on %s", (driver) => {
  let deps: TestDeps;
  let alice: ServiceContext;

  beforeAll(async () => {
    deps = await createTestDeps(driver);
    alice = await tokenContext(deps, { user: "alice", role: "maintainer" });
  });
  afterAll(async () => deps.close());

  it("commits one analysis job with the version, and none with a refused publish", async () => {
    await publishReal(alice, "sched", "1.0.0");
    const [pkg] = await deps.db.select().from(packages).where(eq(packages.name, "sched"));
    const jobs = await pendingJobs(deps);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({
      payload: { packageId: pkg?.id, version: "1.0.0" },
      processedAt: null,
      attempts: 0,
    });
    // The same version with other bytes is refused: its transaction, job included, rolls back.
    const err = await failure(
      publishPackage({ ctx: alice, input: { name: "sched", body: publishBody("sched", "1.0.0") } }),
    );
    expect(err.code).toBe("VERSION_EXISTS");
    expect(await pendingJobs(deps)).toHaveLength(1);
  });

  it("runs the job after commit and stores analysis and typed docs", async () => {
    const relay = new OutboxRelay(
      deps.db,
      new InProcessRunner(createJobHandlers(deps, { docGen: undefined })),
    );
    expect(await relay.drain()).toBe(1);
    const [pkg] = await deps.db.select().from(packages).where(eq(packages.name, "sched"));
    const [analysis] = await deps.db
      .select()
      .from(versionAnalyses)
      .where(eq(versionAnalyses.packageId, pkg?.id ?? ""));
    expect(analysis).toMatchObject({ version: "1.0.0", dependencyNames: ["semver"] });
    expect(analysis?.capabilities).toEqual(expect.arrayContaining(["scheduling", "rate-limiting"]));
    expect(analysis?.signals).toMatchObject({ hasTypes: true, fileCount: 3, releaseCount: 1 });
    const [docs] = await deps.db
      .select()
      .from(packageDocs)
      .where(and(eq(packageDocs.packageId, pkg?.id ?? ""), eq(packageDocs.kind, "typed")));
    expect(docs?.content).toMatchObject({
      entries: [{ name: "every", kind: "function", doc: "Run fn on a cron schedule." }],
    });
    const [job] = await pendingJobs(deps);
    expect(job?.processedAt).toBeInstanceOf(Date);
    expect(job?.attempts).toBe(1);
    expect(await relay.drain()).toBe(0);
  });

  it("wakes a started relay on commit, and the handler sees the committed version", async () => {
    const seen: { version: string; visible: boolean }[] = [];
    const relay = new OutboxRelay(
      deps.db,
      new InProcessRunner({
        [ANALYZE_VERSION]: async (job) => {
          const rows = await deps.db
            .select({ v: versions.version })
            .from(versions)
            .where(
              and(
                eq(versions.packageId, String(job.payload.packageId)),
                eq(versions.version, String(job.payload.version)),
              ),
            );
          seen.push({ version: String(job.payload.version), visible: rows.length === 1 });
        },
      }),
      { pollMs: 50 },
    );
    relay.start();
    try {
      await publishReal(alice, "sched", "1.1.0");
      for (let i = 0; i < 100 && seen.length === 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(seen).toEqual([{ version: "1.1.0", visible: true }]);
    } finally {
      await relay.stop();
    }
  });

  it("retries a failing job with backoff, keeping the error on the row", async () => {
    await publishReal(alice, "sched", "1.2.0");
    let calls = 0;
    const flaky = new InProcessRunner({
      [ANALYZE_VERSION]: async () => {
        calls++;
        if (calls === 1) throw new Error("blob store hiccup");
      },
    });
    const t0 = Date.now();
    const relay = new OutboxRelay(deps.db, flaky, { now: () => new Date(t0) });
    expect(await relay.drain()).toBe(1);
    const [row] = (await pendingJobs(deps)).filter((j) => j.payload.version === "1.2.0");
    expect(row).toMatchObject({ processedAt: null, lastError: "blob store hiccup", attempts: 1 });
    expect(row?.availableAt.getTime()).toBe(t0 + 10_000);
    expect(await relay.drain()).toBe(0); // not due yet
    const later = new OutboxRelay(deps.db, flaky, { now: () => new Date(t0 + 11_000) });
    expect(await later.drain()).toBe(1);
    const [done] = (await pendingJobs(deps)).filter((j) => j.payload.version === "1.2.0");
    expect(done).toMatchObject({ lastError: null, attempts: 2 });
    expect(done?.processedAt).toBeInstanceOf(Date);
  });

  it("lets another relay take a job whose relay died holding it, once the lease ends", async () => {
    await publishReal(alice, "sched", "1.3.0");
    const delivered: Job[] = [];
    // Relay A claims the job, then "dies": its delivery never finishes.
    const hung: JobSink = { deliver: () => new Promise(() => {}) };
    const t0 = Date.now();
    const a = new OutboxRelay(deps.db, hung, { now: () => new Date(t0), leaseMs: 60_000 });
    void a.runOnce();
    for (let i = 0; i < 100; i++) {
      const [row] = (await pendingJobs(deps)).filter((j) => j.payload.version === "1.3.0");
      if (row?.lockedUntil) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const sink: JobSink = { deliver: async (job) => void delivered.push(job) };
    const during = new OutboxRelay(deps.db, sink, { now: () => new Date(t0 + 30_000) });
    expect(await during.drain()).toBe(0);
    const after = new OutboxRelay(deps.db, sink, { now: () => new Date(t0 + 61_000) });
    expect(await after.drain()).toBe(1);
    expect(delivered).toMatchObject([
      { topic: ANALYZE_VERSION, attempt: 2, payload: { version: "1.3.0" } },
    ]);
  });

  it("never runs a job twice at once, however long it runs past its lease", async () => {
    await publishReal(alice, "sched", "1.4.0");
    const started: number[] = [];
    let release: () => void = () => {};
    const finished = new Promise<void>((r) => {
      release = r;
    });
    const slow: JobSink = {
      deliver: async (job) => {
        started.push(job.attempt);
        await finished;
      },
    };
    // Real clocks and a short lease: the job runs six leases long.
    const a = new OutboxRelay(deps.db, slow, { leaseMs: 300 });
    const running = a.runOnce();
    for (let i = 0; i < 100 && started.length === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    const other: JobSink = { deliver: async (job) => void started.push(job.attempt) };
    const b = new OutboxRelay(deps.db, other, { leaseMs: 300 });
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 300));
      expect(await b.runOnce()).toBe(0);
    }
    release();
    expect(await running).toBe(1);
    expect(started).toEqual([1]);
    const [row] = (await pendingJobs(deps)).filter((j) => j.payload.version === "1.4.0");
    expect(row?.processedAt).toBeInstanceOf(Date);
    expect(row?.lockedUntil).toBeNull();
  });
});

describe("a job survives a crash between commit and run (embedded database on disk)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "packr-jobs-"));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it("runs after the process restarts, because the row is the truth", async () => {
    const first = await createTestDeps("pglite", undefined, { persist: { dir } });
    const alice = await tokenContext(first, { user: "alice", role: "maintainer" });
    await publishReal(alice, "durable", "1.0.0");
    // No relay ran: the process stops right after the commit.
    await first.close();

    const second = await createTestDeps("pglite", undefined, { persist: { dir } });
    try {
      const relay = new OutboxRelay(
        second.db,
        new InProcessRunner(createJobHandlers(second, { docGen: undefined })),
      );
      expect(await relay.drain()).toBe(1);
      const rows = await second.db
        .select({ version: versionAnalyses.version })
        .from(versionAnalyses)
        .innerJoin(packages, eq(packages.id, versionAnalyses.packageId))
        .where(eq(packages.name, "durable"));
      expect(rows).toEqual([{ version: "1.0.0" }]);
    } finally {
      await second.close();
    }
  });
});
