import { createHash, createSecretKey, type KeyObject } from "node:crypto";
import { eq, inArray } from "drizzle-orm";
import {
  compactVerify,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
} from "jose";
import type { Actor, TokenActor, TokenKind } from "../auth/actor.ts";
import { isRole, ROLE_PERMISSIONS, type Role } from "../auth/roles.ts";
import type { Database, Queryable } from "../db/client.ts";
import { tokens, users } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { newId } from "../ids.ts";

const ISSUER = "packr";
/**
 * Fixed rather than the public URL: a token in ~/.npmrc or a CI secret must survive a move of
 * PACKR_PUBLIC_URL (new domain, a CDN in front), and what the audience has to rule out is a JWT
 * minted for something else that happens to share the secret, which a fixed name does as well.
 */
export const TOKEN_AUDIENCE = "packr-registry";
/** The only algorithm accepted: `none`, RS/ES (key confusion) and other HMACs are refused. */
const ALG = "HS256";

/**
 * The `kid` naming a signing secret: a short, domain-separated SHA-256 of it, so the header says
 * which key to use without revealing anything usable about the key.
 */
export function jwtKeyId(secret: string): string {
  return createHash("sha256").update(`packr-jwt-kid\0${secret}`).digest("base64url").slice(0, 12);
}

/** The current signing secret, plus retired ones whose tokens are still accepted until they expire. */
export type JwtSecrets = { current: string; previous?: readonly string[] };
/** How long a token row stays cached: the upper bound on how late a revocation is seen. */
const ROW_TTL_MS = 2_000;
const LAST_USED_FLUSH_MS = 30_000;

export type IssueTokenInput = {
  kind: TokenKind;
  name: string;
  userId: string;
  role: Role;
  scopes?: readonly string[];
  orgId?: string | null;
  createdBy?: string | null;
  /** May be fractional; the JWT's `exp` is the expiry rounded down to the second. */
  ttlSeconds: number;
};

type CachedRow = {
  fetchedAt: number;
  row: {
    revokedAt: Date | null;
    tokenName: string;
    userName: string;
    userEmail: string | null;
    isAdmin: boolean;
  } | null;
};

/**
 * Mints and checks Packr's JWTs. A check is a signature verification plus a row lookup that is
 * cached for two seconds (so revocation reaches every instance within that), never a password hash
 * and never a write: last-used times are collected in memory and flushed in batches.
 */
export class TokenService {
  /** Imported once: handing jose raw bytes re-imports the key on every verification. */
  private readonly key: KeyObject;
  private readonly kid: string;
  /** Every key a token may be verified with (current first), by its kid. */
  private readonly keys = new Map<string, KeyObject>();
  /** Tokens whose signature has been verified, by their exact text (~100 µs of HMAC saved per request). */
  private readonly verified = new Map<string, { claims: Record<string, unknown>; expMs: number }>();
  private readonly cache = new Map<string, CachedRow>();
  /** Tokens seen since the last flush; their last-used time is accurate to the flush interval. */
  private readonly usedSince = new Set<string>();
  private readonly flushTimer: NodeJS.Timeout;

  constructor(
    private readonly db: Database,
    secret: string | JwtSecrets,
    private readonly now: () => Date = () => new Date(),
  ) {
    const { current, previous = [] } = typeof secret === "string" ? { current: secret } : secret;
    this.key = createSecretKey(Buffer.from(current, "utf8"));
    this.kid = jwtKeyId(current);
    this.keys.set(this.kid, this.key);
    for (const old of previous) {
      const kid = jwtKeyId(old);
      if (!this.keys.has(kid)) this.keys.set(kid, createSecretKey(Buffer.from(old, "utf8")));
    }
    this.flushTimer = setInterval(
      () => void this.flushLastUsed().catch(() => {}),
      LAST_USED_FLUSH_MS,
    );
    this.flushTimer.unref();
  }

