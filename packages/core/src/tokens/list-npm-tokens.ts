import { and, asc, count, eq, gt, isNull } from "drizzle-orm";
import { requireToken } from "../auth/policy.ts";
import type { ServiceContext } from "../context.ts";
import { tokens } from "../db/schema/index.ts";
import { npmTokenKey, requireTokenManager } from "./token-rules.ts";

/**
 * What npm shows for a token (protocol §3.9). `token` must be a prefix of the real token, for
 * `npm token revoke <token value>`; every Packr token starts with the same JWT header, so that
 * prefix is all it can say. Packr's own `role`, `scopes` and `kind` ride along.
 */
export type NpmToken = {
  key: string;
  token: string;
  name: string;
  created: string;
  updated: string;
  readonly: boolean;
  cidr_whitelist: null;
  expires: string;
  role: string;
  scopes: string[];
  kind: string;
};

/** base64url of `{"alg":"HS256","typ":"JWT"}`, the first segment of every token Packr signs. */
export const NPM_TOKEN_PREFIX = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9".slice(0, 12);

export function toNpmToken(row: {
  id: string;
  name: string;
  role: string;
  scopes: string[];
  kind: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date;
}): NpmToken {
  return {
    key: npmTokenKey(row.id),
    token: NPM_TOKEN_PREFIX,
    name: row.name,
    created: row.createdAt.toISOString(),
    updated: (row.lastUsedAt ?? row.createdAt).toISOString(),
    readonly: row.role === "ci-readonly",
    cidr_whitelist: null,
    expires: row.expiresAt.toISOString(),
    role: row.role,
    scopes: row.scopes,
    kind: row.kind,
  };
}

/**
 * `npm token list`: the caller's live tokens (neither revoked nor expired), oldest first, one page
 * at a time; the route turns `hasNext` into the absolute `urls.next` npm follows.
 */
export async function listNpmTokens(args: {
  ctx: ServiceContext;
  input: { page: number; perPage: number };
}): Promise<{ objects: NpmToken[]; total: number; hasNext: boolean }> {
  const { ctx } = args;
  const caller = requireToken(ctx.actor, "list your tokens");
  requireTokenManager(ctx.actor, "list tokens");
  const page = Math.max(0, Math.floor(args.input.page));
  const perPage = Math.min(100, Math.max(1, Math.floor(args.input.perPage)));
  const live = and(
    eq(tokens.userId, caller.userId),
    isNull(tokens.revokedAt),
    gt(tokens.expiresAt, ctx.deps.now()),
  );
  const [rows, totals] = await Promise.all([
    ctx.deps.db
      .select()
      .from(tokens)
      .where(live)
      .orderBy(asc(tokens.createdAt), asc(tokens.id))
      .limit(perPage)
      .offset(page * perPage),
    ctx.deps.db.select({ n: count() }).from(tokens).where(live),
  ]);
  const total = Number(totals[0]?.n ?? 0);
  return { objects: rows.map(toNpmToken), total, hasNext: (page + 1) * perPage < total };
}
