import { and, asc, inArray, isNull, lte, or, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { outbox } from "../db/schema/index.ts";
import { type Job, type JobSink, SinkUnavailableError } from "./job-runner.ts";
import {
  completeJob,
  DEFAULT_MAX_ATTEMPTS,
  failJob,
  holdLease,
  returnClaim,
} from "./outbox-claim.ts";

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
  /**
   * While the sink is unreachable (Redis down), the relay pauses this long, doubling per failed
   * round up to `sinkDownMaxMs`; no job's attempt is counted meanwhile.
   */
  sinkDownMs?: number;
  sinkDownMaxMs?: number;
  now?: () => Date;
  onError?: (err: unknown, job: Job | undefined) => void;
};

/**
 * Moves committed outbox rows to a sink: the in-process runner (embedded default) or BullMQ
 * (REDIS_URL). The row is the truth: a job is claimed with a lease (`locked_until`), delivered,
 * and only then marked processed, so a crash at any point leaves a row that a later round — of
 * this process after a restart, or of another instance — claims again. Delivery is therefore at
 * least once; handlers are idempotent. Claims use `FOR UPDATE SKIP LOCKED`, so many instances can
 * relay the same table without running a job twice at once; the lease is renewed while a job
 * runs, so no job is claimed again while it is running.
 *
 * With the BullMQ sink the relay only hands the job over: the row stays claimed, and the worker
 * that runs the BullMQ job renews the lease and settles the row (outbox-claim.ts, the same
 * functions the relay uses). A job Redis lost is claimed again when its lease ends; while Redis
 * cannot be reached the claims are given back uncounted and the relay pauses for seconds.
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
  private sinkDownFor = 0;

  constructor(
    private readonly db: Database,
    private readonly sink: JobSink,
    private readonly options: RelayOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 60_000;
    this.pollMs = options.pollMs ?? 2_000;
    this.batchSize = options.batchSize ?? 20;
    this.maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
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
    // While the sink is down, the pause stands: every commit's NOTIFY would otherwise retry it.
    if (this.stopped || this.sinkDownFor > 0) return;
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

  /**
   * One round: claim due jobs one at a time and deliver each. Returns how many were claimed.
   * Throws `SinkUnavailableError` (after giving the claim back uncounted) when the sink cannot
   * be reached: the round stops there, and the rows stay as they were.
   */
  async runOnce(): Promise<number> {
    let claimed = 0;
    while (claimed < this.batchSize) {
      const job = await this.claimOne();
      if (!job) break;
      claimed++;
      const lease = holdLease(this.db, job, {
        leaseMs: this.leaseMs,
        now: this.now,
        onError: this.options.onError,
      });
      try {
        const outcome = await this.sink.deliver(job);
        lease.stop();
        if (outcome === "handed-off") continue; // its worker settles the row; the lease stands
        if (outcome === "still-queued") {
          // The previous claim's queued job runs; this claim counted an attempt that never was.
          await returnClaim(this.db, job, { uncount: true, unlock: false });
          continue;
        }
        await completeJob(this.db, job, this.now());
      } catch (err) {
        lease.stop();
        if (err instanceof SinkUnavailableError) {
          await returnClaim(this.db, job, { uncount: true, unlock: true });
          throw err;
        }
        this.options.onError?.(err, job);
        await failJob(this.db, job, err, { now: this.now(), maxAttempts: this.maxAttempts });
      }
    }
    return claimed;
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

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      let pause: number | undefined;
      this.running = this.drain()
        .then(
          () => {
            this.sinkDownFor = 0;
          },
          (err) => {
            if (err instanceof SinkUnavailableError) {
              // Redis is away: the rows wait as they were; try again in a few seconds.
              const base = this.options.sinkDownMs ?? 1_000;
              const max = this.options.sinkDownMaxMs ?? 10_000;
              pause = Math.min(max, base * 2 ** Math.min(this.sinkDownFor, 10));
              this.sinkDownFor++;
            }
            this.options.onError?.(err, undefined);
          },
        )
        .finally(() => {
          this.running = undefined;
          const again = this.again;
          this.again = false;
          this.schedule(pause ?? (again ? 0 : this.pollMs));
        });
    }, ms);
    this.timer.unref();
  }
}
