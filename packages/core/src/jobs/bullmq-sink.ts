import { Queue } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";
import { type Job, type JobSink, type SinkOutcome, SinkUnavailableError } from "./job-runner.ts";
import { ANALYZE_UPLINK_VERSION, ANALYZE_VERSION, DELIVER_EVENT, GENERATE_DOCS } from "./topics.ts";

/**
 * One BullMQ queue per kind of work, so each gets its own concurrency in apps/worker: webhook
 * deliveries wait on receivers (many at once is right), analysis is CPU-bound (a few), AI docs
 * wait on a rate-limited API (a few). A backlog of one kind never delays another.
 */
export const JOB_QUEUES = {
  webhooks: "webhooks",
  analyze: "analyze",
  docs: "docs",
  /** Any topic added later without a queue of its own. */
  other: "jobs",
} as const;
export type JobQueueName = (typeof JOB_QUEUES)[keyof typeof JOB_QUEUES];

/** Every key Packr writes in Redis starts with this (BullMQ's own default is `bull`). */
export const BULLMQ_PREFIX = "packr";

export function queueForTopic(topic: string): JobQueueName {
  if (topic === ANALYZE_VERSION || topic === ANALYZE_UPLINK_VERSION) return JOB_QUEUES.analyze;
  if (topic === GENERATE_DOCS) return JOB_QUEUES.docs;
  if (topic === DELIVER_EVENT || topic.startsWith("webhook.")) return JOB_QUEUES.webhooks;
  return JOB_QUEUES.other;
}

/**
 * The BullMQ job id of one claim of an outbox row: the same claim added twice is one job, and a
 * new claim (a new attempt) is a new job. Not a bare integer and without `:`, as BullMQ requires.
 */
export const bullJobId = (job: Pick<Job, "id" | "attempt">): string => `o${job.id}-a${job.attempt}`;

/** What a BullMQ job carries: the claim, nothing else (the row is the truth). */
export type BullJobData = Job;

/** BullMQ job states in which a job is still going to run (or is running). */
const PENDING = new Set(["waiting", "delayed", "active", "prioritized", "waiting-children"]);

/**
 * The relay's sink when REDIS_URL is set: a claimed outbox row becomes a BullMQ job, which
 * apps/worker runs (see runHandedOffJob). Only "do it now" goes to Redis; the row stays claimed
 * under its lease, and the worker settles it. BullMQ's own retries are off (attempts: 1): the
 * outbox's backoff is the only one. Redis that cannot be reached within `timeoutMs` is a
 * `SinkUnavailableError`, so the relay gives the claim back uncounted and pauses.
 */
export class BullmqSink implements JobSink {
  private readonly connection: Redis;
  private readonly queues = new Map<JobQueueName, Queue>();
  private readonly timeoutMs: number;

  constructor(redisUrl: string, opts: { timeoutMs?: number } = {}) {
    this.timeoutMs = opts.timeoutMs ?? 3_000;
    const options: RedisOptions = {
      // Fail at once while disconnected instead of queueing commands in memory: the relay
      // must learn that Redis is away, not wait for it.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      retryStrategy: (times) => Math.min(times * 200, 2_000),
    };
    this.connection = new Redis(redisUrl, options);
    // Reconnection is automatic; the relay reports the failures it sees.
    this.connection.on("error", () => {});
  }

  queue(name: JobQueueName): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.connection, prefix: BULLMQ_PREFIX });
      q.on("error", () => {});
      this.queues.set(name, q);
    }
    return q;
  }

  async deliver(job: Job): Promise<SinkOutcome> {
    const queue = this.queue(queueForTopic(job.topic));
    return this.reach(async () => {
      if (job.attempt > 1) {
        // The previous claim's job may still be waiting its turn (a backlog longer than the
        // lease): let it run rather than queue a second one.
        const previous = await queue.getJob(bullJobId({ id: job.id, attempt: job.attempt - 1 }));
        if (previous && PENDING.has(await previous.getState())) return "still-queued";
      }
      const data: BullJobData = job;
      await queue.add(job.topic, data, {
        jobId: bullJobId(job),
        attempts: 1,
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 1000 },
      });
      return "handed-off";
    });
  }

  /** Resolves once connected to Redis (tests; the relay itself never waits for it). */
  async connected(timeoutMs = 5_000): Promise<void> {
    if (this.connection.status === "ready") return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new SinkUnavailableError("Redis did not connect.")),
        timeoutMs,
      );
      this.connection.once("ready", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Jobs waiting per queue (metrics). */
  async waitingCounts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const name of Object.values(JOB_QUEUES)) {
      out[name] = await this.reach(() => this.queue(name).getWaitingCount());
    }
    return out;
  }

  async close(): Promise<void> {
    for (const q of this.queues.values()) await q.close().catch(() => {});
    this.connection.disconnect();
  }

  private async reach<T>(fn: () => Promise<T>): Promise<T> {
    if (this.connection.status !== "ready") {
      // Not connected: don't wait for a connection that may be minutes away.
      if (this.connection.status === "wait") void this.connection.connect().catch(() => {});
      throw new SinkUnavailableError(`Redis is not reachable (${this.connection.status}).`);
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new SinkUnavailableError(`Redis did not answer in ${this.timeoutMs} ms.`)),
            this.timeoutMs,
          );
        }),
      ]);
    } catch (err) {
      if (err instanceof SinkUnavailableError) throw err;
      // Connection-level failures mean "Redis away"; anything else is a real error.
      const message = err instanceof Error ? err.message : String(err);
      if (
        /stream isn't writeable|connection is closed|ECONNREFUSED|ETIMEDOUT|ECONNRESET/i.test(
          message,
        )
      )
        throw new SinkUnavailableError(`Redis is not reachable: ${message}`);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}
