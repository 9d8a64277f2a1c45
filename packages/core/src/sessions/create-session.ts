import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { emitAudit } from "../audit/emit-audit.ts";
import { recordSignIn } from "../audit/sign-in-events.ts";
import type { ServiceContext, Tx } from "../context.ts";
import { oauthAccounts, sessions, users } from "../db/schema/index.ts";
import { describeIssues, PackrError } from "../errors.ts";
import { newId } from "../ids.ts";
import { checkPassword } from "../users/login.ts";
import { assertMaySignUp, isLinkTrusted, SIGN_IN_PROVIDERS } from "../users/signup-policy.ts";

export { SIGN_IN_PROVIDERS };

export const SESSION_TTL_SECONDS = 30 * 24 * 3600;

export const CreateSessionInput = z.object({
  provider: z.enum(SIGN_IN_PROVIDERS),
  subject: z.string().min(1).max(255),
  email: z.string().email().max(320).nullable(),
  emailVerified: z.boolean(),
  name: z.string().max(200).nullable(),
  username: z.string().max(64).optional(),
  userAgent: z.string().max(500).optional(),
  /**
   * Memberships the provider asserted, for PACKR_SIGNUP_GITHUB_ORGS / PACKR_SIGNUP_GITLAB_GROUPS:
   * GitHub organization logins (github) or GitLab group full paths (gitlab).
   */
  groups: z.array(z.string().min(1).max(255)).max(1000).optional(),
  /** The generic OIDC provider's claims (ID token and userinfo), for PACKR_SIGNUP_OIDC_CLAIMS. */
  claims: z.record(z.string().max(255), z.unknown()).optional(),
});
export type CreateSessionInput = z.input<typeof CreateSessionInput>;

export type SessionUser = { id: string; name: string; email: string | null; isAdmin: boolean };

/**
 * Sign a person in after the dashboard has verified them with a provider (identity contract):
 * the account linked to `(provider, subject)`; else the account whose *verified* email is this
 * one, but only when the provider verified the address and is trusted for linking
 * (PACKR_LINK_TRUSTED_PROVIDERS; this is also how an invitation is claimed); else a new user, if
 * the sign-up policy admits the person (403 otherwise), named from `username` or the email's
 * local part and made unique. Returns the signed `packr_session` value. Only internal callers (the
 * dashboard server, authenticated with INTERNAL_API_SECRET) reach this: `system` actors.
 */
export async function createSession(args: {
  ctx: ServiceContext;
  input: CreateSessionInput;
}): Promise<{ session: string; expiresAt: Date; user: SessionUser; createdUser: boolean }> {
  const { ctx } = args;
  if (ctx.actor.type !== "system") {
    throw new PackrError("FORBIDDEN", "Sessions are created by the dashboard server only.");
  }
  const parsed = CreateSessionInput.safeParse(args.input);
  if (!parsed.success) {
    throw new PackrError("VALIDATION", `Invalid sign-in: ${describeIssues(parsed.error)}`);
  }
  const input = parsed.data;
  return ctx.deps.db.transaction(async (tx) => {
    const { user, created } = await findOrLinkUser(tx, ctx, input);
    const opened = await openSession(tx, ctx, user, input.provider, input.userAgent);
    return { ...opened, createdUser: created };
  });
}

export const PasswordSignInInput = z.object({
  name: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
  /** The person's address as the dashboard saw it: wrong passwords are limited per address. */
  ip: z.string().max(64).optional(),
  userAgent: z.string().max(500).optional(),
});
export type PasswordSignInInput = z.input<typeof PasswordSignInInput>;

/**
 * The dashboard's password sign-in for local accounts (the first-start `admin`, npm adduser
 * accounts): the same password check and limits as npm login, then a session like any other
 * sign-in. Internal callers only, like createSession: the dashboard passes the browser's address.
 */
export async function createPasswordSession(args: {
  ctx: ServiceContext;
  input: PasswordSignInInput;
}): Promise<{ session: string; expiresAt: Date; user: SessionUser }> {
  const { ctx } = args;
  if (ctx.actor.type !== "system") {
    throw new PackrError("FORBIDDEN", "Sessions are created by the dashboard server only.");
  }
  const parsed = PasswordSignInInput.safeParse(args.input);
  if (!parsed.success) {
    throw new PackrError("VALIDATION", `Invalid sign-in: ${describeIssues(parsed.error)}`);
  }
  const input = parsed.data;
  const asPerson = { ...ctx, ip: input.ip ?? ctx.ip };
  const user = await checkPassword(asPerson, input.name, input.password, "dashboard");
  return ctx.deps.db.transaction((tx) =>
    openSession(tx, asPerson, user, "password", input.userAgent),
  );
}

