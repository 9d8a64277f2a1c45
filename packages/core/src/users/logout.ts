import { and, eq, isNull } from "drizzle-orm";
import { emitAudit } from "../audit/emit-audit.ts";
import { recordSignOut } from "../audit/sign-in-events.ts";
import type { ServiceContext } from "../context.ts";
import { tokens } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";

/** Three base64url segments: the shape of any JWT, checked before any cryptography. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * `DELETE /-/user/token/<token>` (npm logout, protocol §4.4): revoke that token. Holding a token
 * is the power to revoke it: whoever presents a live token in the URL gets it revoked, whatever
 * the Authorization header says (npm sends both; a missing or different header, or a leaked token
 * reported by someone else, must not leave it live). npm clears its `.npmrc` only after a 2xx, so
 * the answer is a success whenever there is nothing left to do: the token is already revoked or
 * expired, or is well-formed but not one this registry signed. Only a value that is no token at
 * all is refused (400).
 */
export async function logout(args: {
  ctx: ServiceContext;
  input: { token: string };
}): Promise<{ ok: true; revoked: boolean }> {
  const { ctx, input } = args;
  if (input.token.length > 8192 || !JWT_SHAPE.test(input.token)) {
    throw new PackrError("VALIDATION", "That is not a token of this registry.");
  }
  // Signature, expiry and revocation checked the same way as for a request's own token.
  const holder = await ctx.deps.tokens.authenticate(input.token);
  if (holder.type !== "token") return { ok: true, revoked: false };
  const revoked = await ctx.deps.db.transaction(async (tx) => {
    const updated = await tx
      .update(tokens)
      .set({ revokedAt: ctx.deps.now() })
      .where(and(eq(tokens.id, holder.tokenId), isNull(tokens.revokedAt)))
      .returning({ id: tokens.id });
    if (updated.length === 0) return false;
    // The token revokes itself; who sent the request, if anyone, is recorded beside it.
    const sender = ctx.actor.type === "token" ? ctx.actor : undefined;
    await emitAudit(
      tx,
      { ...ctx, actor: holder },
      {
        action: "token.revoked",
        targetType: "token",
        targetId: holder.tokenId,
        data: {
          via: "logout",
          self: sender?.tokenId === holder.tokenId,
          ...(sender && sender.tokenId !== holder.tokenId ? { sentBy: sender.userName } : {}),
        },
      },
    );
    await recordSignOut(
      tx,
      { ...ctx, actor: holder },
      { userId: holder.userId, via: "npm logout" },
    );
    return true;
  });
  ctx.deps.tokens.invalidate(holder.tokenId);
  return { ok: true, revoked };
}
