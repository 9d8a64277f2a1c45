import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
import { emitAudit } from "../audit/emit-audit.ts";
import { recordFailedSignIn, recordSignIn, type SignInMethod } from "../audit/sign-in-events.ts";
import { AttemptLimits, secondsLeft } from "../auth/attempt-limits.ts";
import { admitPasswordCheck, hashPassword, verifyPassword } from "../auth/passwords.ts";
import { requireToken } from "../auth/policy.ts";
import { RATE_LIMITS } from "../auth/rate-limiter.ts";
import type { Role } from "../auth/roles.ts";
import type { ServiceContext, Tx } from "../context.ts";
import { users } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { newId } from "../ids.ts";
import { assertMaySignUp } from "./signup-policy.ts";

/** Login tokens live 30 days (DESIGN.md §5). */
export const LOGIN_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

const USERNAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

export type LoginResult = { token: string; username: string; expiresAt: Date; tokenId: string };

type UserRow = typeof users.$inferSelect;

const badCredentials = () => new PackrError("UNAUTHORIZED", "Incorrect username or password.");

/** The role a person's login token gets: admins log in as admin, everyone else as maintainer. */
const loginRole = (user: UserRow): Role => (user.isAdmin ? "admin" : "maintainer");

/**
 * Exchange a username and password for a 30-day login token (`POST /-/v1/login`, the legacy
 * couch PUT). Unknown users and wrong passwords answer the same sentence, after the same work.
 */
export async function loginWithPassword(args: {
  ctx: ServiceContext;
  input: { name: string; password: string; tokenName?: string };
}): Promise<LoginResult> {
  const { ctx, input } = args;
  const user = await checkPassword(ctx, input.name, input.password);
  return issueLoginToken(ctx, user, input.tokenName ?? "npm login", "password");
}

/**
 * The one password check (npm login, the dashboard's password sign-in): the user when the
 * password is theirs. Every attempt is counted before any hashing, per client address and per
 * username, in the database (shared by all instances); a right password takes its count back, so
 * the limits are on wrong passwords. Counting first means a burst of parallel guesses is cut at
 * the limit instead of all passing a check made before any of them failed. Past either limit
 * every attempt is refused (429) until the window ends, right password or not.
 */
export async function checkPassword(
  ctx: ServiceContext,
  name: string,
  password: string,
  via: "npm" | "dashboard" = "npm",
): Promise<UserRow> {
  try {
    return await checkPasswordOnce(ctx, name, password);
  } catch (err) {
    // Wrong passwords, unknown users and refused attempts leave an `auth.sign_in_failed` row
    // (written on its own and summarised per address and name: see recordFailedSignIn).
    const reason =
      err instanceof PackrError && err.code === "UNAUTHORIZED"
        ? ("bad_credentials" as const)
        : err instanceof PackrError && throttled.has(err)
          ? ("rate_limited" as const)
          : undefined;
    if (reason) {
      await recordFailedSignIn(ctx, {
        name,
        reason,
        via,
        findUserId: async () => (await findUserByName(ctx, name))?.id,
      });
    }
    throw err;
  }
}

/** The refusals of the password limits (not those of a full hashing pool): audited as such. */
const throttled = new WeakSet<PackrError>();