async function openSession(
  tx: Tx,
  ctx: ServiceContext,
  user: UserRow,
  provider: string,
  userAgent: string | undefined,
): Promise<{ session: string; expiresAt: Date; user: SessionUser }> {
  const id = newId("ses");
  const now = ctx.deps.now();
  const expiresAt = new Date(now.getTime() + SESSION_TTL_SECONDS * 1000);
  await tx.insert(sessions).values({
    id,
    userId: user.id,
    userAgent: userAgent ?? null,
    ip: ctx.ip ?? null,
    createdAt: now,
    expiresAt,
  });
  const asPerson: ServiceContext = {
    ...ctx,
    actor: {
      type: "session",
      sessionId: id,
      userId: user.id,
      userName: user.name,
      userEmail: user.email,
      isAdmin: user.isAdmin,
    },
  };
  await emitAudit(tx, asPerson, {
    action: "session.created",
    targetType: "session",
    targetId: id,
    data: { provider },
  });
  await recordSignIn(tx, asPerson, { userId: user.id, method: provider, via: "dashboard" });
  return {
    session: ctx.deps.sessions.sign(id),
    expiresAt,
    user: { id: user.id, name: user.name, email: user.email, isAdmin: user.isAdmin },
  };
}

type UserRow = typeof users.$inferSelect;

async function findOrLinkUser(
  tx: Tx,
  ctx: ServiceContext,
  input: z.infer<typeof CreateSessionInput>,
): Promise<{ user: UserRow; created: boolean }> {
  const [linked] = await tx
    .select({ user: users })
    .from(oauthAccounts)
    .innerJoin(users, eq(users.id, oauthAccounts.userId))
    .where(
      and(
        eq(oauthAccounts.provider, input.provider),
        eq(oauthAccounts.providerAccountId, input.subject),
      ),
    )
    .limit(1);
  if (linked) return { user: linked.user, created: false };

  const policy = ctx.deps.identity.signup;
  // An address the provider verified, from a provider that really verifies: only it may reach
  // an existing account, and only an account whose own address was proven the same way.
  const trustedEmail =
    input.email && input.emailVerified && isLinkTrusted(policy, input.provider)
      ? input.email
      : null;
  let user: UserRow | undefined;
  let created = false;
  if (trustedEmail) {
    [user] = await tx
      .select()
      .from(users)
      .where(
        and(
          sql`lower(${users.email}) = ${trustedEmail.toLowerCase()}`,
          eq(users.emailVerified, true),
        ),
      )
      .orderBy(users.createdAt)
      .limit(1);
  }
  if (!user) {
    const admitted = assertMaySignUp(
      policy,
      {
        via: input.provider,
        email: input.email,
        emailTrusted: trustedEmail !== null,
        groups: input.groups ?? [],
        claims: input.claims ?? {},
      },
      ctx.deps.identity.dashboardUrl,
    );
    user = await insertUniqueUser(tx, input, trustedEmail !== null);
    created = true;
    await emitAudit(tx, ctx, {
      action: "user.create",
      targetType: "user",
      targetId: user.id,
      data: { name: user.name, provider: input.provider, admittedBy: admitted.admittedBy },
    });
  }
  const inserted = await tx
    .insert(oauthAccounts)
    .values({
      id: newId("oac"),
      userId: user.id,
      provider: input.provider,
      providerAccountId: input.subject,
      email: input.email,
    })
    .onConflictDoNothing()
    .returning({ id: oauthAccounts.id });
  if (inserted.length === 0) {
    // A concurrent first sign-in of the same account linked it meanwhile.
    throw new PackrError("CONFLICT", "This account was just linked by another sign-in; try again.");
  }
  if (!created) {
    await emitAudit(tx, ctx, {
      action: "user.link",
      targetType: "user",
      targetId: user.id,
      data: { provider: input.provider, by: "verified email" },
    });
  }
  return { user, created };
}

async function insertUniqueUser(
  tx: Tx,
  input: z.infer<typeof CreateSessionInput>,
  emailTrusted: boolean,
) {
  const base = usernameBase(input);
  for (let i = 1; i <= 50; i++) {
    const name = i === 1 ? base : `${base.slice(0, 58)}-${i}`;
    const [row] = await tx
      .insert(users)
      .values({
        id: newId("usr"),
        name,
        // A weaker provider's verified address is kept to show, never to link with.
        email: input.email && input.emailVerified ? input.email : null,
        emailVerified: emailTrusted,
        passwordHash: null,
        isAdmin: false,
      })
      .onConflictDoNothing({ target: users.name })
      .returning();
    if (row) return row;
  }
  throw new PackrError("CONFLICT", `Could not find a free username like "${base}".`);
}

/** A username in the shape npm accepts: lower-case letters, digits, `.`, `_`, `-`. */
function usernameBase(input: z.infer<typeof CreateSessionInput>): string {
  const candidates = [
    input.username,
    input.email?.split("@")[0],
    input.name,
    `${input.provider}-user`,
  ];
  for (const c of candidates) {
    const cleaned = (c ?? "")
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^[^a-z0-9]+/, "")
      .slice(0, 60)
      .replace(/[^a-z0-9]+$/, "");
    if (cleaned.length > 0) return cleaned;
  }
  return "user";
}
