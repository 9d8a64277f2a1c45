import { PackrError } from "../errors.ts";
import type { PackageName } from "../packages/names.ts";
import { normalizeScope } from "../packages/names.ts";
import type { Actor, TokenActor } from "./actor.ts";
import type { Permission } from "./roles.ts";

/** The caller as a token holder, or the reason they are not one (401). */
export function requireToken(actor: Actor, action: string): TokenActor {
  if (actor.type === "token") return actor;
  if (actor.type === "anonymous" && actor.authError) throw actor.authError;
  throw new PackrError(
    "UNAUTHORIZED",
    `You must be logged in to ${action}. Run npm login, or put a token in .npmrc (//<registry host>/:_authToken=…).`,
  );
}

export function requirePermission(
  actor: Actor,
  permission: Permission,
  action: string,
): TokenActor {
  const token = requireToken(actor, action);
  if (!token.permissions.includes(permission)) {
    throw new PackrError(
      "FORBIDDEN",
      `This token (role ${token.role}) may not ${action}: it lacks the "${permission}" permission. Use a token with a role that has it.`,
      { details: { role: token.role, required: permission } },
    );
  }
  return token;
}

/** An administrator acting as one: the user is an admin and the token carries the admin permission. */
export const isAdminToken = (token: TokenActor): boolean =>
  token.isAdmin && token.permissions.includes("admin");

/** Scope restriction of a token: `["@acme"]` may publish only `@acme/*`; empty allows all. */
export function assertScopeAllowed(token: TokenActor, name: PackageName): void {
  if (token.scopes.length === 0) return;
  const allowed = token.scopes.map(normalizeScope);
  if (name.scope && allowed.includes(name.scope.toLowerCase())) return;
  const list = allowed.map((s) => `@${s}`).join(", ");
  throw new PackrError(
    "SCOPE_FORBIDDEN",
    `This token may publish only to ${list}; ${name.name} is outside its scopes. Use a token for that scope.`,
    { details: { allowedScopes: allowed.map((s) => `@${s}`) } },
  );
}
