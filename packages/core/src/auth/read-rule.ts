import { type SQL, sql } from "drizzle-orm";
import type { ServiceContext } from "../context.ts";
import type { PackrError } from "../errors.ts";
import { notFound } from "../packages/get-packument.ts";
import type { PackageName } from "../packages/names.ts";
import type { Actor } from "./actor.ts";
import { requirePermission } from "./policy.ts";
import type { UserAccess } from "./user-access.ts";

/**
 * Who reads: everything (the system, a platform administrator), public packages only (anonymous),
 * or a person whose restricted reads follow their org roles, team grants and maintainership.
 * A token must carry `read`; a platform administrator's flag is the user row's current one (the
 * token service reloads it every 2 s), never a copy frozen into the token.
 */
type Reader = { kind: "all" } | { kind: "public" } | { kind: "person"; userId: string };

function readerOf(actor: Actor): Reader {
  if (actor.type === "system") return { kind: "all" };
  if (actor.type === "anonymous") return { kind: "public" };
  if (actor.type === "token" && !actor.permissions.includes("read")) return { kind: "public" };
  if (actor.isAdmin) return { kind: "all" };
  return { kind: "person", userId: actor.userId };
}

/** The read rule for one restricted package, given the reader's access snapshot. */
export function mayReadRestricted(
  access: UserAccess,
  name: PackageName,
  pkg: { id: string },
): boolean {
  if (access.maintains.has(pkg.id) || access.teamGrants.has(pkg.id)) return true;
  if (name.scope === null) return false;
  const scope = name.scope.toLowerCase();
  return access.orgRoles.has(scope) || access.ownScope === scope;
}

/**
 * Read access to a package. A public package is anyone's. A restricted one is readable by a
 * platform administrator, its maintainers, every member (any role) of the org that owns its scope,
 * the members of teams granted it, and the user whose name is its scope — and by nobody else, who
 * gets the same 404 as for a name that does not exist (so private names cannot be probed). An
 * anonymous caller gets 401 for a restricted package and for a scoped name that does not exist
 * (the answer npm turns into "log in"); a name that does not exist is otherwise the caller's 404.
 *
 * The access snapshot comes from the per-instance cache, so this costs no query on a hit.
 */
export async function assertCanRead(
  ctx: ServiceContext,
  name: PackageName,
  pkg: { id: string; access: "public" | "restricted" } | null,
  /** What the route answers for a name it does not have, when that is not `notFound(name)`. */
  missing: () => PackrError = () => notFound(name.name),
): Promise<void> {
  const actor = ctx.actor;
  if (pkg?.access === "public") return;
  if (pkg === null && (actor.type !== "anonymous" || name.scope === null)) return;
  if (actor.type === "anonymous" || actor.type === "token") {
    requirePermission(actor, "read", `read ${name.name}`);
  }
  const reader = readerOf(actor);
  if (reader.kind === "all" || pkg === null) return;
  if (reader.kind === "person") {
    const access = await ctx.deps.access.get(reader.userId);
    if (mayReadRestricted(access, name, pkg)) return;
  }
  throw missing();
}

/**
 * The read rule as a SQL condition on `packages`, for listings (search, stars, access lists, agent
 * queries) that filter many packages at once: undefined when the caller reads everything. Asked of
 * the database itself, so a listing is exactly as current as its own query.
 */
export function readableCondition(actor: Actor): SQL | undefined {
  const reader = readerOf(actor);
  if (reader.kind === "all") return undefined;
  // Spelled out: drizzle leaves columns unqualified in single-table queries, and inside these
  // subqueries an unqualified "id" would name the subquery's own table.
  const col = (name: string) => sql`${sql.identifier("packages")}.${sql.identifier(name)}`;
  if (reader.kind === "public") return sql`${col("access")} = 'public'`;
  const u = reader.userId;
  const id = col("id");
  const scope = col("scope");
  return sql`(${col("access")} = 'public'
    or exists (select 1 from package_maintainers pm where pm.package_id = ${id} and pm.user_id = ${u})
    or exists (select 1 from org_members om join orgs o on o.id = om.org_id
               where om.user_id = ${u} and o.name = lower(${scope}))
    or exists (select 1 from team_members tm join teams t on t.id = tm.team_id
               join orgs o on o.id = t.org_id
               join team_packages tp on tp.team_id = t.id
               where tm.user_id = ${u} and tp.package_id = ${id} and o.name = lower(${scope}))
    or exists (select 1 from users me where me.id = ${u} and lower(me.name) = lower(${scope})
               and not exists (select 1 from orgs o where o.name = lower(me.name))))`;
}

/** Whether the caller could read a restricted package of this listing row (for rows already fetched). */
export async function mayReadRow(
  ctx: ServiceContext,
  row: { id: string; name: string; scope: string | null; access: "public" | "restricted" },
): Promise<boolean> {
  if (row.access === "public") return true;
  const reader = readerOf(ctx.actor);
  if (reader.kind !== "person") return reader.kind === "all";
  const access = await ctx.deps.access.get(reader.userId);
  return mayReadRestricted(
    access,
    { name: row.name, scope: row.scope, basename: row.name.split("/").pop() ?? row.name },
    row,
  );
}
