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

/**
 * Read access to a package. Restricted packages need a token with `read`. An anonymous read of a
 * scoped name that does not exist gets the same 401 as a restricted one, so anonymous callers
 * cannot probe which private names exist.
 */
export function assertCanRead(
  actor: Actor,
  name: PackageName,
  pkg: { access: "public" | "restricted" } | null,
): void {
  if (pkg?.access === "public") return;
  if (pkg === null && (actor.type !== "anonymous" || name.scope === null)) return;
  if (canReadRestricted(actor)) return;
  requirePermission(actor, "read", `read ${name.name}`);
}

/**
 * Whether restricted packages are visible to this caller at all: the rule of `assertCanRead`, for
 * listings (search, stars, access lists) that filter many packages in SQL instead of asking per
 * package.
 */
export const canReadRestricted = (actor: Actor): boolean =>
  actor.type === "system" || (actor.type === "token" && actor.permissions.includes("read"));
