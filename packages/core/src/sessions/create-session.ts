import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { emitAudit } from "../audit/emit-audit.ts";
import type { ServiceContext, Tx } from "../context.ts";
import { oauthAccounts, sessions, users } from "../db/schema/index.ts";
import { describeIssues, PackrError } from "../errors.ts";
import { newId } from "../ids.ts";

export const SESSION_TTL_SECONDS = 30 * 24 * 3600;

export const SIGN_IN_PROVIDERS = [
  "github",
  "google",
  "gitlab",
  "oidc",
  "forge-auth",
  "email",
] as const;

export const CreateSessionInput = z.object({
  provider: z.enum(SIGN_IN_PROVIDERS),
  subject: z.string().min(1).max(255),
  email: z.string().email().max(320).nullable(),
  emailVerified: z.boolean(),
  name: z.string().max(200).nullable(),
  username: z.string().max(64).optional(),
  userAgent: z.string().max(500).optional(),
});
export type CreateSessionInput = z.input<typeof CreateSessionInput>;

export type SessionUser = { id: string; name: string; email: string | null; isAdmin: boolean };

/**
 * Sign a person in after the dashboard has verified them with a provider (identity contract):
 * the account linked to `(provider, subject)`; else the user with the same email, but only when
 * the provider verified that address; else a new user, named from `username` or the email's local
 * part and made unique. Returns the signed `packr_session` value. Only internal callers (the
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
    const id = newId("ses");
    const now = ctx.deps.now();
    const expiresAt = new Date(now.getTime() + SESSION_TTL_SECONDS * 1000);
    await tx.insert(sessions).values({
      id,
      userId: user.id,
      userAgent: input.userAgent ?? null,
      ip: ctx.ip ?? null,
      createdAt: now,
      expiresAt,
    });
    await emitAudit(
      tx,
      {
        ...ctx,
        actor: {
          type: "session",
          sessionId: id,
          userId: user.id,
          userName: user.name,
          userEmail: user.email,
          isAdmin: user.isAdmin,
        },
      },
      {
        action: "session.created",
        targetType: "session",
        targetId: id,
        data: { provider: input.provider },
      },
    );
    return {
      session: ctx.deps.sessions.sign(id),
      expiresAt,
      user: { id: user.id, name: user.name, email: user.email, isAdmin: user.isAdmin },
      createdUser: created,
    };
  });
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

  let user: UserRow | undefined;
  let created = false;
  if (input.email && input.emailVerified) {
    [user] = await tx
      .select()
      .from(users)
      .where(sql`lower(${users.email}) = ${input.email.toLowerCase()}`)
      .orderBy(users.createdAt)
      .limit(1);
  }
  if (!user) {
    user = await insertUniqueUser(tx, input);
    created = true;
    await emitAudit(tx, ctx, {
      action: "user.create",
      targetType: "user",
      targetId: user.id,
      data: { name: user.name, provider: input.provider },
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
  return { user, created };
}

async function insertUniqueUser(tx: Tx, input: z.infer<typeof CreateSessionInput>) {
  const base = usernameBase(input);
  for (let i = 1; i <= 50; i++) {
    const name = i === 1 ? base : `${base.slice(0, 58)}-${i}`;
    const [row] = await tx
      .insert(users)
      .values({
        id: newId("usr"),
        name,
        email: input.email && input.emailVerified ? input.email : null,
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
