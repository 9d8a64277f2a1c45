import { and, asc, eq } from "drizzle-orm";
import { announceAccessChange, forgetAccess } from "../auth/user-access.ts";
import type { ServiceContext } from "../context.ts";
import { teamMembers, users } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { requireUser } from "./find-user.ts";
import { lockOrg } from "./lock-org.ts";
import { manageOrg, orgRoleOf, viewOrg } from "./org-access.ts";
import type { TeamMember } from "./org-views.ts";
import { recordOrgChange } from "./record-org-change.ts";
import { requireTeam } from "./teams.ts";

/** A team's members; any member of the org (or a platform admin) may list them. */
export async function listTeamMembers(args: {
  ctx: ServiceContext;
  input: { org: string; team: string };
}): Promise<TeamMember[]> {
  const { ctx, input } = args;
  const { org } = await viewOrg(ctx, input.org, "list a team's members");
  const team = await requireTeam(ctx.deps.db, org, input.team);
  return ctx.deps.db
    .select({ user: users.name, addedAt: teamMembers.createdAt })
    .from(teamMembers)
    .innerJoin(users, eq(users.id, teamMembers.userId))
    .where(eq(teamMembers.teamId, team.id))
    .orderBy(asc(users.name));
}

/**
 * Add a member of the org to one of its teams (npm team add). Only org members may join a team:
 * a 409 says to add them to the org first. 409 too when they already are in the team. Org admins only.
 */
export async function addTeamMember(args: {
  ctx: ServiceContext;
  input: { org: string; team: string; user: string };
}): Promise<TeamMember> {
  const { ctx, input } = args;
  const managed = await manageOrg(ctx, input.org, "add team members");
  const { org } = managed;
  const user = await requireUser(ctx.deps.db, input.user);
  const now = ctx.deps.now();
  const member = await ctx.deps.db.transaction(async (tx) => {
    await lockOrg(tx, managed);
    const team = await requireTeam(tx, org, input.team);
    if ((await orgRoleOf(tx, org.id, user.id)) === null) {
      throw new PackrError(
        "CONFLICT",
        `${user.name} is not a member of @${org.name}; add them to the org first, then to ${org.name}:${team.name}.`,
        { details: { org: org.name, team: team.name, user: user.name } },
      );
    }
    const [row] = await tx
      .insert(teamMembers)
      .values({ teamId: team.id, userId: user.id, createdAt: now })
      .onConflictDoNothing()
      .returning();
    if (!row) {
      throw new PackrError(
        "CONFLICT",
        `${user.name} is already in the team ${org.name}:${team.name}.`,
        { details: { org: org.name, team: team.name, user: user.name } },
      );
    }
    const data = { org: org.name, team: team.name, user: user.name };
    await recordOrgChange(
      tx,
      ctx,
      { type: "team.member.added", orgId: org.id, target: { type: "team", id: team.id }, data },
      now,
    );
    await announceAccessChange(tx, [user.id]);
    return { user: user.name, addedAt: row.createdAt };
  });
  forgetAccess(ctx, [user.id]);
  return member;
}

/** Take a user out of a team (npm team rm); they stay a member of the org. Org admins only. */
export async function removeTeamMember(args: {
  ctx: ServiceContext;
  input: { org: string; team: string; user: string };
}): Promise<{ ok: true }> {
  const { ctx, input } = args;
  const managed = await manageOrg(ctx, input.org, "remove team members");
  const { org } = managed;
  const user = await requireUser(ctx.deps.db, input.user);
  const now = ctx.deps.now();
  await ctx.deps.db.transaction(async (tx) => {
    await lockOrg(tx, managed);
    const team = await requireTeam(tx, org, input.team);
    const removed = await tx
      .delete(teamMembers)
      .where(and(eq(teamMembers.teamId, team.id), eq(teamMembers.userId, user.id)))
      .returning({ userId: teamMembers.userId });
    if (removed.length === 0) {
      throw new PackrError(
        "NOT_FOUND",
        `${user.name} is not in the team ${org.name}:${team.name}.`,
        { details: { org: org.name, team: team.name, user: user.name } },
      );
    }
    const data = { org: org.name, team: team.name, user: user.name };
    await recordOrgChange(
      tx,
      ctx,
      { type: "team.member.removed", orgId: org.id, target: { type: "team", id: team.id }, data },
      now,
    );
    await announceAccessChange(tx, [user.id]);
  });
  forgetAccess(ctx, [user.id]);
  return { ok: true };
}
