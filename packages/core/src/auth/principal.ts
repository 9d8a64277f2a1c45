import { PackrError } from "../errors.ts";
import type { Actor, TokenKind } from "./actor.ts";
import { requireToken } from "./policy.ts";
import { type Permission, ROLE_PERMISSIONS, type Role } from "./roles.ts";

/**
 * A person acting through the identity verbs, whether by a dashboard session or by a token: what
 * they may hand on to a new token is exactly what they hold here.
 */
export type Principal = {
  userId: string;
  userName: string;
  isAdmin: boolean;
  role: Role;
  permissions: readonly Permission[];
  /** Publish scopes the caller is restricted to; empty = all. */
  scopes: readonly string[];
  via: "session" | "token";
  tokenId: string | null;
  tokenKind: TokenKind | null;
};

/** The role a person holds when signed in (login tokens and sessions): admin for admins. */
export const personRole = (isAdmin: boolean): Role => (isAdmin ? "admin" : "maintainer");

export function requirePrincipal(actor: Actor, action: string): Principal {
  if (actor.type === "session") {
    const role = personRole(actor.isAdmin);
    return {
      userId: actor.userId,
      userName: actor.userName,
      isAdmin: actor.isAdmin,
      role,
      permissions: ROLE_PERMISSIONS[role],
      scopes: [],
      via: "session",
      tokenId: null,
      tokenKind: null,
    };
  }
  const token = requireToken(actor, action);
  return {
    userId: token.userId,
    userName: token.userName,
    isAdmin: token.isAdmin,
    role: token.role,
    permissions: token.permissions,
    scopes: token.scopes,
    via: "token",
    tokenId: token.tokenId,
    tokenKind: token.tokenKind,
  };
}

/** An administrator acting as one: an admin user with the admin permission in hand. */
export const isAdminPrincipal = (p: Principal): boolean =>
  p.isAdmin && p.permissions.includes("admin");

export function requireAdminPrincipal(actor: Actor, action: string): Principal {
  const p = requirePrincipal(actor, action);
  if (!isAdminPrincipal(p)) {
    throw new PackrError("FORBIDDEN", `Only an administrator may ${action}.`);
  }
  return p;
}
