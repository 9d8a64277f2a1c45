import { and, eq, sql } from "drizzle-orm";
import { isAdminToken } from "../auth/policy.ts";
import type { ServiceContext } from "../context.ts";
import {
  orgMembers,
  orgs,
  packages,
  teamMembers,
  teamPackages,
  users,
} from "../db/schema/index.ts";
import { normalizeScope, parsePackageName } from "../packages/names.ts";
import {
  type AccessList,
  listCollaborators,
  listOrgPackages,
  listUserPackages,
} from "./list-access.ts";

/**
 * `GET /-/package/<name>/collaborators` (npm access list collaborators): everyone who may use the
 * package, as npm shows it on npmjs, where org members reach packages through teams:
 * - its maintainers (npm owner), "write";
 * - the members of the org that owns its scope: admins and maintainers "write" (they publish into
 *   the scope), readers "read";
 * - the members of teams granted the package: "write" for read-write, "read" for read-only.
 * A person reached several ways gets the strongest. npm prints "read" as read-only and "write"
 * as read-write. Who may see the list, and the 404 for a package they may not read, is
 * `listCollaborators`'s rule, which this calls first. `user` narrows it to one person.
 */
export async function listPackageCollaborators(args: {
  ctx: ServiceContext;
  input: { name: string; user?: string | undefined };
}): Promise<AccessList> {
  const { ctx, input } = args;
  const out: AccessList = await listCollaborators(args);
  const name = parsePackageName(input.name).name;
  const onlyUser = input.user ? eq(users.name, input.user) : undefined;
  const members = await ctx.deps.db
    .select({ user: users.name, role: orgMembers.role })
    .from(packages)
    .innerJoin(orgs, sql`${orgs.name} = lower(${packages.scope})`)
    .innerJoin(orgMembers, eq(orgMembers.orgId, orgs.id))
    .innerJoin(users, eq(users.id, orgMembers.userId))
    .where(and(eq(packages.name, name), onlyUser));
  const granted = await ctx.deps.db
    .select({ user: users.name, permission: teamPackages.permission })
    .from(packages)
    .innerJoin(teamPackages, eq(teamPackages.packageId, packages.id))
    .innerJoin(teamMembers, eq(teamMembers.teamId, teamPackages.teamId))
    .innerJoin(users, eq(users.id, teamMembers.userId))
    .where(and(eq(packages.name, name), onlyUser));
  const raise = (user: string, access: "read" | "write") => {
    if (out[user] !== "write") out[user] = access;
  };
  for (const m of members) raise(m.user, m.role === "reader" ? "read" : "write");
  for (const g of granted) raise(g.user, g.permission === "read-write" ? "write" : "read");
  return sorted(out);
}

/**
 * `GET /-/org/<scope>/package` (npm access list packages <org>): `listOrgPackages` (which packages
 * the caller may see), with "write" also where the caller may publish through the org rather than
 * as a maintainer of the package: an admin or maintainer of the org writes every package of its
 * scope, a team's read-write grant writes that package. Only for a token that may publish into
 * the scope; anyone else keeps what `listOrgPackages` said.
 */
export async function listScopePackages(args: {
  ctx: ServiceContext;
  input: { org: string };
}): Promise<AccessList> {
  const { ctx } = args;
  const list = await listOrgPackages(args);
  const actor = ctx.actor;
  if (actor.type !== "token" || !actor.permissions.includes("publish")) return list;
  const scope = args.input.org.replace(/^@/, "").toLowerCase();
  if (actor.scopes.length > 0 && !actor.scopes.map(normalizeScope).includes(scope)) return list;
  const [member] = await ctx.deps.db
    .select({ role: orgMembers.role })
    .from(orgMembers)
    .innerJoin(orgs, eq(orgs.id, orgMembers.orgId))
    .where(and(eq(orgs.name, scope), eq(orgMembers.userId, actor.userId)));
  if (!member) return list;
  if (member.role !== "reader") {
    return Object.fromEntries(Object.keys(list).map((name) => [name, "write" as const]));
  }
  const writable = await ctx.deps.db
    .select({ name: packages.name })
    .from(teamPackages)
    .innerJoin(teamMembers, eq(teamMembers.teamId, teamPackages.teamId))
    .innerJoin(packages, eq(packages.id, teamPackages.packageId))
    .where(
      and(
        eq(teamMembers.userId, actor.userId),
        eq(teamPackages.permission, "read-write"),
        sql`lower(${packages.scope}) = ${scope}`,
      ),
    );
  const out = { ...list };
  for (const { name } of writable) if (name in out) out[name] = "write";
  return out;
}

/**
 * `GET /-/user/<name>/package` (npm access list packages, for a person, and npm's fallback when
 * `<name>` is no org): `listUserPackages` (what they maintain, as the caller may see it), plus
 * what they reach through orgs and teams: every package of an org's scope ("write" for its admins
 * and maintainers, "read" for its readers) and each package a team of theirs is granted. A
 * restricted package reached that way shows only to the person themselves and to platform
 * admins: their memberships are not everyone's business.
 */
export async function listUserPackageAccess(args: {
  ctx: ServiceContext;
  input: { user: string };
}): Promise<AccessList> {
  const { ctx } = args;
  const out: AccessList = await listUserPackages(args);
  const [user] = await ctx.deps.db
    .select({ id: users.id })
    .from(users)
    .where(eq(users.name, args.input.user));
  if (!user) return out;
  const actor = ctx.actor;
  const seesRestricted =
    actor.type === "system" ||
    (actor.type === "token" && (actor.userId === user.id || isAdminToken(actor))) ||
    (actor.type === "session" && (actor.userId === user.id || actor.isAdmin));
  const visible = seesRestricted ? undefined : eq(packages.access, "public");
  const viaOrgs = await ctx.deps.db
    .select({ name: packages.name, role: orgMembers.role })
    .from(orgMembers)
    .innerJoin(orgs, eq(orgs.id, orgMembers.orgId))
    .innerJoin(packages, sql`lower(${packages.scope}) = ${orgs.name}`)
    .where(and(eq(orgMembers.userId, user.id), sql`${packages.rev} > 0`, visible))
    .limit(LIMIT);
  const viaTeams = await ctx.deps.db
    .select({ name: packages.name, permission: teamPackages.permission })
    .from(teamMembers)
    .innerJoin(teamPackages, eq(teamPackages.teamId, teamMembers.teamId))
    .innerJoin(packages, eq(packages.id, teamPackages.packageId))
    .where(and(eq(teamMembers.userId, user.id), sql`${packages.rev} > 0`, visible))
    .limit(LIMIT);
  const raise = (name: string, access: "read" | "write") => {
    if (out[name] !== "write") out[name] = access;
  };
  for (const r of viaOrgs) raise(r.name, r.role === "reader" ? "read" : "write");
  for (const r of viaTeams) raise(r.name, r.permission === "read-write" ? "write" : "read");
  return sorted(out);
}

const LIMIT = 10_000;

const sorted = (list: AccessList): AccessList =>
  Object.fromEntries(Object.entries(list).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
