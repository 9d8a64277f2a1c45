import { and, asc, eq } from "drizzle-orm";
import { announceAccessChange, forgetAccess } from "../auth/user-access.ts";
import type { ServiceContext, Tx } from "../context.ts";
import { packages, teamMembers, teamPackages } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { parsePackageName } from "../packages/names.ts";
import type { OrgRow } from "./insert-org.ts";
import { lockOrg } from "./lock-org.ts";
import { manageOrg, viewOrg } from "./org-access.ts";
import { parseTeamPermission } from "./org-names.ts";
import type { TeamGrant } from "./org-views.ts";
import { recordOrgChange } from "./record-org-change.ts";
import { requireTeam, type TeamRow } from "./teams.ts";

/** A team's package grants; any member of the org (or a platform admin) may list them. */
export async function listTeamPackages(args: {
  ctx: ServiceContext;
  input: { org: string; team: string };
}): Promise<TeamGrant[]> {
  const { ctx, input } = args;
  const { org } = await viewOrg(ctx, input.org, "list a team's packages");
  const team = await requireTeam(ctx.deps.db, org, input.team);
  return ctx.deps.db
    .select({ name: packages.name, permission: teamPackages.permission })
    .from(teamPackages)
    .innerJoin(packages, eq(packages.id, teamPackages.packageId))
    .where(eq(teamPackages.teamId, team.id))
    .orderBy(asc(packages.name));
}

/**
 * Grant a team `read-only` or `read-write` on one package of the org's scope (npm access grant).
 * A grant never reaches outside the scope: `@other/x` or an unscoped name is a 403. Granting again
 * changes the permission. Every member of the team gets the new access at once. Org admins only.
 */
export async function grantTeamPackage(args: {
  ctx: ServiceContext;
  input: { org: string; team: string; package: string; permission: string };
}): Promise<TeamGrant> {
  const { ctx, input } = args;
  const managed = await manageOrg(ctx, input.org, "grant package access");
  const { org } = managed;
  const permission = parseTeamPermission(input.permission);
  const name = packageOfOrg(org, input.package);
  const now = ctx.deps.now();
  const result = await ctx.deps.db.transaction(async (tx) => {
    await lockOrg(tx, managed);
    const team = await requireTeam(tx, org, input.team);
    const pkg = await requirePackage(tx, name);
    const [before] = await tx
      .select({ permission: teamPackages.permission })
      .from(teamPackages)
      .where(and(eq(teamPackages.teamId, team.id), eq(teamPackages.packageId, pkg.id)));
    if (before?.permission === permission) return { memberIds: [], changed: false };
    await tx
      .insert(teamPackages)
      .values({ teamId: team.id, packageId: pkg.id, permission, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({
        target: [teamPackages.teamId, teamPackages.packageId],
        set: { permission, updatedAt: now },
      });
    const data = {
      org: org.name,
      team: team.name,
      package: pkg.name,
      permission,
      from: before?.permission ?? null,
    };
    await recordOrgChange(
      tx,
      ctx,
      {
        type: "package.access.granted",
        orgId: org.id,
        target: { type: "package", id: pkg.id },
        packageName: pkg.name,
        data,
      },
      now,
    );
    return { memberIds: await announceToTeam(tx, team), changed: true };
  });
  if (result.changed) forgetAccess(ctx, result.memberIds);
  return { name, permission };
}

/** Take a team's grant on a package away (npm access revoke); 404 when it has none. Org admins only. */
export async function revokeTeamPackage(args: {
  ctx: ServiceContext;
  input: { org: string; team: string; package: string };
}): Promise<{ ok: true }> {
  const { ctx, input } = args;
  const managed = await manageOrg(ctx, input.org, "revoke package access");
  const { org } = managed;
  const name = packageOfOrg(org, input.package);
  const now = ctx.deps.now();
  const memberIds = await ctx.deps.db.transaction(async (tx) => {
    await lockOrg(tx, managed);
    const team = await requireTeam(tx, org, input.team);
    const pkg = await requirePackage(tx, name);
    const [removed] = await tx
      .delete(teamPackages)
      .where(and(eq(teamPackages.teamId, team.id), eq(teamPackages.packageId, pkg.id)))
      .returning({ permission: teamPackages.permission });
    if (!removed) {
      throw new PackrError(
        "NOT_FOUND",
        `The team ${org.name}:${team.name} has no grant on ${pkg.name}.`,
        { details: { org: org.name, team: team.name, package: pkg.name } },
      );
    }
    const data = {
      org: org.name,
      team: team.name,
      package: pkg.name,
      permission: removed.permission,
    };
    await recordOrgChange(
      tx,
      ctx,
      {
        type: "package.access.revoked",
        orgId: org.id,
        target: { type: "package", id: pkg.id },
        packageName: pkg.name,
        data,
      },
      now,
    );
    return announceToTeam(tx, team);
  });
  forgetAccess(ctx, memberIds);
  return { ok: true };
}

/** The package name, refused unless it lies in the org's scope (any letter case of the scope). */
function packageOfOrg(org: OrgRow, raw: string): string {
  const name = parsePackageName(raw);
  if (name.scope?.toLowerCase() !== org.name) {
    throw new PackrError(
      "FORBIDDEN",
      `${name.name} is outside @${org.name}: a team of ${org.name} can be granted only packages of @${org.name}/*.`,
      { details: { org: org.name, package: name.name } },
    );
  }
  return name.name;
}

async function requirePackage(tx: Tx, name: string): Promise<{ id: string; name: string }> {
  const [pkg] = await tx
    .select({ id: packages.id, name: packages.name })
    .from(packages)
    .where(eq(packages.name, name))
    .limit(1);
  if (!pkg) {
    throw new PackrError("NOT_FOUND", `There is no package ${name} here; publish it first.`, {
      details: { package: name },
    });
  }
  return pkg;
}

/** A grant changes what every member of the team may do: announce them all. */
async function announceToTeam(tx: Tx, team: TeamRow): Promise<string[]> {
  const members = await tx
    .select({ userId: teamMembers.userId })
    .from(teamMembers)
    .where(eq(teamMembers.teamId, team.id));
  const ids = members.map((m) => m.userId);
  await announceAccessChange(tx, ids);
  return ids;
}