async function checkPasswordOnce(
  ctx: ServiceContext,
  name: string,
  password: string,
): Promise<UserRow> {
  const local = ctx.deps.rateLimiter;
  const limits = new AttemptLimits(ctx.deps.db);
  const now = ctx.deps.now();
  const address = ctx.ip ?? "unknown";
  const nameKey = name.toLowerCase().slice(0, 128);
  const perAddress = RATE_LIMITS.passwordFailuresPerAddress;
  const perName = RATE_LIMITS.passwordFailuresPerName;
  // This process's own count first: when it alone is over a limit, the shared count (which holds
  // every attempt counted here) is too, and a burst is refused without a database round trip.
  const overHere = !local.hit("password.address", address, perAddress)
    ? Math.ceil(perAddress.windowMs / 1000)
    : !local.hit("password.name", nameKey, perName)
      ? Math.ceil(perName.windowMs / 1000)
      : 0;
  if (overHere) throw tooMany(overHere);
  const undoLocal = () => {
    local.undo("password.address", address);
    local.undo("password.name", nameKey);
  };
  let release: () => void;
  try {
    release = admitPasswordCheck();
  } catch (err) {
    undoLocal(); // refused for load, not a wrong password
    throw err;
  }
  try {
    const byAddress = await limits.take("password.address", address, perAddress, now);
    if (byAddress.count > perAddress.limit) throw tooMany(secondsLeft(byAddress, perAddress, now));
    // Only attempts within the address limit count against the name: one address cannot lock a
    // name out faster than its own limit lets it guess.
    const byName = await limits.take("password.name", nameKey, perName, now);
    if (byName.count > perName.limit) throw tooMany(secondsLeft(byName, perName, now));
    const giveBack = async () => {
      undoLocal();
      await limits.giveBack("password.address", address, byAddress);
      await limits.giveBack("password.name", nameKey, byName);
    };
    const user = await findUserByName(ctx, name);
    let ok: boolean;
    try {
      ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    } catch (err) {
      await giveBack(); // refused before hashing (the pool is full): not a wrong password
      throw err;
    }
    if (!user?.passwordHash || !ok) throw badCredentials();
    await giveBack();
    return user;
  } finally {
    release();
  }
}

const tooMany = (retryAfter: number) => {
  const err = new PackrError(
    "RATE_LIMITED",
    `Too many wrong passwords; wait ${retryAfter} seconds and try again.`,
    { details: { retryAfter } },
  );
  throttled.add(err);
  return err;
};

/**
 * Create an account with a password (npm adduser) and log it in, when the sign-up policy admits a
 * password sign-up: only PACKR_SIGNUP=open does (403 otherwise, saying where to sign in instead).
 * The email npm sends is kept unverified: it never links a provider's sign-in to this account.
 */
export async function signUpWithPassword(args: {
  ctx: ServiceContext;
  input: { name: string; password: string; email?: string | undefined };
}): Promise<LoginResult> {
  const { ctx, input } = args;
  assertMaySignUp(
    ctx.deps.identity.signup,
    { via: "password", email: input.email ?? null, emailTrusted: false, groups: [], claims: {} },
    ctx.deps.identity.dashboardUrl,
  );
  const user = await createUser(ctx, {
    name: input.name,
    password: input.password,
    email: input.email ?? null,
    isAdmin: false,
  });
  return issueLoginToken(ctx, user, "npm adduser", "adduser");
}

export async function createUser(
  ctx: ServiceContext,
  input: {
    name: string;
    password: string | null;
    email: string | null;
    isAdmin: boolean;
    /** The email is proven (PACKR_ADMIN_EMAIL, an invitation): sign-ins with it link here. */
    emailVerified?: boolean;
  },
): Promise<UserRow> {
  if (!USERNAME.test(input.name)) {
    throw new PackrError(
      "VALIDATION",
      "A username is 1–64 letters, digits, dots, dashes or underscores.",
    );
  }
  if (input.password !== null && input.password.length < 8) {
    throw new PackrError("VALIDATION", "A password needs at least 8 characters.");
  }
  const passwordHash = input.password === null ? null : await hashPassword(input.password);
  return ctx.deps.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(users)
      .values({
        id: newId("usr"),
        name: input.name,
        email: input.email,
        emailVerified: input.email !== null && input.emailVerified === true,
        passwordHash,
        isAdmin: input.isAdmin,
      })
      .onConflictDoNothing({ target: users.name })
      .returning();
    if (!row) throw new PackrError("CONFLICT", `The username "${input.name}" is taken.`);
    await emitAudit(tx, ctx, {
      action: "user.create",
      targetType: "user",
      targetId: row.id,
      data: { name: row.name },
    });
    return row;
  });
}

