import { and, eq } from "drizzle-orm";
import { announceAccessChange } from "../auth/user-access.ts";
import type { Deps } from "../context.ts";
import {
  type OrgRole,
  orgMembers,
  orgs,
  packages,
  type TeamPermission,
  teamMembers,
  teamPackages,
  teams,
  users,
} from "../db/schema/index.ts";
import { newId } from "../ids.ts";

/*
 * Org, member and team rows for tests, written directly (the org verbs live elsewhere) but
 * announced like the verbs announce them, so every instance's access cache hears of the change.
 */

async function userId(deps: Deps, name: string): Promise<string> {
  const [user] = await deps.db.select({ id: users.id }).from(users).where(eq(users.name, name));
  if (user) return user.id;
  const [created] = await deps.db
    .insert(users)
    .values({ id: newId("usr"), name, email: `${name}@example.test` })
    .returning({ id: users.id });
  if (!created) throw new Error(`could not create user ${name}`);
  return created.id;
}

async function orgId(deps: Deps, name: string): Promise<string> {
  const [org] = await deps.db.select({ id: orgs.id }).from(orgs).where(eq(orgs.name, name));
  if (org) return org.id;
  const id = newId("org");
  await deps.db.insert(orgs).values({ id, name });
  await deps.db.update(packages).set({ orgId: id }).where(eq(packages.scope, name));
  return id;
}

/** Make `user` a member of `org` (created if missing) with `role`; returns both ids. */
export async function setOrgRole(
  deps: Deps,
  spec: { org: string; user: string; role: OrgRole },
): Promise<{ orgId: string; userId: string }> {
  const ids = { orgId: await orgId(deps, spec.org), userId: await userId(deps, spec.user) };
  await deps.db.transaction(async (tx) => {
    await tx
      .insert(orgMembers)
      .values({ ...ids, role: spec.role })
      .onConflictDoUpdate({
        target: [orgMembers.orgId, orgMembers.userId],
        set: { role: spec.role },
      });
    await announceAccessChange(tx, [ids.userId]);
  });
  deps.access.forget([ids.userId]);
  return ids;
}

/**
 * Remove `user` from `org` (and its teams). `announce: false` leaves the change unannounced, as
 * if the NOTIFY were lost: only the access cache's time bound makes it take effect.
 */
export async function removeFromOrg(
  deps: Deps,
  spec: { org: string; user: string; announce?: boolean },
): Promise<void> {
  const ids = { orgId: await orgId(deps, spec.org), userId: await userId(deps, spec.user) };
  await deps.db.transaction(async (tx) => {
    await tx
      .delete(orgMembers)
      .where(and(eq(orgMembers.orgId, ids.orgId), eq(orgMembers.userId, ids.userId)));
    const orgTeams = await tx
      .select({ id: teams.id })
      .from(teams)
      .where(eq(teams.orgId, ids.orgId));
    for (const t of orgTeams) {
      await tx
        .delete(teamMembers)
        .where(and(eq(teamMembers.teamId, t.id), eq(teamMembers.userId, ids.userId)));
    }
    if (spec.announce !== false) await announceAccessChange(tx, [ids.userId]);
  });
  if (spec.announce !== false) deps.access.forget([ids.userId]);
}

/** A team `org:team` (created if missing) with `user` in it and `permission` on `pkg`. */
export async function grantTeam(
  deps: Deps,
  spec: { org: string; team: string; user: string; pkg: string; permission: TeamPermission },
): Promise<void> {
  const org = await orgId(deps, spec.org);
  const user = await userId(deps, spec.user);
  const [pkg] = await deps.db
    .select({ id: packages.id })
    .from(packages)
    .where(eq(packages.name, spec.pkg));
  if (!pkg) throw new Error(`no package ${spec.pkg}`);
  await deps.db.transaction(async (tx) => {
    const [found] = await tx
      .select({ id: teams.id })
      .from(teams)
      .where(and(eq(teams.orgId, org), eq(teams.name, spec.team)));
    const teamId = found?.id ?? newId("team");
    if (!found) await tx.insert(teams).values({ id: teamId, orgId: org, name: spec.team });
    await tx.insert(teamMembers).values({ teamId, userId: user }).onConflictDoNothing();
    await tx
      .insert(teamPackages)
      .values({ teamId, packageId: pkg.id, permission: spec.permission })
      .onConflictDoUpdate({
        target: [teamPackages.teamId, teamPackages.packageId],
        set: { permission: spec.permission },
      });
    await announceAccessChange(tx, [user]);
  });
  deps.access.forget([user]);
}
