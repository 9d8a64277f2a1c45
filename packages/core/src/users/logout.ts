import { and, eq, isNull } from "drizzle-orm";
import { emitAudit } from "../audit/emit-audit.ts";
import { isAdminToken, requireToken } from "../auth/policy.ts";
import type { ServiceContext } from "../context.ts";
import { tokens } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";

/** Three base64url segments: the shape of any JWT, checked before any cryptography. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * `DELETE /-/user/token/<token>` (npm logout, protocol §4.4): revoke that token. npm clears its
 * `.npmrc` only after a 2xx, so the answer is a success whenever there is nothing left to do: the
 * token is already revoked or expired, or is well-formed but not one this registry knows. A live
 * token may be revoked by its owner (with itself or another of their tokens) or by an admin;
 * anyone else is refused.
 */
export async function logout(args: {
  ctx: ServiceContext;
  input: { token: string };
}): Promise<{ ok: true; revoked: boolean }> {
  const { ctx, input } = args;
  if (input.token.length > 8192 || !JWT_SHAPE.test(input.token)) {
    throw new PackrError("VALIDATION", "That is not a token of this registry.");
  }
  const identity = await ctx.deps.tokens.identify(input.token);
  if (!identity) return { ok: true, revoked: false };
  const [row] = await ctx.deps.db
    .select({ userId: tokens.userId, revokedAt: tokens.revokedAt, expiresAt: tokens.expiresAt })
    .from(tokens)
    .where(eq(tokens.id, identity.jti));
  if (!row || row.revokedAt || row.expiresAt.getTime() <= ctx.deps.now().getTime()) {
    return { ok: true, revoked: false };
  }

  const caller = requireToken(ctx.actor, "revoke a token");
  if (row.userId !== caller.userId && !isAdminToken(caller)) {
    throw new PackrError(
      "FORBIDDEN",
      "That token belongs to another user; only its owner or an administrator may revoke it.",
    );
  }
  const revoked = await ctx.deps.db.transaction(async (tx) => {
    const updated = await tx
      .update(tokens)
      .set({ revokedAt: ctx.deps.now() })
      .where(and(eq(tokens.id, identity.jti), isNull(tokens.revokedAt)))
      .returning({ id: tokens.id });
    if (updated.length === 0) return false;
    await emitAudit(tx, ctx, {
      action: "token.revoked",
      targetType: "token",
      targetId: identity.jti,
      data: { via: "logout", self: identity.jti === caller.tokenId },
    });
    return true;
  });
  ctx.deps.tokens.invalidate(identity.jti);
  return { ok: true, revoked };
}
