import { eq } from "drizzle-orm";
import { requireToken } from "../auth/policy.ts";
import type { ServiceContext } from "../context.ts";
import { tokens } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import {
  isTokenManager,
  markTokenRevoked,
  npmTokenKey,
  requireTokenManager,
} from "./token-rules.ts";

const KEY = /^[0-9a-f]{128}$/;

/**
 * `npm token revoke`: `DELETE /-/npm/v1/tokens/token/<key or raw token>` (protocol §3.9: npm sends
 * the full key of a listed token, or the token value itself). Only the caller's own tokens; an
 * unknown or foreign one is 404. Takes effect at once on this instance, within 2 s elsewhere.
 */
export async function revokeNpmToken(args: {
  ctx: ServiceContext;
  input: { ref: string };
}): Promise<{ revoked: boolean }> {
  const { ctx, input } = args;
  const caller = requireToken(ctx.actor, "revoke a token");
  const manager = isTokenManager(ctx.actor);
  let tokenId: string | null = null;
  if (KEY.test(input.ref) && manager) {
    // The key is a hash of the id: compare against the caller's own tokens (a handful).
    const mine = await ctx.deps.db
      .select({ id: tokens.id })
      .from(tokens)
      .where(eq(tokens.userId, caller.userId));
    tokenId = mine.find((t) => npmTokenKey(t.id) === input.ref)?.id ?? null;
  } else if (input.ref.length <= 8192) {
    const identity = await ctx.deps.tokens.identify(input.ref);
    // A token that may not manage tokens may still revoke itself.
    if (
      identity &&
      identity.userId === caller.userId &&
      (manager || identity.jti === caller.tokenId)
    ) {
      tokenId = identity.jti;
    }
  }
  if (!tokenId && !manager) requireTokenManager(ctx.actor, "revoke other tokens");
  if (!tokenId) throw new PackrError("NOT_FOUND", "There is no such token among yours.");
  const id = tokenId;
  const revoked = await ctx.deps.db.transaction((tx) =>
    markTokenRevoked(tx, ctx, id, "npm token revoke"),
  );
  ctx.deps.tokens.invalidate(id);
  return { revoked };
}
