import { createHash } from "node:crypto";
import { and, eq, isNull } from "drizzle-orm";
import { emitAudit } from "../audit/emit-audit.ts";
import type { Actor } from "../auth/actor.ts";
import { type Principal, requirePrincipal } from "../auth/principal.ts";
import { ROLE_PERMISSIONS, type Role } from "../auth/roles.ts";
import type { ServiceContext, Tx } from "../context.ts";
import { tokens } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { emitEvent } from "../events/emit-event.ts";

const SCOPE = /^@?([a-z0-9][a-z0-9._~-]{0,213})$/;

/** `acme`, `@acme`, `@ACME` → `@acme`; anything else is a VALIDATION error naming it. */
export function normalizeTokenScopes(raw: readonly string[]): string[] {
  if (raw.length > 50) throw new PackrError("VALIDATION", "A token may name at most 50 scopes.");
  const out = new Set<string>();
  for (const s of raw) {
    const m = SCOPE.exec(s.trim().toLowerCase());
    if (!m) {
      throw new PackrError(
        "VALIDATION",
        `"${s.slice(0, 100)}" is not an npm scope; write it as @scope.`,
      );
    }
    out.add(`@${m[1]}`);
  }
  return [...out];
}

/**
 * The rule every token creation obeys: the new token carries no permission and no scope its
 * creator does not hold. CI tokens mint nothing: a leaked CI token must not be able to outlive its
 * own revocation by creating others.
 */
export function assertGrantable(p: Principal, role: Role, scopes: readonly string[]): void {
  if (p.tokenKind === "ci") {
    throw new PackrError(
      "FORBIDDEN",
      "A CI token cannot create tokens. Create them signed in to the dashboard or with a login token (npm login).",
    );
  }
  const wanted = ROLE_PERMISSIONS[role];
  const missing = wanted.filter((perm) => !p.permissions.includes(perm));
  if (missing.length > 0 || (role === "admin" && !p.isAdmin)) {
    throw new PackrError(
      "FORBIDDEN",
      `You may not create a ${role} token: it would carry ${missing.length > 0 ? missing.map((m) => `"${m}"`).join(", ") : '"admin"'} permission that you do not hold (your role is ${p.role}).`,
      { details: { role: p.role, requested: role } },
    );
  }
  if (p.scopes.length > 0) {
    const outside = scopes.filter((s) => !p.scopes.includes(s));
    if (scopes.length === 0 || outside.length > 0) {
      throw new PackrError(
        "SCOPE_FORBIDDEN",
        `You are restricted to ${p.scopes.join(", ")}; a new token must be restricted to those scopes too${outside.length > 0 ? ` (${outside.join(", ")} is outside them)` : ""}.`,
        { details: { allowedScopes: [...p.scopes] } },
      );
    }
  }
}

/** npm's token `key`: sha512 hex of the token id (derivable without keeping the secret). */
export const npmTokenKey = (tokenId: string): string =>
  createHash("sha512").update(tokenId).digest("hex");

/**
 * Mark a token revoked and record it, inside the caller's transaction. False when it already was.
 * The caller drops it from this instance's cache after commit; other instances stop accepting it
 * when their cached row ages out (TokenService ROW_TTL_MS, 2 s).
 */
export async function markTokenRevoked(
  tx: Tx,
  ctx: ServiceContext,
  tokenId: string,
  via: string,
): Promise<boolean> {
  const updated = await tx
    .update(tokens)
    .set({ revokedAt: ctx.deps.now() })
    .where(and(eq(tokens.id, tokenId), isNull(tokens.revokedAt)))
    .returning({ id: tokens.id, userId: tokens.userId, name: tokens.name, kind: tokens.kind });
  const [row] = updated;
  if (!row) return false;
  await emitAudit(tx, ctx, {
    action: "token.revoked",
    targetType: "token",
    targetId: tokenId,
    data: { via },
  });
  // To the token owner's own hooks (even when an administrator revoked it).
  await emitEvent(tx, ctx, {
    type: "token.revoked",
    userId: row.userId,
    data: { token: { id: row.id, name: row.name, kind: row.kind }, via },
  });
  return true;
}

/**
 * Who may see and revoke a person's tokens: the person (a dashboard session, or the login token
 * `npm login`/`packr-cli login` gave them) or a token with the admin permission. Tokens made for
 * a job (CI and personal tokens of lesser roles) may not: a leaked `ci-readonly` token must not
 * list its owner's tokens or revoke them. A token may always revoke itself (`selfId`).
 */
export function requireTokenManager(actor: Actor, action: string, selfId?: string): Principal {
  const p = requirePrincipal(actor, action);
  if (managesTokens(p)) return p;
  if (selfId !== undefined && p.tokenId === selfId) return p;
  throw new PackrError(
    "FORBIDDEN",
    `A ${p.tokenKind} token with role ${p.role} cannot ${action}: manage tokens signed in to the dashboard, or with the token npm login or packr-cli login gave you.`,
  );
}

const managesTokens = (p: Principal): boolean =>
  p.via === "session" || p.tokenKind === "login" || p.permissions.includes("admin");

/** Whether the caller may list and revoke its owner's tokens (see `requireTokenManager`). */
export const isTokenManager = (actor: Actor): boolean =>
  (actor.type === "session" || actor.type === "token") &&
  managesTokens(requirePrincipal(actor, "manage tokens"));
