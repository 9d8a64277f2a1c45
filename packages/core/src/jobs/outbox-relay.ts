import { and, asc, eq, inArray, isNull, lte, or, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { outbox } from "../db/schema/index.ts";
import type { Job, JobSink } from "./job-runner.ts";

export type RelayOptions = {
  /**
   * How long a claimed job is ours without news from us. The lease is per job and renewed every
   * third of it while the job runs, so a long job is never taken twice at once, while a relay that
   * dies holding one lets another take it this long after its last renewal.
   */
  leaseMs?: number;
  /** Poll interval when no NOTIFY arrives (jobs due later, missed notifications). */
  pollMs?: number;
  /** Jobs run per round (each claimed when its turn comes, so none waits out a lease in a queue). */
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
 * relay the same table without running a job twice at once; the lease is renewed while a job
 * runs, so no job is claimed again while it is running.
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
    this.leaseMs = options.leaseMs ?? 60_000;
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

  /** One round: claim due jobs one at a time and deliver each. Returns how many were claimed. */
  async runOnce(): Promise<number> {
    let claimed = 0;
    while (claimed < this.batchSize) {
      const job = await this.claimOne();
      if (!job) break;
      claimed++;
      const lease = this.holdLease(job);
      try {
        await this.sink.deliver(job);
        lease.stop();
        await this.db
          .update(outbox)
          .set({ processedAt: this.now(), lockedUntil: null, lastError: null })
          .where(this.ours(job));
      } catch (err) {
        lease.stop();
        this.options.onError?.(err, job);
        await this.fail(job, err);
      }
    }
    return claimed;
  }

  /**
   * The row is still ours while its attempt count is the one our claim set: a relay that claimed
   * it after our lease ended has counted another attempt, so our renewals and results no longer
   * touch it (the attempt count is the fencing token).
   */
  private ours(job: Job) {
    return and(eq(outbox.id, job.id), eq(outbox.attempts, job.attempt), isNull(outbox.processedAt));
  }

  /** Renews the job's lease every third of it until stopped, or until the row is no longer ours. */
  private holdLease(job: Job): { stop(): void } {
    const timer = setInterval(
      () => {
        void this.db
          .update(outbox)
          .set({ lockedUntil: new Date(this.now().getTime() + this.leaseMs) })
          .where(this.ours(job))
          .returning({ id: outbox.id })
          .then(
            (rows) => {
              if (rows.length === 0) clearInterval(timer);
            },
            (err) => this.options.onError?.(err, job),
          );
      },
      Math.max(1, Math.floor(this.leaseMs / 3)),
    );
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  private async claimOne(): Promise<Job | undefined> {
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
      .limit(1)
      .for("update", { skipLocked: true });
    const [row] = await this.db
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
    return row && { id: row.id, topic: row.topic, payload: row.payload, attempt: row.attempts };
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
      .where(this.ours(job));
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
