import { and, asc, eq, sql } from "drizzle-orm";
import { announceAccessChange, forgetAccess } from "../auth/user-access.ts";
import type { ServiceContext } from "../context.ts";
import type { Queryable } from "../db/client.ts";
import { teamMembers, teams } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { newId } from "../ids.ts";
import type { OrgRow } from "./insert-org.ts";
import { lockOrg } from "./lock-org.ts";
import { manageOrg, viewOrg } from "./org-access.ts";
import { parseTeamDescription, parseTeamName } from "./org-names.ts";
import type { TeamSummary } from "./org-views.ts";
import { recordOrgChange } from "./record-org-change.ts";

export type TeamRow = typeof teams.$inferSelect;

/** The team of this name in the org, or a 404 naming it as npm writes teams (`acme:frontend`). */
export async function requireTeam(db: Queryable, org: OrgRow, rawName: string): Promise<TeamRow> {
  const name = parseTeamName(rawName, org.name);
  const [team] = await db
    .select()
    .from(teams)
    .where(and(eq(teams.orgId, org.id), eq(teams.name, name)))
    .limit(1);
  if (!team) {
    throw new PackrError("NOT_FOUND", `There is no team ${org.name}:${name}.`, {
      details: { org: org.name, team: name },
    });
  }
  return team;
}

/** The org's teams with their sizes; any member (or a platform admin) may list them. */
export async function listTeams(args: {
  ctx: ServiceContext;
  input: { org: string };
}): Promise<TeamSummary[]> {
  const { ctx } = args;
  const { org } = await viewOrg(ctx, args.input.org, "list an org's teams");
  const rows = await ctx.deps.db
    .select({
      name: teams.name,
      description: teams.description,
      createdAt: teams.createdAt,
      memberCount: sql<number>`(select count(*) from team_members tm where tm.team_id = ${teams.id})::int`,
      packageCount: sql<number>`(select count(*) from team_packages tp where tp.team_id = ${teams.id})::int`,
    })
    .from(teams)
    .where(eq(teams.orgId, org.id))
    .orderBy(asc(teams.name));
  return rows.map((r) => ({
    ...r,
    memberCount: Number(r.memberCount),
    packageCount: Number(r.packageCount),
  }));
}

/** Create a team in an org (npm team create acme:frontend). 409 when it exists. Org admins only. */
export async function createTeam(args: {
  ctx: ServiceContext;
  input: { org: string; team: string; description?: string | null | undefined };
}): Promise<TeamSummary> {
  const { ctx, input } = args;
  const managed = await manageOrg(ctx, input.org, "create teams");
  const { org } = managed;
  const name = parseTeamName(input.team, org.name);
  const description = parseTeamDescription(input.description);
  const now = ctx.deps.now();
  return ctx.deps.db.transaction(async (tx) => {
    await lockOrg(tx, managed);
    const [team] = await tx
      .insert(teams)
      .values({
        id: newId("team"),
        orgId: org.id,
        name,
        description,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing()
      .returning();
    if (!team) {
      throw new PackrError("CONFLICT", `The team ${org.name}:${name} already exists.`, {
        details: { org: org.name, team: name },
      });
    }
    const data = { org: org.name, team: name };
    await recordOrgChange(
      tx,
      ctx,
      { type: "team.created", orgId: org.id, target: { type: "team", id: team.id }, data },
      now,
    );
    return {
      name: team.name,
      description: team.description,
      memberCount: 0,
      packageCount: 0,
      createdAt: team.createdAt,
    };
  });
}

/** Delete a team with its memberships and grants; its members lose those grants at once. Org admins only. */
export async function deleteTeam(args: {
  ctx: ServiceContext;
  input: { org: string; team: string };
}): Promise<{ ok: true }> {
  const { ctx, input } = args;
  const managed = await manageOrg(ctx, input.org, "delete teams");
  const { org } = managed;
  const now = ctx.deps.now();
  const memberIds = await ctx.deps.db.transaction(async (tx) => {
    await lockOrg(tx, managed);
    const team = await requireTeam(tx, org, input.team);
    const members = await tx
      .select({ userId: teamMembers.userId })
      .from(teamMembers)
      .where(eq(teamMembers.teamId, team.id));
    const data = { org: org.name, team: team.name };
    await recordOrgChange(
      tx,
      ctx,
      { type: "team.deleted", orgId: org.id, target: { type: "team", id: team.id }, data },
      now,
    );
    await tx.delete(teams).where(eq(teams.id, team.id));
    const ids = members.map((m) => m.userId);
    await announceAccessChange(tx, ids);
    return ids;
  });
  forgetAccess(ctx, memberIds);
  return { ok: true };
}
