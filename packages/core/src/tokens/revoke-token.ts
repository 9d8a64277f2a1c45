import { eq } from "drizzle-orm";
import { isAdminPrincipal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { tokens } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { markTokenRevoked, requireTokenManager } from "./token-rules.ts";

/**
 * Revoke a token by id: its owner or an administrator. Someone else's token answers the same 404
 * as a token that does not exist. Revoking a revoked token is a success (nothing left to do).
 * Audited as `token.revoked`; this instance forgets it at once, others within TokenService's 2 s.
 */
export async function revokeToken(args: {
  ctx: ServiceContext;
  input: { id: string; via?: string };
}): Promise<{ revoked: boolean }> {
  const { ctx, input } = args;
  const principal = requireTokenManager(ctx.actor, "revoke tokens", input.id);
  const [row] =
    input.id.length <= 100
      ? await ctx.deps.db
          .select({ userId: tokens.userId })
          .from(tokens)
          .where(eq(tokens.id, input.id))
          .limit(1)
      : [];
  if (!row || (row.userId !== principal.userId && !isAdminPrincipal(principal))) {
    throw new PackrError("NOT_FOUND", "There is no such token among yours.");
  }
  const revoked = await ctx.deps.db.transaction((tx) =>
    markTokenRevoked(tx, ctx, input.id, input.via ?? "admin-api"),
  );
  ctx.deps.tokens.invalidate(input.id);
  return { revoked };
}
