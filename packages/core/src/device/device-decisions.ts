import { eq } from "drizzle-orm";
import { emitAudit } from "../audit/emit-audit.ts";
import { RATE_LIMITS } from "../auth/rate-limiter.ts";
import type { ServiceContext, SessionActor } from "../context.ts";
import { deviceCodes } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { normalizeUserCode } from "./user-code.ts";

export type DeviceCodeView = {
  userCode: string;
  status: "pending" | "approved" | "denied" | "expired";
  client: "packr-cli" | "npm";
  provider: string | null;
  expiresAt: Date;
};

/** One sentence for wrong, expired and used-up codes alike: a code's existence is never revealed. */
const unknownCode = () =>
  new PackrError(
    "NOT_FOUND",
    "That code is not valid: check it, or start the login again in your terminal (codes expire after a few minutes).",
  );

function requireSession(ctx: ServiceContext, action: string): SessionActor {
  if (ctx.actor.type !== "session") {
    throw new PackrError("UNAUTHORIZED", `You must be signed in to ${action}.`);
  }
  // Per person, not per address: these calls all come from the dashboard server's address.
  ctx.deps.rateLimiter.enforce(
    "device.usercode",
    ctx.actor.userId,
    RATE_LIMITS.userCodeLookup,
    "code lookups",
  );
  return ctx.actor;
}

/**
 * What the dashboard shows before a person approves: the code's state, its client and provider.
 * Needs a session. Unknown and expired codes are the same 404.
 */
export async function describeDeviceCode(args: {
  ctx: ServiceContext;
  input: { userCode: string };
}): Promise<DeviceCodeView> {
  const { ctx } = args;
  requireSession(ctx, "look up a device code");
  const code = normalizeUserCode(args.input.userCode);
  if (!code) throw unknownCode();
  const [row] = await ctx.deps.db
    .select()
    .from(deviceCodes)
    .where(eq(deviceCodes.userCode, code))
    .limit(1);
  if (!row || row.expiresAt.getTime() <= ctx.deps.now().getTime()) throw unknownCode();
  return {
    userCode: row.userCode,
    status: row.status === "consumed" ? "approved" : row.status,
    client: row.client,
    provider: row.provider,
    expiresAt: row.expiresAt,
  };
}

/**
 * The person's answer at `/cli/auth`: approving binds the code to the session's user (the polling
 * client then receives a login token for them), denying makes the client's next poll
 * access_denied. A code is decided once; unknown and expired codes are the same 404.
 */
export async function decideDeviceCode(args: {
  ctx: ServiceContext;
  input: { userCode: string; approve: boolean };
}): Promise<{ status: "approved" | "denied" }> {
  const { ctx, input } = args;
  const session = requireSession(ctx, "approve a device login");
  const code = normalizeUserCode(input.userCode);
  if (!code) throw unknownCode();
  return ctx.deps.db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(deviceCodes)
      .where(eq(deviceCodes.userCode, code))
      .for("update")
      .limit(1);
    if (!row || row.expiresAt.getTime() <= ctx.deps.now().getTime()) throw unknownCode();
    if (row.status !== "pending") {
      throw new PackrError(
        "CONFLICT",
        "This code has already been used. Start the login again in your terminal.",
      );
    }
    const status = input.approve ? ("approved" as const) : ("denied" as const);
    await tx
      .update(deviceCodes)
      .set({ status, userId: input.approve ? session.userId : null })
      .where(eq(deviceCodes.id, row.id));
    await emitAudit(tx, ctx, {
      action: input.approve ? "device.approved" : "device.denied",
      targetType: "device_code",
      targetId: row.id,
      data: { client: row.client, provider: row.provider },
    });
    return { status };
  });
}
