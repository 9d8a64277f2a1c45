import { and, asc, eq, type SQL, sql } from "drizzle-orm";
import { isAdminPrincipal, requirePrincipal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { packages } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { findOrg, orgRoleOf } from "./org-access.ts";
import { parseOrgSlug } from "./org-names.ts";
import { ownedBy } from "./org-packages-sql.ts";
import type { OrgPackages } from "./org-views.ts";

const LIMIT = 10_000;

/**
 * `GET /api/v1/orgs/:slug/packages`: an org's packages, for its public page. Everyone sees the
 * public ones; its members (any role) and platform admins see the restricted ones too. Whether
 * the caller may use the registry at all (PACKR_READ_REQUIRES_AUTH) is decided before this, as
 * for every read.
 */
export async function listPublicOrgPackages(args: {
  ctx: ServiceContext;
  input: { org: string };
}): Promise<OrgPackages> {
  const { ctx } = args;
  const slug = parseOrgSlug(args.input.org);
  const org = await findOrg(ctx.deps.db, slug);
  if (!org) {
    throw new PackrError("NOT_FOUND", `There is no org @${slug} here.`, { details: { org: slug } });
  }
  const conditions: SQL[] = [ownedBy(org.name)];
  if (!(await seesRestricted(ctx, org.id))) conditions.push(eq(packages.access, "public"));
  const rows = await ctx.deps.db
    .select({
      name: packages.name,
      description: packages.description,
      access: packages.access,
      latest: sql<
        string | null
      >`(select d.version from dist_tags d where d.package_id = ${packages.id} and d.tag = 'latest')`,
      modifiedAt: packages.modifiedAt,
    })
    .from(packages)
    .where(and(...conditions))
    .orderBy(asc(packages.name))
    .limit(LIMIT);
  return { org: { name: org.name, displayName: org.displayName }, packages: rows };
}

async function seesRestricted(ctx: ServiceContext, orgId: string): Promise<boolean> {
  const actor = ctx.actor;
  if (actor.type === "system") return true;
  if (actor.type === "anonymous") return false;
  const p = requirePrincipal(actor, "list an org's packages");
  if (isAdminPrincipal(p)) return true;
  return (await orgRoleOf(ctx.deps.db, orgId, p.userId)) !== null;
}
