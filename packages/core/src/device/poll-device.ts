import { eq } from "drizzle-orm";
import { RATE_LIMITS } from "../auth/rate-limiter.ts";
import type { ServiceContext } from "../context.ts";
import { deviceCodes, users } from "../db/schema/index.ts";
import { issueLoginTokenIn } from "../users/login.ts";
import { hashDeviceCode } from "./user-code.ts";

/** RFC 8628 §3.5: after slow_down the interval grows by 5 s for this and every later poll. */
const SLOW_DOWN_STEP_SECONDS = 5;

export type DevicePoll =
  | { status: "pending"; interval: number }
  | { status: "slow_down"; interval: number }
  | { status: "expired" }
  | { status: "denied" }
  /** Unknown, malformed or already used (RFC 6749 invalid_grant). */
  | { status: "invalid" }
  | { status: "approved"; token: string; expiresIn: number; username: string };

/**
 * One poll of a device code: the RFC 8628 token endpoint (`enforceInterval`: a poll sooner than
 * the interval answers slow_down and lengthens it) and npm's web-login doneUrl (npm waits for
 * `Retry-After`, so no slow_down there). The approved code is consumed and its 30-day login token
 * minted in one transaction under the row's lock, so two racing polls cannot both get a token.
 */
export async function pollDevice(args: {
  ctx: ServiceContext;
  input: { deviceCode: string; enforceInterval: boolean };
}): Promise<DevicePoll> {
  const { ctx, input } = args;
  if (!ctx.deps.rateLimiter.hit("device.poll", ctx.ip ?? "unknown", RATE_LIMITS.devicePoll)) {
    return { status: "slow_down", interval: ctx.deps.identity.deviceIntervalSeconds * 2 };
  }
  if (input.deviceCode.length === 0 || input.deviceCode.length > 200) return { status: "invalid" };
  const hash = hashDeviceCode(input.deviceCode);
  return ctx.deps.db.transaction(async (tx): Promise<DevicePoll> => {
    const [row] = await tx
      .select()
      .from(deviceCodes)
      .where(eq(deviceCodes.deviceCodeHash, hash))
      .for("update")
      .limit(1);
    if (!row || row.status === "consumed") return { status: "invalid" };
    const now = ctx.deps.now();
    if (row.expiresAt.getTime() <= now.getTime()) return { status: "expired" };
    const early =
      row.lastPolledAt !== null &&
      now.getTime() - row.lastPolledAt.getTime() < row.intervalSeconds * 1000;
    if (input.enforceInterval && early) {
      const interval = row.intervalSeconds + SLOW_DOWN_STEP_SECONDS;
      await tx
        .update(deviceCodes)
        .set({ intervalSeconds: interval, lastPolledAt: now })
        .where(eq(deviceCodes.id, row.id));
      return { status: "slow_down", interval };
    }
    if (row.status === "denied") return { status: "denied" };
    if (row.status === "pending" || !row.userId) {
      await tx.update(deviceCodes).set({ lastPolledAt: now }).where(eq(deviceCodes.id, row.id));
      return { status: "pending", interval: row.intervalSeconds };
    }
    const [user] = await tx.select().from(users).where(eq(users.id, row.userId)).limit(1);
    if (!user) return { status: "invalid" };
    const login = await issueLoginTokenIn(
      tx,
      ctx,
      user,
      row.client === "npm" ? "npm login (web)" : "device login",
      "device",
      row.client === "npm" ? "npm" : "packr-cli",
    );
    await tx
      .update(deviceCodes)
      .set({ status: "consumed", tokenId: login.tokenId, lastPolledAt: now })
      .where(eq(deviceCodes.id, row.id));
    return {
      status: "approved",
      token: login.token,
      username: login.username,
      expiresIn: Math.round((login.expiresAt.getTime() - now.getTime()) / 1000),
    };
  });
}
