import { and, eq, lt, sql } from "drizzle-orm";
import type { Database } from "../context.ts";
import { authRateLimits } from "../db/schema/index.ts";
import type { RateLimit } from "./rate-limiter.ts";

export type Attempt = { count: number; windowStart: Date };

/**
 * Fixed-window counters in the database (`auth_rate_limits`): every instance on one PostgreSQL
 * (or the embedded PGlite, same SQL) sees the same counts, so a guesser cannot multiply the
 * password limits by spreading attempts over replicas. One upsert per count: atomic under
 * concurrency, no read-modify-write race.
 */
export class AttemptLimits {
  constructor(private readonly db: Database) {}

  /** Count one attempt and return the count in the current window (this attempt included). */
  async take(bucket: string, key: string, rule: RateLimit, now: Date): Promise<Attempt> {
    const nowIso = now.toISOString();
    const cutoff = new Date(now.getTime() - rule.windowMs).toISOString();
    const expired = sql`${authRateLimits.windowStart} <= ${cutoff}::timestamptz`;
    const [row] = await this.db
      .insert(authRateLimits)
      .values({ bucket, key, windowStart: now, count: 1 })
      .onConflictDoUpdate({
        target: [authRateLimits.bucket, authRateLimits.key],
        set: {
          count: sql`case when ${expired} then 1 else ${authRateLimits.count} + 1 end`,
          windowStart: sql`case when ${expired} then ${nowIso}::timestamptz else ${authRateLimits.windowStart} end`,
        },
      })
      .returning({ count: authRateLimits.count, windowStart: authRateLimits.windowStart });
    // Old rows are dead weight only; clear them now and then rather than on every attempt.
    if (Math.random() < 0.01) {
      const stale = new Date(now.getTime() - 3_600_000);
      await this.db.delete(authRateLimits).where(lt(authRateLimits.windowStart, stale));
    }
    return { count: row?.count ?? 1, windowStart: row?.windowStart ?? now };
  }

  /** Take back an attempt counted by `take` (it turned out not to be a failure), same window only. */
  async giveBack(bucket: string, key: string, attempt: Attempt): Promise<void> {
    await this.db
      .update(authRateLimits)
      .set({ count: sql`greatest(${authRateLimits.count} - 1, 0)` })
      .where(
        and(
          eq(authRateLimits.bucket, bucket),
          eq(authRateLimits.key, key),
          eq(authRateLimits.windowStart, attempt.windowStart),
        ),
      );
  }
}

/** Seconds until the window of an attempt ends: what `Retry-After` says. */
export function secondsLeft(attempt: Attempt, rule: RateLimit, now: Date): number {
  const ends = attempt.windowStart.getTime() + rule.windowMs;
  return Math.max(1, Math.ceil((ends - now.getTime()) / 1000));
}
