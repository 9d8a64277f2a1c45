import { and, asc, inArray, isNull, lte, or, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { outbox } from "../db/schema/index.ts";
import type { Job, JobSink } from "./job-runner.ts";

export type RelayOptions = {
  /** How long a claimed job is ours; a relay that dies holding it lets another take it after this. */
  leaseMs?: number;
  /** Poll interval when no NOTIFY arrives (jobs due later, missed notifications). */
  pollMs?: number;
  /** Rows claimed per round. */
  batchSize?: number;
  /** Tries before a job is given up on (kept with processed_at and last_error for inspection). */
  maxAttempts?: number;
  now?: () => Date;
  onError?: (err: unknown, job: Job | undefined) => void;
};

/** Retry delays by attempt: 10 s, 1 min, 5 min, 30 min, then 2 h. */
const BACKOFF_MS = [10_000, 60_000, 300_000, 1_800_000, 7_200_000];

/**
 * Moves committed outbox rows to a sink: the in-process runner (embedded default) or BullMQ
 * (REDIS_URL). The row is the truth: a job is claimed with a lease (`locked_until`), delivered,
 * and only then marked processed, so a crash at any point leaves a row that a later round — of
 * this process after a restart, or of another instance — claims again. Delivery is therefore at
 * least once; handlers are idempotent. Claims use `FOR UPDATE SKIP LOCKED`, so many instances can
 * relay the same table without running a job twice at once.
 */
export class OutboxRelay {
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly maxAttempts: number;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(
    private readonly db: Database,
    private readonly sink: JobSink,
    private readonly options: RelayOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 5 * 60_000;
    this.pollMs = options.pollMs ?? 2_000;
    this.batchSize = options.batchSize ?? 20;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.now = options.now ?? (() => new Date());
  }

  /** Start polling; call `wake()` from the outbox NOTIFY listener for prompt pickup. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stop taking jobs and wait for the round in flight. Unfinished jobs stay in the table. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Run a round now (or right after the current one). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  /** Deliver everything due now, round after round, until nothing is left (tests, shutdown). */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.runOnce();
      total += n;
      if (n === 0) return total;
    }
  }

  /** One round: claim due rows and deliver each. Returns how many were claimed. */
  async runOnce(): Promise<number> {
    const jobs = await this.claim();
    for (const job of jobs) {
      try {
        await this.sink.deliver(job);
        await this.db
          .update(outbox)
          .set({ processedAt: this.now(), lockedUntil: null, lastError: null })
          .where(sql`${outbox.id} = ${job.id}`);
      } catch (err) {
        this.options.onError?.(err, job);
        await this.fail(job, err);
      }
    }
    return jobs.length;
  }

  private async claim(): Promise<Job[]> {
    const now = this.now();
    const due = this.db
      .select({ id: outbox.id })
      .from(outbox)
      .where(
        and(
          isNull(outbox.processedAt),
          lte(outbox.availableAt, now),
          or(isNull(outbox.lockedUntil), lte(outbox.lockedUntil, now)),
        ),
      )
      .orderBy(asc(outbox.id))
      .limit(this.batchSize)
      .for("update", { skipLocked: true });
    const rows = await this.db
      .update(outbox)
      .set({
        lockedUntil: new Date(now.getTime() + this.leaseMs),
        attempts: sql`${outbox.attempts} + 1`,
      })
      .where(inArray(outbox.id, due))
      .returning({
        id: outbox.id,
        topic: outbox.topic,
        payload: outbox.payload,
        attempts: outbox.attempts,
      });
    return rows
      .sort((a, b) => a.id - b.id)
      .map((r) => ({ id: r.id, topic: r.topic, payload: r.payload, attempt: r.attempts }));
  }

  private async fail(job: Job, err: unknown): Promise<void> {
    const message = (err instanceof Error ? err.message : String(err)).slice(0, 2000);
    const now = this.now();
    const giveUp = job.attempt >= this.maxAttempts;
    const delay = BACKOFF_MS[Math.min(job.attempt - 1, BACKOFF_MS.length - 1)] ?? 7_200_000;
    await this.db
      .update(outbox)
      .set(
        giveUp
          ? { processedAt: now, lockedUntil: null, lastError: `gave up: ${message}` }
          : { availableAt: new Date(now.getTime() + delay), lockedUntil: null, lastError: message },
      )
      .where(sql`${outbox.id} = ${job.id}`);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.drain()
        .then(
          () => undefined,
          (err) => this.options.onError?.(err, undefined),
        )
        .finally(() => {
          this.running = undefined;
          const again = this.again;
          this.again = false;
          this.schedule(again ? 0 : this.pollMs);
        });
    }, ms);
    this.timer.unref();
  }
}
