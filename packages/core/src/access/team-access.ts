import { and, eq, sql } from "drizzle-orm";
import type { ServiceContext } from "../context.ts";
import { orgMembers, orgs, packages, teamMembers, teamPackages, users } from "../db/schema/index.ts";
import { parsePackageName } from "../packages/names.ts";
import { type AccessList, listCollaborators } from "./list-access.ts";

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
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
