import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { announceAccessChange, forgetAccess } from "../auth/user-access.ts";
import type { ServiceContext, Tx } from "../context.ts";
import { type OrgRole, orgMembers, teamMembers, teams, users } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { requireUser } from "./find-user.ts";
import type { OrgRow } from "./insert-org.ts";
import { lockOrg } from "./lock-org.ts";
import { manageOrg, viewOrg } from "./org-access.ts";
import { parseOrgRole } from "./org-names.ts";
import type { OrgMember } from "./org-views.ts";
import { recordOrgChange } from "./record-org-change.ts";

/** The members of an org and their roles; any member (or a platform admin) may list them. */
export async function listOrgMembers(args: {
  ctx: ServiceContext;
  input: { org: string };
}): Promise<OrgMember[]> {
  const { ctx } = args;
  const { org } = await viewOrg(ctx, args.input.org, "list an org's members");
  return ctx.deps.db
    .select({ user: users.name, role: orgMembers.role, addedAt: orgMembers.createdAt })
    .from(orgMembers)
    .innerJoin(users, eq(users.id, orgMembers.userId))
    .where(eq(orgMembers.orgId, org.id))
    .orderBy(asc(users.name));
}

/** Add an existing user to an org with a role. 409 when they already are a member. Org admins only. */
export async function addOrgMember(args: {
  ctx: ServiceContext;
  input: { org: string; user: string; role: string };
}): Promise<OrgMember> {
  const { ctx, input } = args;
  const managed = await manageOrg(ctx, input.org, "add members");
  const { org } = managed;
  const role = parseOrgRole(input.role);
  const user = await requireUser(ctx.deps.db, input.user);
  const now = ctx.deps.now();
  const member = await ctx.deps.db.transaction(async (tx) => {
    await lockOrg(tx, managed);
    const [row] = await tx
      .insert(orgMembers)
      .values({ orgId: org.id, userId: user.id, role, createdAt: now, updatedAt: now })
      .onConflictDoNothing()
      .returning();
    if (!row) {
      const current = await memberRole(tx, org, user);
      throw new PackrError(
        "CONFLICT",
        `${user.name} is already a member of @${org.name} (as ${current}); change their role instead.`,
        { details: { org: org.name, user: user.name, role: current } },
      );
    }
    const data = { org: org.name, user: user.name, role };
    await recordOrgChange(
      tx,
      ctx,
      { type: "org.member.added", orgId: org.id, target: { type: "user", id: user.id }, data },
      now,
    );
    await announceAccessChange(tx, [user.id]);
    return { user: user.name, role: row.role, addedAt: row.createdAt };
  });
  forgetAccess(ctx, [user.id]);
  return member;
}

/**
 * Change a member's role. Demoting the org's last admin is a 409: an org always has someone who
 * can manage it. Setting the role a member already has changes nothing. Org admins only.
 */
export async function setOrgMemberRole(args: {
  ctx: ServiceContext;
  input: { org: string; user: string; role: string };
}): Promise<OrgMember> {
  const { ctx, input } = args;
  const managed = await manageOrg(ctx, input.org, "change members' roles");
  const { org } = managed;
  const role = parseOrgRole(input.role);
  const user = await requireUser(ctx.deps.db, input.user);
  const now = ctx.deps.now();
  const result = await ctx.deps.db.transaction(async (tx) => {
    await lockOrg(tx, managed);
    const current = await requireMember(tx, org, user);
    if (current.role === role) {
      return { member: { user: user.name, role, addedAt: current.createdAt }, changed: false };
    }
    if (current.role === "admin") await assertNotLastAdmin(tx, org, user.name, "demote");
    await tx
      .update(orgMembers)
      .set({ role, updatedAt: now })
      .where(and(eq(orgMembers.orgId, org.id), eq(orgMembers.userId, user.id)));
    const data = { org: org.name, user: user.name, from: current.role, to: role };
    await recordOrgChange(
      tx,
      ctx,
      {
        type: "org.member.role_changed",
        orgId: org.id,
        target: { type: "user", id: user.id },
        data,
      },
      now,
    );
    await announceAccessChange(tx, [user.id]);
    return { member: { user: user.name, role, addedAt: current.createdAt }, changed: true };
  });
  if (result.changed) forgetAccess(ctx, [user.id]);
  return result.member;
}

