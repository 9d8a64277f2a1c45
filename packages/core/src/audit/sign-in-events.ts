import { and, eq } from "drizzle-orm";
import { AttemptLimits } from "../auth/attempt-limits.ts";
import type { RateLimit } from "../auth/rate-limiter.ts";
import type { ServiceContext, Tx } from "../context.ts";
import { authRateLimits } from "../db/schema/index.ts";
import { emitAudit, writeAuditRow } from "./emit-audit.ts";

/** How a person signed in: npm login, npm adduser, the device flow, or a dashboard provider. */
export type SignInMethod = "password" | "adduser" | "device" | (string & {});

/**
 * `auth.sign_in`, inside the transaction that issues the credential (login token or session).
 * `ctx.actor` is the person as the new credential authenticates them.
 */
export async function recordSignIn(
  tx: Tx,
  ctx: ServiceContext,
  input: { userId: string; method: SignInMethod; via: "npm" | "packr-cli" | "dashboard" },
): Promise<void> {
  await emitAudit(tx, ctx, {
    action: "auth.sign_in",
    targetType: "user",
    targetId: input.userId,
    data: { method: input.method, via: input.via },
  });
}

/** `auth.sign_out`, inside the transaction that ends the credential. */
export async function recordSignOut(
  tx: Tx,
  ctx: ServiceContext,
  input: { userId: string; via: "npm logout" | "dashboard" },
): Promise<void> {
  await emitAudit(tx, ctx, {
    action: "auth.sign_out",
    targetType: "user",
    targetId: input.userId,
    data: { via: input.via },
  });
}

/** One failed-sign-in row per (address, name) per minute; the rest of the minute is counted. */
export const FAILED_SIGN_IN_ROWS_PER_PAIR: RateLimit = { limit: 1, windowMs: 60_000 };
/** At most this many failed-sign-in rows per address per minute, whatever names it tries. */
export const FAILED_SIGN_IN_ROWS_PER_ADDRESS: RateLimit = { limit: 20, windowMs: 60_000 };

const PAIR = "audit.sign_in_failed";
const ADDRESS = "audit.sign_in_failed.address";

/**
 * `auth.sign_in_failed` for a wrong password, an unknown user or a refused (rate-limited) attempt.
 * A failure changes nothing, so there is no transaction to join: the row is written on its own.
 * A password storm must not fill the table: the first failure of an (address, name) pair in a
 * minute writes a row, later ones in that minute are only counted, and the next row of the pair
 * carries that count (`data.previous: {since, attempts}`); one address writes at most
 * FAILED_SIGN_IN_ROWS_PER_ADDRESS rows a minute across all names. Never throws: a failure to
 * record must not turn a 401 into a 500.
 */
export async function recordFailedSignIn(
  ctx: ServiceContext,
  input: {
    name: string;
    reason: "bad_credentials" | "rate_limited";
    /**
     * The account the name belongs to, when there is one (its owner sees the attempt); asked only
     * when a row is written.
     */
    findUserId?: () => Promise<string | null | undefined>;
    via: "npm" | "dashboard";
  },
): Promise<void> {
  try {
    const db = ctx.deps.db;
    const now = ctx.deps.now();
    const address = ctx.ip ?? "unknown";
    const name = input.name.toLowerCase().slice(0, 128);
    const key = `${address}\n${name}`;
    const limits = new AttemptLimits(db);
    // This process already wrote the pair's row this minute: only count (one upsert), so a storm
    // costs the database one statement per attempt.
    if (!ctx.deps.rateLimiter.hit(PAIR, key, FAILED_SIGN_IN_ROWS_PER_PAIR)) {
      await limits.take(PAIR, key, FAILED_SIGN_IN_ROWS_PER_PAIR, now);
      return;
    }
    const [before] = await db
      .select({ count: authRateLimits.count, windowStart: authRateLimits.windowStart })
      .from(authRateLimits)
      .where(and(eq(authRateLimits.bucket, PAIR), eq(authRateLimits.key, key)))
      .limit(1);
    const pair = await limits.take(PAIR, key, FAILED_SIGN_IN_ROWS_PER_PAIR, now);
    if (pair.count > FAILED_SIGN_IN_ROWS_PER_PAIR.limit) return;
    const byAddress = await limits.take(ADDRESS, address, FAILED_SIGN_IN_ROWS_PER_ADDRESS, now);
    if (byAddress.count > FAILED_SIGN_IN_ROWS_PER_ADDRESS.limit) return;
    // The previous window of this pair, when it held more failures than its one row.
    const previous =
      before && before.windowStart.getTime() !== pair.windowStart.getTime() && before.count > 1
        ? { since: before.windowStart.toISOString(), attempts: before.count }
        : undefined;
    const userId = await input.findUserId?.();
    await writeAuditRow(
      db,
      { ...ctx, actor: { type: "anonymous" } },
      {
        action: "auth.sign_in_failed",
        ...(userId ? { targetType: "user", targetId: userId } : {}),
        data: {
          name: input.name.slice(0, 128),
          reason: input.reason,
          via: input.via,
          ...(previous ? { previous } : {}),
        },
      },
    );
  } catch {
    // Best effort by design (see above).
  }
}
