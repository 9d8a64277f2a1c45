import { and, eq, isNull, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { outbox } from "../db/schema/index.ts";
import type { Job } from "./job-runner.ts";

/**
 * What a claimed outbox row's holder may do to it: renew its lease, mark it processed, schedule
 * its retry, or give the claim back. The relay (in-process runner) and the worker that runs a
 * BullMQ job (apps/worker) both go through these, so a job is settled one way wherever it runs.
 */

/** Retry delays by attempt: 10 s, 1 min, 5 min, 30 min, then 2 h. */
export const BACKOFF_MS = [10_000, 60_000, 300_000, 1_800_000, 7_200_000];
/** Tries before a job is given up on (kept with processed_at and last_error for inspection). */
export const DEFAULT_MAX_ATTEMPTS = 8;

/**
 * The row is still ours while its attempt count is the one our claim set: a relay that claimed
 * it after our lease ended has counted another attempt, so our renewals and results no longer
 * touch it (the attempt count is the fencing token).
 */
export function claimIsOurs(job: Pick<Job, "id" | "attempt">) {
  return and(eq(outbox.id, job.id), eq(outbox.attempts, job.attempt), isNull(outbox.processedAt));
}

/**
 * Renew the lease of the claim `job` stands for, if it still holds (not processed, not claimed
 * again since): true when it did. Check and renewal are one statement, so a claim whose lease
 * ran out while it waited in a queue is either ours again or someone else's, never both.
 */
export async function renewClaim(
  db: Database,
  job: Pick<Job, "id" | "attempt">,
  opts: { leaseMs: number; now: Date },
): Promise<boolean> {
  const rows = await db
    .update(outbox)
    .set({ lockedUntil: new Date(opts.now.getTime() + opts.leaseMs) })
    .where(claimIsOurs(job))
    .returning({ id: outbox.id });
  return rows.length > 0;
}

/** Renews the job's lease every third of it until stopped, or until the row is no longer ours. */
export function holdLease(
  db: Database,
  job: Job,
  opts: { leaseMs: number; now: () => Date; onError?: (err: unknown, job: Job) => void },
): { stop(): void } {
  const timer = setInterval(
    () => {
      void db
        .update(outbox)
        .set({ lockedUntil: new Date(opts.now().getTime() + opts.leaseMs) })
        .where(claimIsOurs(job))
        .returning({ id: outbox.id })
        .then(
          (rows) => {
            if (rows.length === 0) clearInterval(timer);
          },
          (err) => opts.onError?.(err, job),
        );
    },
    Math.max(1, Math.floor(opts.leaseMs / 3)),
  );
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** The job ran: the row is processed (a no-op when the claim was lost meanwhile). */
export async function completeJob(db: Database, job: Job, now: Date): Promise<boolean> {
  const rows = await db
    .update(outbox)
    .set({ processedAt: now, lockedUntil: null, lastError: null })
    .where(claimIsOurs(job))
    .returning({ id: outbox.id });
  return rows.length > 0;
}

/**
 * The job threw: it is due again after the backoff for its attempt, or given up on (processed,
 * with the error kept) once it has had `maxAttempts` tries.
 */
export async function failJob(
  db: Database,
  job: Job,
  err: unknown,
  opts: { now: Date; maxAttempts?: number },
): Promise<void> {
  const message = (err instanceof Error ? err.message : String(err)).slice(0, 2000);
  const giveUp = job.attempt >= (opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
  const delay = BACKOFF_MS[Math.min(job.attempt - 1, BACKOFF_MS.length - 1)] ?? 7_200_000;
  await db
    .update(outbox)
    .set(
      giveUp
        ? { processedAt: opts.now, lockedUntil: null, lastError: `gave up: ${message}` }
        : {
            availableAt: new Date(opts.now.getTime() + delay),
            lockedUntil: null,
            lastError: message,
          },
    )
    .where(claimIsOurs(job));
}

/**
 * Give a claim back. `uncount` takes back the attempt the claim counted (the job never ran: the
 * sink could not take it, or it was still queued from the previous claim); `unlock` makes the
 * row claimable at once instead of when its lease ends.
 */
export async function returnClaim(
  db: Database,
  job: Job,
  opts: { uncount: boolean; unlock: boolean },
): Promise<void> {
  await db
    .update(outbox)
    .set({
      ...(opts.uncount ? { attempts: sql`${outbox.attempts} - 1` } : {}),
      ...(opts.unlock ? { lockedUntil: null } : {}),
    })
    .where(claimIsOurs(job));
}