/**
 * Remove a member from an org and from all its teams; their tokens lose the org's packages at once
 * (on every instance within seconds). Removing the last admin is a 409. Org admins only.
 */
export async function removeOrgMember(args: {
  ctx: ServiceContext;
  input: { org: string; user: string };
}): Promise<{ ok: true }> {
  const { ctx, input } = args;
  const managed = await manageOrg(ctx, input.org, "remove members");
  const { org } = managed;
  const user = await requireUser(ctx.deps.db, input.user);
  const now = ctx.deps.now();
  await ctx.deps.db.transaction(async (tx) => {
    await lockOrg(tx, managed);
    const current = await requireMember(tx, org, user);
    if (current.role === "admin") await assertNotLastAdmin(tx, org, user.name, "remove");
    // Team members are org members: leaving the org leaves its teams.
    const left = await tx
      .select({ id: teams.id, name: teams.name })
      .from(teamMembers)
      .innerJoin(teams, eq(teams.id, teamMembers.teamId))
      .where(and(eq(teams.orgId, org.id), eq(teamMembers.userId, user.id)))
      .orderBy(asc(teams.name));
    if (left.length > 0) {
      await tx.delete(teamMembers).where(
        and(
          eq(teamMembers.userId, user.id),
          inArray(
            teamMembers.teamId,
            left.map((t) => t.id),
          ),
        ),
      );
    }
    const teamNames = left.map((t) => t.name);
    await tx
      .delete(orgMembers)
      .where(and(eq(orgMembers.orgId, org.id), eq(orgMembers.userId, user.id)));
    const data = { org: org.name, user: user.name, role: current.role, teams: teamNames };
    await recordOrgChange(
      tx,
      ctx,
      { type: "org.member.removed", orgId: org.id, target: { type: "user", id: user.id }, data },
      now,
    );
    await announceAccessChange(tx, [user.id]);
  });
  forgetAccess(ctx, [user.id]);
  return { ok: true };
}

async function memberRole(tx: Tx, org: OrgRow, user: { id: string }): Promise<OrgRole | null> {
  const [row] = await tx
    .select({ role: orgMembers.role })
    .from(orgMembers)
    .where(and(eq(orgMembers.orgId, org.id), eq(orgMembers.userId, user.id)));
  return row?.role ?? null;
}

/** The member's row, or a 404 naming them (the user exists: `requireUser` ran first). */
export async function requireMember(
  tx: Tx,
  org: OrgRow,
  user: { id: string; name: string },
): Promise<{ role: OrgRole; createdAt: Date }> {
  const [row] = await tx
    .select({ role: orgMembers.role, createdAt: orgMembers.createdAt })
    .from(orgMembers)
    .where(and(eq(orgMembers.orgId, org.id), eq(orgMembers.userId, user.id)));
  if (!row) {
    throw new PackrError("NOT_FOUND", `${user.name} is not a member of @${org.name}.`, {
      details: { org: org.name, user: user.name },
    });
  }
  return row;
}

/** Call with the org locked (lockOrg), so the count cannot change before commit. */
async function assertNotLastAdmin(
  tx: Tx,
  org: OrgRow,
  userName: string,
  verb: "demote" | "remove",
): Promise<void> {
  const [row] = await tx
    .select({ admins: sql<number>`count(*)::int` })
    .from(orgMembers)
    .where(and(eq(orgMembers.orgId, org.id), eq(orgMembers.role, "admin")));
  if (Number(row?.admins ?? 0) <= 1) {
    throw new PackrError(
      "CONFLICT",
      `${userName} is the last admin of @${org.name}; an org cannot be left without an admin, so you cannot ${verb} them. Make another member admin first.`,
      { details: { org: org.name, user: userName } },
    );
  }
}