export async function findUserByName(ctx: ServiceContext, name: string): Promise<UserRow | null> {
  if (!USERNAME.test(name)) return null;
  const [row] = await ctx.deps.db.select().from(users).where(eq(users.name, name)).limit(1);
  return row ?? null;
}

async function issueLoginToken(
  ctx: ServiceContext,
  user: UserRow,
  tokenName: string,
  method: SignInMethod,
): Promise<LoginResult> {
  return ctx.deps.db.transaction((tx) => issueLoginTokenIn(tx, ctx, user, tokenName, method));
}

/**
 * A 30-day login token for a user, inside the caller's transaction (password and device logins),
 * recorded as `token.created` and `auth.sign_in` (with how they signed in).
 */
export async function issueLoginTokenIn(
  tx: Tx,
  ctx: ServiceContext,
  user: UserRow,
  tokenName: string,
  method: SignInMethod,
  via: "npm" | "packr-cli" = "npm",
): Promise<LoginResult> {
  {
    const issued = await ctx.deps.tokens.issue(tx, {
      kind: "login",
      name: tokenName,
      userId: user.id,
      role: loginRole(user),
      ttlSeconds: LOGIN_TOKEN_TTL_SECONDS,
    });
    const asUser = {
      ...ctx,
      actor: {
        type: "token" as const,
        tokenId: issued.id,
        tokenKind: "login" as const,
        tokenName,
        userId: user.id,
        userName: user.name,
        userEmail: user.email,
        isAdmin: user.isAdmin,
        role: loginRole(user),
        permissions: [],
        scopes: [],
        orgId: null,
      },
    };
    await emitAudit(tx, asUser, {
      action: "token.created",
      targetType: "token",
      targetId: issued.id,
      data: { kind: "login", name: tokenName },
    });
    await recordSignIn(tx, asUser, {
      userId: user.id,
      method,
      via,
    });
    return {
      token: issued.token,
      username: user.name,
      expiresAt: issued.expiresAt,
      tokenId: issued.id,
    };
  }
}

/**
 * The CouchDB-style user document: npm's legacy login reads it after a 409 (`GET …?write=true`),
 * and `npm owner add` reads `{name, email}` of the user it adds. The email goes to authenticated
 * callers only (every maintainer list already shows it to readers of the package); anonymous
 * callers get the name alone, so the registry is no address book for the internet.
 */
export async function getCouchUser(args: { ctx: ServiceContext; input: { name: string } }) {
  const user = await findUserByName(args.ctx, args.input.name);
  if (!user) throw new PackrError("NOT_FOUND", `There is no user "${args.input.name}".`);
  const authenticated = args.ctx.actor.type === "token";
  return {
    _id: `org.couchdb.user:${user.name}`,
    _rev: couchRev(user),
    name: user.name,
    type: "user",
    roles: [],
    ...(authenticated && user.email ? { email: user.email } : {}),
  };
}

export const couchRev = (user: UserRow): string =>
  `1-${createHash("md5").update(`${user.id}:${user.updatedAt.toISOString()}`).digest("hex")}`;

/** `GET /-/whoami`. */
export function whoami(ctx: ServiceContext): { username: string } {
  return { username: requireToken(ctx.actor, "ask who you are").userName };
}

// A real scrypt hash of a random password: unknown users cost the same time as wrong passwords.
const DUMMY_HASH =
  "scrypt$131072$8$1$AAAAAAAAAAAAAAAAAAAAAA==$kJh3i0E3dY5m6Kk1r0y3m2o0m8bqbZk0pVw2d3V1k0bHk2n8o7V0cWq1oO0wXo2m9Zr0pS3nqk1mJ3VbL0Yx0w==";
