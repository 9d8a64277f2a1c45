import { and, desc, eq } from "drizzle-orm";
import { isAdminPrincipal } from "../auth/principal.ts";
import type { Role } from "../auth/roles.ts";
import type { ServiceContext, TokenKind } from "../context.ts";
import { tokens, users } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { requireTokenManager } from "./token-rules.ts";

export type TokenSummary = {
  id: string;
  name: string;
  role: Role;
  scopes: string[];
  kind: TokenKind;
  userName: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date;
  revokedAt: Date | null;
};

/**
 * The caller's tokens, newest first, revoked and expired ones included (the list is also the
 * record). Never the secret: it is not stored. `all` (every user's tokens) is for administrators.
 */
export async function listTokens(args: {
  ctx: ServiceContext;
  input: { all?: boolean; limit?: number };
}): Promise<TokenSummary[]> {
  const { ctx, input } = args;
  const principal = requireTokenManager(ctx.actor, "list tokens");
  if (input.all && !isAdminPrincipal(principal)) {
    throw new PackrError("FORBIDDEN", "Only an administrator may list every user's tokens.");
  }
  const rows = await ctx.deps.db
    .select({
      id: tokens.id,
      name: tokens.name,
      role: tokens.role,
      scopes: tokens.scopes,
      kind: tokens.kind,
      userName: users.name,
      createdAt: tokens.createdAt,
      lastUsedAt: tokens.lastUsedAt,
      expiresAt: tokens.expiresAt,
      revokedAt: tokens.revokedAt,
    })
    .from(tokens)
    .innerJoin(users, eq(users.id, tokens.userId))
    .where(input.all ? undefined : and(eq(tokens.userId, principal.userId)))
    .orderBy(desc(tokens.createdAt), desc(tokens.id))
    .limit(Math.min(input.limit ?? 1000, 1000));
  return rows;
}