  /** Insert the token's row and sign its JWT; call inside the transaction that justifies it. */
  async issue(
    tx: Queryable,
    input: IssueTokenInput,
  ): Promise<{ token: string; id: string; expiresAt: Date; createdAt: Date }> {
    const id = newId("tok");
    const issuedAt = this.now();
    const expiresAt = new Date(issuedAt.getTime() + input.ttlSeconds * 1000);
    const permissions = [...ROLE_PERMISSIONS[input.role]];
    const scopes = [...(input.scopes ?? [])];
    await tx.insert(tokens).values({
      id,
      kind: input.kind,
      name: input.name,
      userId: input.userId,
      orgId: input.orgId ?? null,
      role: input.role,
      permissions,
      scopes,
      createdBy: input.createdBy ?? input.userId,
      createdAt: issuedAt,
      expiresAt,
    });
    const token = await new SignJWT({
      org_id: input.orgId ?? null,
      user_id: input.userId,
      permissions,
      scopes,
      role: input.role,
      kind: input.kind,
    })
      .setProtectedHeader({ alg: ALG, typ: "JWT", kid: this.kid })
      .setIssuer(ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setJti(id)
      .setIssuedAt(Math.floor(issuedAt.getTime() / 1000))
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.key);
    return { token, id, expiresAt, createdAt: issuedAt };
  }

