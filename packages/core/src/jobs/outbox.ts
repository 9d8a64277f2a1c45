import { sql } from "drizzle-orm";
import type { Tx } from "../db/client.ts";
import { outbox } from "../db/schema/index.ts";

/** The NOTIFY channel that wakes every relay when jobs commit (payload: the topic). */
export const OUTBOX_CHANNEL = "packr_outbox";

/**
 * Commit a job together with the change that causes it (DESIGN.md §7): call inside the change's
 * transaction. A rolled-back change leaves no job; a committed one leaves a row that a relay will
 * run, whatever happens to this process after commit. The NOTIFY is delivered at commit, so relays
 * wake at once instead of at their next poll.
 */
export async function enqueueJob(
  tx: Tx,
  job: { topic: string; payload: Record<string, unknown>; availableAt?: Date },
): Promise<void> {
  await tx.insert(outbox).values({
    topic: job.topic,
    payload: job.payload,
    ...(job.availableAt ? { availableAt: job.availableAt } : {}),
  });
  await tx.execute(sql`select pg_notify(${OUTBOX_CHANNEL}, ${job.topic})`);
}
