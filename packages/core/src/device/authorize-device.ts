import { lt } from "drizzle-orm";
import { z } from "zod";
import { RATE_LIMITS } from "../auth/rate-limiter.ts";
import type { ServiceContext } from "../context.ts";
import { deviceCodes } from "../db/schema/index.ts";
import { describeIssues, PackrError } from "../errors.ts";
import { newId } from "../ids.ts";
import { hashDeviceCode, newDeviceCode, newUserCode } from "./user-code.ts";

export const AuthorizeDeviceInput = z.object({
  provider: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/)
    .optional(),
  client: z.enum(["packr-cli", "npm"]).optional(),
});
export type AuthorizeDeviceInput = z.input<typeof AuthorizeDeviceInput>;

export type DeviceAuthorization = {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string;
  expiresIn: number;
  interval: number;
};

/**
 * Start an RFC 8628 device authorization (also what npm's web login rides on). Public, so it is
 * rate-limited per client address. The device code is returned once and stored as a hash; the
 * user code is what a person confirms at `<dashboard>/cli/auth`.
 */
export async function authorizeDevice(args: {
  ctx: ServiceContext;
  input: AuthorizeDeviceInput;
}): Promise<DeviceAuthorization> {
  const { ctx } = args;
  const parsed = AuthorizeDeviceInput.safeParse(args.input ?? {});
  if (!parsed.success) {
    throw new PackrError(
      "VALIDATION",
      `Invalid device authorization: ${describeIssues(parsed.error)}`,
    );
  }
  ctx.deps.rateLimiter.enforce(
    "device.authorize",
    ctx.ip ?? "unknown",
    RATE_LIMITS.deviceAuthorize,
    "sign-in attempts",
  );
  const { identity } = ctx.deps;
  const deviceCode = newDeviceCode();
  const now = ctx.deps.now();
  // Sweep codes dead for a day (kept that long for the approval page's answers), so the table and
  // the space of taken user codes stay small; authorizations are rate-limited, so this is rare work.
  await ctx.deps.db
    .delete(deviceCodes)
    .where(lt(deviceCodes.expiresAt, new Date(now.getTime() - 24 * 3600_000)));
  const expiresAt = new Date(now.getTime() + identity.deviceCodeTtlSeconds * 1000);
  for (let attempt = 0; ; attempt++) {
    const userCode = newUserCode();
    const inserted = await ctx.deps.db
      .insert(deviceCodes)
      .values({
        id: newId("dev"),
        deviceCodeHash: hashDeviceCode(deviceCode),
        userCode,
        provider: parsed.data.provider ?? null,
        client: parsed.data.client ?? "packr-cli",
        clientIp: ctx.ip ?? null,
        intervalSeconds: identity.deviceIntervalSeconds,
        expiresAt,
        createdAt: now,
      })
      .onConflictDoNothing()
      .returning({ id: deviceCodes.id });
    if (inserted.length > 0) {
      const verificationUri = `${identity.dashboardUrl}/cli/auth`;
      return {
        deviceCode,
        userCode,
        verificationUri,
        verificationUriComplete: `${verificationUri}?code=${userCode}`,
        expiresIn: identity.deviceCodeTtlSeconds,
        interval: identity.deviceIntervalSeconds,
      };
    }
    // A user code still in the table (live or not yet swept) was drawn again: draw another.
    if (attempt >= 5) throw new PackrError("INTERNAL", "Could not allocate a user code.");
  }
}