  /** Turn a bearer token into an actor, or throw UNAUTHORIZED / TOKEN_EXPIRED / TOKEN_REVOKED. */
  async verify(token: string): Promise<TokenActor> {
    let claims: Record<string, unknown>;
    const known = this.verified.get(token);
    if (known && known.expMs > this.now().getTime()) {
      // Signature and issuer were checked when this exact string was first seen; expiry is
      // rechecked above and revocation below, so the cache only skips repeated HMAC work.
      claims = known.claims;
    } else
      try {
        claims = await this.verifySignature(token);
        if (typeof claims.exp === "number") {
          if (this.verified.size >= 10_000) this.verified.clear();
          this.verified.set(token, { claims, expMs: claims.exp * 1000 });
        }
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) {
          const exp = (err.payload as { exp?: number }).exp;
          const when = exp ? ` on ${new Date(exp * 1000).toISOString()}` : "";
          throw new PackrError(
            "TOKEN_EXPIRED",
            `Your token expired${when}. Log in again (npm login) or create a new token.`,
          );
        }
        throw new PackrError(
          "UNAUTHORIZED",
          "Your token is not valid for this registry. Log in again (npm login) or create a new token.",
        );
      }
    const jti = claims.jti;
    const userId = claims.user_id;
    const role = claims.role;
    const kind = claims.kind;
    if (
      typeof jti !== "string" ||
      typeof userId !== "string" ||
      !isRole(role) ||
      !isTokenKind(kind)
    ) {
      throw new PackrError("UNAUTHORIZED", "Your token is malformed. Log in again (npm login).");
    }
    const row = await this.lookup(jti);
    if (!row) {
      throw new PackrError(
        "UNAUTHORIZED",
        "This token is not known to the registry. Log in again (npm login).",
      );
    }
    if (row.revokedAt) {
      throw new PackrError(
        "TOKEN_REVOKED",
        "This token has been revoked. Log in again (npm login) or create a new token.",
      );
    }
    this.usedSince.add(jti);
    return {
      type: "token",
      tokenId: jti,
      tokenKind: kind,
      tokenName: row.tokenName,
      userId,
      userName: row.userName,
      userEmail: row.userEmail,
      isAdmin: row.isAdmin,
      role,
      permissions: ROLE_PERMISSIONS[role],
      scopes: Array.isArray(claims.scopes)
        ? claims.scopes.filter((s): s is string => typeof s === "string")
        : [],
      orgId: typeof claims.org_id === "string" ? claims.org_id : null,
    };
  }

  /**
   * Check signature, algorithm, issuer, audience and expiry. A token names its key by `kid`; one
   * without a `kid` was minted before keys had ids (and before `aud`): it is tried against each
   * configured key and accepted without an audience, so upgrading logs nobody out. Such tokens
   * still need their row (a foreign JWT has no `tok_` id here), and all are gone once the longest
   * token lifetime has passed since the upgrade. A token with a `kid` must carry the audience.
   */
  private async verifySignature(token: string): Promise<Record<string, unknown>> {
    const header = decodeProtectedHeader(token);
    const options = { issuer: ISSUER, algorithms: [ALG], currentDate: this.now() };
    if (header.kid !== undefined) {
      const key = typeof header.kid === "string" ? this.keys.get(header.kid) : undefined;
      if (!key) throw new Error("unknown kid");
      const { payload } = await jwtVerify(token, key, { ...options, audience: TOKEN_AUDIENCE });
      return payload as Record<string, unknown>;
    }
    let failure: unknown = new Error("no key");
    for (const key of this.keys.values()) {
      try {
        const { payload } = await jwtVerify(token, key, options);
        if (payload.aud !== undefined) throw new Error("an audience without a kid");
        return payload as Record<string, unknown>;
      } catch (err) {
        // An expired token with a good signature says so; any other failure tries the next key.
        if (err instanceof joseErrors.JWTExpired) throw err;
        failure = err;
      }
    }
    throw failure;
  }

  /** The key a token names by `kid` (a legacy token without one: each configured key). */
  private keysFor(token: string): KeyObject[] {
    let kid: unknown;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      return [];
    }
    if (kid === undefined) return [...this.keys.values()];
    const key = typeof kid === "string" ? this.keys.get(kid) : undefined;
    return key ? [key] : [];
  }

  /**
   * The id and owner of a token this registry signed, whatever its state (expired, revoked, or
   * with no row any more): for revoking it. Null when the signature or shape is not ours.
   */
  async identify(token: string): Promise<{ jti: string; userId: string } | null> {
    for (const key of this.keysFor(token)) {
      try {
        const { payload } = await compactVerify(token, key, { algorithms: [ALG] });
        const claims: unknown = JSON.parse(new TextDecoder().decode(payload));
        if (typeof claims !== "object" || claims === null) return null;
        const { jti, user_id: userId, iss, aud } = claims as Record<string, unknown>;
        if (iss !== ISSUER || typeof jti !== "string" || typeof userId !== "string") return null;
        if (aud !== undefined && aud !== TOKEN_AUDIENCE) return null;
        return { jti, userId };
      } catch {
        // Not this key: try the next one (legacy tokens without a kid).
      }
    }
    return null;
  }

  /** Resolve an optional `Authorization` value; a bad credential becomes an anonymous actor carrying the reason. */
  async authenticate(bearer: string | undefined): Promise<Actor> {
    if (!bearer) return { type: "anonymous" };
    try {
      return await this.verify(bearer);
    } catch (err) {
      if (err instanceof PackrError) return { type: "anonymous", authError: err };
      throw err;
    }
  }

  /** Forget a cached row now (this instance); other instances see the change within ROW_TTL_MS. */
  invalidate(jti: string): void {
    this.cache.delete(jti);
  }

  private async lookup(jti: string): Promise<CachedRow["row"]> {
    const at = Date.now();
    const hit = this.cache.get(jti);
    if (hit && at - hit.fetchedAt < ROW_TTL_MS) return hit.row;
    const [found] = await this.db
      .select({
        revokedAt: tokens.revokedAt,
        tokenName: tokens.name,
        userName: users.name,
        userEmail: users.email,
        isAdmin: users.isAdmin,
      })
      .from(tokens)
      .innerJoin(users, eq(users.id, tokens.userId))
      .where(eq(tokens.id, jti))
      .limit(1);
    const row = found ?? null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(jti, { fetchedAt: at, row });
    return row;
  }

  /** Write collected last-used times in one statement. */
  async flushLastUsed(): Promise<void> {
    if (this.usedSince.size === 0) return;
    const ids = [...this.usedSince];
    this.usedSince.clear();
    await this.db.update(tokens).set({ lastUsedAt: this.now() }).where(inArray(tokens.id, ids));
  }

  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.flushLastUsed();
  }
}

const isTokenKind = (v: unknown): v is TokenKind => v === "login" || v === "personal" || v === "ci";
