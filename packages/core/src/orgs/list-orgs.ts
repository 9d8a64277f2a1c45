import { asc, eq, sql } from "drizzle-orm";
import { isAdminPrincipal, requirePrincipal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import { orgMembers, orgs } from "../db/schema/index.ts";
import { viewOrg } from "./org-access.ts";
import { ownedPackages } from "./org-packages-sql.ts";
import type { OrgDetail, OrgSummary } from "./org-views.ts";

const LIMIT = 10_000;

/** The orgs the caller is a member of, with their role in each. */
export async function listMyOrgs(args: {
  ctx: ServiceContext;
  input?: Record<string, never>;
}): Promise<OrgSummary[]> {
  const p = requirePrincipal(args.ctx.actor, "list your orgs");
  return args.ctx.deps.db
    .select({
      id: orgs.id,
      name: orgs.name,
      displayName: orgs.displayName,
      createdAt: orgs.createdAt,
      role: orgMembers.role,
    })
    .from(orgMembers)
    .innerJoin(orgs, eq(orgs.id, orgMembers.orgId))
    .where(eq(orgMembers.userId, p.userId))
    .orderBy(asc(orgs.name))
    .limit(LIMIT);
}

/** Every org for a platform admin (with their role where they are a member); the caller's own for anyone else. */
export async function listOrgs(args: {
  ctx: ServiceContext;
  input?: Record<string, never>;
}): Promise<OrgSummary[]> {
  const p = requirePrincipal(args.ctx.actor, "list orgs");
  if (!isAdminPrincipal(p)) return listMyOrgs(args);
  return args.ctx.deps.db
    .select({
      id: orgs.id,
      name: orgs.name,
      displayName: orgs.displayName,
      createdAt: orgs.createdAt,
      role: sql<
        OrgSummary["role"]
      >`(select m.role from org_members m where m.org_id = ${orgs.id} and m.user_id = ${p.userId})`,
    })
    .from(orgs)
    .orderBy(asc(orgs.name))
    .limit(LIMIT);
}

/** One org with its counts, for its members and platform admins (404 for anyone else). */
export async function getOrg(args: {
  ctx: ServiceContext;
  input: { org: string };
}): Promise<OrgDetail> {
  const { ctx } = args;
  const { org, role } = await viewOrg(ctx, args.input.org, "view an org");
  const [counts] = await ctx.deps.db
    .select({
      memberCount: sql<number>`(select count(*) from org_members m where m.org_id = ${org.id})::int`,
      teamCount: sql<number>`(select count(*) from teams t where t.org_id = ${org.id})::int`,
    })
    .from(orgs)
    .where(eq(orgs.id, org.id));
  return {
    id: org.id,
    name: org.name,
    displayName: org.displayName,
    createdAt: org.createdAt,
    role,
    memberCount: Number(counts?.memberCount ?? 0),
    teamCount: Number(counts?.teamCount ?? 0),
    packageCount: (await ownedPackages(ctx.deps.db, org.name)).count,
  };
}
