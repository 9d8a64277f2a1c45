import type { PackrError } from "../errors.ts";
import type { Permission, Role } from "./roles.ts";

/*
 * A module of its own (not context.ts) because both context.ts (Deps holds the TokenService) and
 * the TokenService (which produces actors) need these types; with them here neither imports the other.
 */

export type TokenKind = "login" | "personal" | "ci";

/** Who is calling. Every core verb decides authorization from this and nothing else. */
export type Actor =
  | {
      type: "anonymous";
      /** Why a presented credential was rejected; raised only when the call needs authentication. */
      authError?: PackrError;
    }
  | {
      type: "token";
      tokenId: string;
      tokenKind: TokenKind;
      /** The token's name as its owner gave it (recorded in audit rows); absent for made-up actors. */
      tokenName?: string;
      userId: string;
      userName: string;
      userEmail: string | null;
      isAdmin: boolean;
      role: Role;
      permissions: readonly Permission[];
      /** npm scopes (`@acme`) the token may publish to; empty = all. */
      scopes: readonly string[];
      orgId: string | null;
    }
  | {
      /** A person signed in to the dashboard (a `packr_session`); accepted by the admin API only. */
      type: "session";
      sessionId: string;
      userId: string;
      userName: string;
      userEmail: string | null;
      isAdmin: boolean;
    }
  | { type: "system"; reason: string };

export type TokenActor = Extract<Actor, { type: "token" }>;
export type SessionActor = Extract<Actor, { type: "session" }>;
