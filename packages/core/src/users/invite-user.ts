import { sql } from "drizzle-orm";
import { z } from "zod";
import { emitAudit } from "../audit/emit-audit.ts";
import { requireAdminPrincipal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { users } from "../db/schema/index.ts";
import { describeIssues, PackrError } from "../errors.ts";
import { newId } from "../ids.ts";

export const InviteUserInput = z.object({
  name: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9._-]{0,63}$/i,
      "a username is 1–64 letters, digits, dots, dashes or underscores, starting with a letter or digit",
    ),
  email: z.string().trim().toLowerCase().pipe(z.email().max(320)),
});
export type InviteUserInput = z.input<typeof InviteUserInput>;

export type InvitedUser = {
  id: string;
  name: string;
  email: string;
  isAdmin: boolean;
  /** Where the person claims the account: signing in there with this email. */
  signInUrl: string;
};

/**
 * An invitation, for a registry whose sign-up is closed or limited to an allow-list: a platform
 * admin creates the account ahead, with a name and an email address the admin vouches for (so it
 * counts as verified). The person claims it by signing in with that email through a provider
 * trusted for linking (GitHub, Google, a magic link by default); the sign-up policy is not asked,
 * because the account exists. The account has no password and no tokens until then.
 *
 * Admins only, acting as one (a session, or a token holding the admin permission); never a CI
 * token. Names are unique (409); so are verified emails, since a sign-in could link only one.
 */
export async function inviteUser(args: {
  ctx: ServiceContext;
  input: InviteUserInput;
}): Promise<InvitedUser> {
  const { ctx } = args;
  const who = requireAdminPrincipal(ctx.actor, "invite people");
  if (who.tokenKind === "ci") {
    throw new PackrError("FORBIDDEN", "A CI token cannot invite people; use an admin's session.");
  }
  const parsed = InviteUserInput.safeParse(args.input);
  if (!parsed.success) {
    throw new PackrError("VALIDATION", `Invalid invitation: ${describeIssues(parsed.error)}`);
  }
  const input = parsed.data;
  return ctx.deps.db.transaction(async (tx) => {
    // Two invitations of one address at once would both pass the check below without this.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`invite:${input.email}`}))`);
    const [holder] = await tx
      .select({ name: users.name })
      .from(users)
      .where(sql`lower(${users.email}) = ${input.email} and ${users.emailVerified}`)
      .limit(1);
    if (holder) {
      throw new PackrError(
        "CONFLICT",
        `${input.email} already belongs to the account "${holder.name}"; that person signs in with it.`,
      );
    }
    const [row] = await tx
      .insert(users)
      .values({
        id: newId("usr"),
        name: input.name,
        email: input.email,
        emailVerified: true,
        passwordHash: null,
        isAdmin: false,
      })
      .onConflictDoNothing({ target: users.name })
      .returning();
    if (!row) throw new PackrError("CONFLICT", `The username "${input.name}" is taken.`);
    await emitAudit(tx, ctx, {
      action: "user.invite",
      targetType: "user",
      targetId: row.id,
      data: { name: row.name, email: input.email },
    });
    return {
      id: row.id,
      name: row.name,
      email: input.email,
      isAdmin: row.isAdmin,
      signInUrl: `${ctx.deps.identity.dashboardUrl}/login`,
    };
  });
}
