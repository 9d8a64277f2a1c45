import type { Database } from "../db/client.ts";
import type { Job, JobHandlers } from "./job-runner.ts";
import { completeJob, failJob, holdLease, renewClaim } from "./outbox-claim.ts";

export type HandedOffResult =
  /** The handler ran and the row is processed. */
  | { outcome: "completed" }
  /** The handler threw: the row's retry is scheduled (or it was given up on). */
  | { outcome: "failed"; error: unknown }
  /** The claim no longer holds (processed, or claimed again since): nothing was run. */
  | { outcome: "stale" };

/**
 * Runs one job the relay handed to BullMQ, in apps/worker. The row decides: the job runs only
 * while the claim it carries still holds (same attempt count, not processed — the fencing the
 * relay uses), the lease is renewed while it runs, and the row is settled with the relay's own
 * functions: processed on success, its retry scheduled with the outbox's backoff on failure.
 * No transaction is held while the handler runs.
 */
export async function runHandedOffJob(
  db: Database,
  handlers: JobHandlers,
  job: Job,
  opts: {
    leaseMs: number;
    maxAttempts?: number;
    now?: () => Date;
    onError?: (err: unknown, job: Job) => void;
  },
): Promise<HandedOffResult> {
  const now = opts.now ?? (() => new Date());
  if (!(await renewClaim(db, job, { leaseMs: opts.leaseMs, now: now() }))) {
    return { outcome: "stale" };
  }
  const handler = handlers[job.topic];
  const lease = holdLease(db, job, { leaseMs: opts.leaseMs, now, onError: opts.onError });
  try {
    if (!handler) throw new Error(`No handler for job topic "${job.topic}".`);
    await handler(job);
  } catch (error) {
    lease.stop();
    await failJob(db, job, error, { now: now(), maxAttempts: opts.maxAttempts });
    return { outcome: "failed", error };
  }
  lease.stop();
  // A claim lost while running (lease ended, another claim ran it) leaves the row to that claim.
  return (await completeJob(db, job, now())) ? { outcome: "completed" } : { outcome: "stale" };
}
