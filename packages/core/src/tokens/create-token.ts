import { z } from "zod";
import { emitAudit } from "../audit/emit-audit.ts";
import { requirePrincipal } from "../auth/principal.ts";
import { ROLES, type Role } from "../auth/roles.ts";
import type { ServiceContext } from "../context.ts";
import { describeIssues, PackrError } from "../errors.ts";
import { emitEvent } from "../events/emit-event.ts";
import { resolveTokenTtl } from "./token-expiry.ts";
import { assertGrantable, normalizeTokenScopes } from "./token-rules.ts";

export const CreateTokenInput = z.object({
  name: z.string().trim().min(1).max(100),
  role: z.enum(ROLES),
  scopes: z.array(z.string().max(215)).max(50).optional(),
  /** A duration (`15m`, `2h`, `7d`; bare = ms) within PACKR_TOKEN_MIN_TTL..PACKR_TOKEN_MAX_TTL. */
  expiresIn: z.union([z.string(), z.number()]).optional(),
  /** The older form, whole days; checked against the same range. */
  expiresInDays: z.number().optional(),
  kind: z.enum(["ci", "personal"]).optional(),
});
export type CreateTokenInput = z.input<typeof CreateTokenInput>;

export type CreatedToken = {
  token: string;
  id: string;
  name: string;
  role: Role;
  scopes: string[];
  kind: "ci" | "personal";
  expiresAt: Date;
  createdAt: Date;
};

/**
 * Create a named token for the caller (session or token). It may carry only permissions and scopes
 * the caller holds (assertGrantable); CI tokens create nothing. The secret is returned here once
 * and never stored: the row keeps what is needed to list and revoke it. `kind` defaults to `ci`
 * for the ci-* roles and `personal` otherwise. Audited as `token.created`.
 */
export async function createToken(args: {
  ctx: ServiceContext;
  input: CreateTokenInput;
}): Promise<CreatedToken> {
  const { ctx } = args;
  const principal = requirePrincipal(ctx.actor, "create a token");
  const parsed = CreateTokenInput.safeParse(args.input);
  if (!parsed.success) {
    throw new PackrError("VALIDATION", `Invalid token request: ${describeIssues(parsed.error)}`);
  }
  const input = parsed.data;
  const scopes = normalizeTokenScopes(input.scopes ?? []);
  assertGrantable(principal, input.role, scopes);
  const kind = input.kind ?? (input.role.startsWith("ci-") ? "ci" : "personal");
  const ttlMs = resolveTokenTtl(ctx.deps.identity.tokenTtl, {
    expiresIn: input.expiresIn,
    days: input.expiresInDays,
    field: input.expiresIn !== undefined ? "expiresIn" : "expiresInDays",
  });
  return ctx.deps.db.transaction(async (tx) => {
    const issued = await ctx.deps.tokens.issue(tx, {
      kind,
      name: input.name,
      userId: principal.userId,
      role: input.role,
      scopes,
      createdBy: principal.userId,
      ttlSeconds: ttlMs / 1000,
    });
    await emitAudit(tx, ctx, {
      action: "token.created",
      targetType: "token",
      targetId: issued.id,
      data: {
        kind,
        name: input.name,
        role: input.role,
        scopes,
        expiresAt: issued.expiresAt.toISOString(),
      },
    });
    // To the owner's own hooks only; the body describes the token, never its secret.
    await emitEvent(tx, ctx, {
      type: "token.created",
      userId: principal.userId,
      data: {
        token: {
          id: issued.id,
          name: input.name,
          kind,
          role: input.role,
          scopes,
          expiresAt: issued.expiresAt.toISOString(),
        },
      },
    });
    return {
      token: issued.token,
      id: issued.id,
      name: input.name,
      role: input.role,
      scopes,
      kind,
      expiresAt: issued.expiresAt,
      createdAt: issued.createdAt,
    };
  });
}
