import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import {
  BULLMQ_PREFIX,
  type BullJobData,
  type Config,
  checkHealth,
  createJobHandlers,
  JOB_QUEUES,
  type Job,
  type JobQueueName,
  openProcessDeps,
  returnClaim,
  runHandedOffJob,
} from "@packr/core";
import { Queue, Worker } from "bullmq";
import { Hono } from "hono";
import { Redis } from "ioredis";
import { errorText, type Logger } from "./logger.ts";
import { createMetrics } from "./metrics.ts";

export type RunningWorker = {
  /** The port /health and /metrics listen on (PACKR_WORKER_PORT, or the one picked for 0). */
  port: number;
  /**
   * Stop taking jobs, let the ones in hand finish within PACKR_WORKER_SHUTDOWN_GRACE, give back
   * the claims of any still running after it (the relay hands them over again at once), close.
   */
  close(): Promise<void>;
};

/** Refusals before anything starts: the sentence says what to set. */
export function workerConfigProblem(config: Config): string | undefined {
  if (!config.redisUrl) {
    return "apps/worker needs REDIS_URL: it runs the jobs the registry hands to BullMQ on Redis. Set REDIS_URL (the same as the registry's), or run without a worker: without REDIS_URL the registry runs its jobs itself.";
  }
  if (!config.databaseUrl) {
    return "apps/worker needs DATABASE_URL: the embedded database belongs to the registry's own process. Set DATABASE_URL to the registry's PostgreSQL database.";
  }
  return undefined;
}

/**
 * The worker: the registry's job handlers, each queue's BullMQ Worker with its own concurrency,
 * every job run through `runHandedOffJob` (the outbox row decides whether it runs, and is
 * settled by it), and an HTTP server for /health and /metrics.
 */
export async function startWorker(config: Config, logger: Logger): Promise<RunningWorker> {
  const redisUrl = config.redisUrl;
  if (!redisUrl || workerConfigProblem(config)) throw new Error(workerConfigProblem(config));
  const opened = await openProcessDeps(config);
  const { deps } = opened;
  const handlers = createJobHandlers(deps, { docGen: config.docGen });

  // Workers block on Redis and must retry forever (BullMQ requires maxRetriesPerRequest null);
  // /health and the queue gauges use a connection that fails fast instead of waiting.
  const workerConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const probe = new Redis(redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  let redisDown = false;
  for (const c of [workerConnection, probe]) {
    c.on("error", (err) => {
      if (redisDown) return;
      redisDown = true;
      logger.warn({
        msg: "Redis is not reachable; jobs wait in the database",
        error: errorText(err),
      });
    });
    c.on("ready", () => {
      if (!redisDown) return;
      redisDown = false;
      logger.info({ msg: "Redis is back" });
    });
  }

  const queueNames = Object.values(JOB_QUEUES) as JobQueueName[];
  const queues = queueNames.map((name) => {
    const q = new Queue(name, { connection: probe, prefix: BULLMQ_PREFIX });
    q.on("error", () => {});
    return q;
  });
  const metrics = createMetrics(queues);
  const concurrency: Record<JobQueueName, number> = {
    webhooks: config.worker.concurrency,
    analyze: config.worker.analyzeConcurrency,
    docs: config.worker.docsConcurrency,
    jobs: config.worker.concurrency,
  };
  // BullMQ's own lock follows the outbox lease, so a job whose worker died is noticed as stalled
  // about when its outbox lease ends; either way the row decides what runs.
  const lockMs = Math.max(1_000, Math.min(30_000, config.worker.leaseMs));
  const inHand = new Map<string, Job>();

  const workers = queueNames.map((name) => {
    const worker = new Worker<BullJobData>(
      name,
      async (bullJob) => {
        const job = bullJob.data;
        const started = performance.now();
        const key = bullJob.id ?? `${job.id}-${job.attempt}`;
        inHand.set(key, job);
        try {
          const result = await runHandedOffJob(deps.db, handlers, job, {
            leaseMs: config.worker.leaseMs,
            onError: (err) =>
              logger.warn({ msg: "lease renewal failed", jobId: job.id, error: errorText(err) }),
          });
          const seconds = (performance.now() - started) / 1000;
          metrics.settled(job.topic, result.outcome, seconds);
          if (result.outcome === "failed") {
            logger.error({
              msg: "job failed",
              topic: job.topic,
              jobId: job.id,
              attempt: job.attempt,
              error: errorText(result.error),
            });
            // BullMQ records the failure (its own retries are off: the outbox schedules the next).
            throw result.error instanceof Error ? result.error : new Error(String(result.error));
          }
          logger.debug({
            msg: result.outcome === "stale" ? "job skipped: its claim is gone" : "job completed",
            topic: job.topic,
            jobId: job.id,
            attempt: job.attempt,
            ms: Math.round(seconds * 1000),
          });
        } finally {
          inHand.delete(key);
        }
      },
      {
        connection: workerConnection,
        prefix: BULLMQ_PREFIX,
        concurrency: concurrency[name],
        lockDuration: lockMs,
        stalledInterval: lockMs,
        // A job that stalls (its worker died) is not re-run by BullMQ: the outbox hands it over.
        maxStalledCount: 0,
      },
    );
    worker.on("error", (err) => {
      if (!redisDown)
        logger.warn({ msg: "BullMQ worker error", queue: name, error: errorText(err) });
    });
    return worker;
  });

  const app = new Hono();
  app.get("/health", async (c) => {
    const [store, redis] = await Promise.all([
      checkHealth(deps),
      probe.ping().then(
        () => "ok" as const,
        () => "error" as const,
      ),
    ]);
    const ok = store.status === "ok" && redis === "ok";
    return c.json(
      { status: ok ? "ok" : "degraded", database: store.database, storage: store.storage, redis },
      ok ? 200 : 503,
    );
  });
  app.get("/metrics", async (c) => {
    const body = await metrics.registry.metrics();
    return c.body(body, 200, { "content-type": metrics.registry.contentType });
  });
  app.notFound((c) => c.json({ error: "Not found: the worker serves /health and /metrics." }, 404));

  const server = serve({ fetch: app.fetch, port: config.worker.port, hostname: config.host });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", () => resolve());
    server.once("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({
    msg: "worker started",
    port,
    host: config.host,
    queues: concurrency,
    leaseMs: config.worker.leaseMs,
  });

  return {
    port,
    async close() {
      const grace = config.worker.shutdownGraceMs;
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        Promise.all(workers.map((w) => w.close())).then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), grace);
        }),
      ]);
      clearTimeout(timer);
      if (!finished) {
        // Still running after the grace: give their claims back so the relay hands them over
        // now (to another worker, or to this one after a restart) rather than after the lease.
        const jobs = [...inHand.values()];
        logger.warn({ msg: "jobs still running at shutdown: handed back", count: jobs.length });
        await Promise.all(
          jobs.map((job) =>
            returnClaim(deps.db, job, { uncount: false, unlock: true }).catch(() => {}),
          ),
        );
        await Promise.all(workers.map((w) => w.close(true).catch(() => {})));
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(queues.map((q) => q.close().catch(() => {})));
      workerConnection.disconnect();
      probe.disconnect();
      await opened
        .close()
        .catch((err) => logger.error({ msg: "download counts lost", error: errorText(err) }));
    },
  };
}
