import { and, ne, sql } from "drizzle-orm";
import { isAdminPrincipal } from "../auth/principal.ts";
import { forgetAccess } from "../auth/user-access.ts";
import { assertPlanAllowsScope } from "../billing/limits.ts";
import type { ServiceContext } from "../context.ts";
import { packages, users } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { insertOrg } from "./insert-org.ts";
import { findOrg, requireOrgManager } from "./org-access.ts";
import { parseDisplayName, parseOrgSlug } from "./org-names.ts";
import type { OrgSummary } from "./org-views.ts";

/**
 * Create an org; the caller becomes its first admin. Any person may create one whose slug is free
 * (no org of that name in any letter case, no other user of that name: a user's name is their
 * own scope) and whose scope holds no package maintained by someone else. A platform admin may
 * claim any free slug; packages already in the scope then belong to the org (insertOrg).
 */
export async function createOrg(args: {
  ctx: ServiceContext;
  input: { name: string; displayName?: string | null | undefined };
}): Promise<OrgSummary> {
  const { ctx } = args;
  const slug = parseOrgSlug(args.input.name);
  const p = requireOrgManager(ctx, `create the org @${slug}`, slug);
  const displayName = parseDisplayName(args.input.displayName);
  const platformAdmin = isAdminPrincipal(p);
  const org = await ctx.deps.db.transaction(async (tx) => {
    // A taken name is the first thing to say (insertOrg's conflict still settles a race).
    if (await findOrg(tx, slug)) {
      throw new PackrError("CONFLICT", `The org @${slug} already exists.`, {
        details: { org: slug },
      });
    }
    const [user] = await tx
      .select({ name: users.name })
      .from(users)
      .where(and(sql`lower(${users.name}) = ${slug}`, ne(users.id, p.userId)))
      .limit(1);
    if (user) {
      throw new PackrError(
        "CONFLICT",
        `@${slug} is the scope of the user ${user.name}; choose another org name.`,
        { details: { org: slug } },
      );
    }
    if (!platformAdmin) {
      // A package of the scope that the caller does not maintain alone belongs to someone else.
      const [foreign] = await tx
        .select({ name: packages.name })
        .from(packages)
        .where(
          and(
            sql`lower(${packages.scope}) = ${slug}`,
            sql`exists (select 1 from package_maintainers m where m.package_id = ${packages.id} and m.user_id <> ${p.userId})`,
          ),
        )
        .limit(1);
      if (foreign) {
        throw new PackrError(
          "FORBIDDEN",
          `@${slug} already holds ${foreign.name}, which other people maintain; only a platform admin may make an org of that scope.`,
          { details: { org: slug } },
        );
      }
    }
    // Billing on: an org is a scope, counted against its creator's personal plan.
    if (!platformAdmin) await assertPlanAllowsScope(tx, ctx.deps, p.userId, slug);
    return insertOrg(tx, ctx, { name: slug, displayName, adminUserId: p.userId });
  });
  forgetAccess(ctx, [p.userId]);
  return {
    id: org.id,
    name: org.name,
    displayName: org.displayName,
    createdAt: org.createdAt,
    role: "admin",
  };
}
