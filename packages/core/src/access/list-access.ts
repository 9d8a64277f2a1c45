import { and, asc, eq, type SQL, sql } from "drizzle-orm";
import { isAdminToken } from "../auth/policy.ts";
import { assertCanRead, readableCondition } from "../auth/read-rule.ts";
import type { ServiceContext } from "../context.ts";
import { orgs, packageMaintainers, packages, users } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { findPackageMeta, notFound } from "../packages/get-packument.ts";
import { parsePackageName } from "../packages/names.ts";

/** `{name: "read" | "write"}`, as npm access list prints it (read-only / read-write). */
export type AccessList = Record<string, "read" | "write">;

const LIMIT = 10_000;

/**
 * `GET /-/package/<name>/collaborators` (npm access list collaborators): the maintainers, each
 * with write access; under the packument's read rules. `user` narrows it to one user.
 */
export async function listCollaborators(args: {
  ctx: ServiceContext;
  input: { name: string; user?: string | undefined };
}): Promise<AccessList> {
  const { ctx, input } = args;
  const name = parsePackageName(input.name);
  const meta = await findPackageMeta(ctx, name.name);
  await assertCanRead(ctx, name, meta);
  if (!meta) throw notFound(name.name);
  const rows = await ctx.deps.db
    .select({ name: users.name })
    .from(packageMaintainers)
    .innerJoin(users, eq(users.id, packageMaintainers.userId))
    .where(
      and(
        eq(packageMaintainers.packageId, meta.id),
        input.user ? eq(users.name, input.user) : undefined,
      ),
    )
    .orderBy(asc(users.name));
  return Object.fromEntries(rows.map((r) => [r.name, "write" as const]));
}

/**
 * `GET /-/org/<scope>/package` (npm access list packages [@scope]): the packages of the scope the
 * caller may read, "write" where the caller maintains them with a token that may publish. A scope
 * is an org when it has an org row or a package the caller can see; otherwise 404, on which npm
 * falls back to `/-/user/<name>/package` (and a scope of only private packages stays unprovable).
 */
export async function listOrgPackages(args: {
  ctx: ServiceContext;
  input: { org: string };
}): Promise<AccessList> {
  const { ctx } = args;
  const org = entityName(args.input.org, "org");
  const actor = ctx.actor;
  const userId = actor.type === "token" ? actor.userId : null;
  const mayWrite = actor.type === "token" && actor.permissions.includes("publish") ? actor : null;
  const conditions: Array<SQL | undefined> = [
    sql`lower(${packages.scope}) = ${org}`,
    sql`${packages.rev} > 0`,
    readableCondition(actor),
  ];
  const rows = await ctx.deps.db
    .select({
      name: packages.name,
      maintains: userId
        ? sql<boolean>`exists (select 1 from package_maintainers m where m.package_id = ${packages.id} and m.user_id = ${userId})`
        : sql<boolean>`false`,
    })
    .from(packages)
    .where(and(...conditions))
    .orderBy(asc(packages.name))
    .limit(LIMIT);
  if (rows.length === 0) {
    const [row] = await ctx.deps.db
      .select({ id: orgs.id })
      .from(orgs)
      .where(sql`lower(${orgs.name}) = ${org}`);
    if (!row) throw new PackrError("NOT_FOUND", `There is no org or scope @${org} here.`);
  }
  const admin = mayWrite !== null && isAdminToken(mayWrite);
  return Object.fromEntries(
    rows.map((r) => [r.name, mayWrite && (admin || r.maintains) ? "write" : "read"] as const),
  );
}

/**
 * `GET /-/user/<name>/package` (npm access list packages, for a user): the packages the user
 * maintains that the caller may read, each "write" (a maintainer may publish). 404 for no such user.
 */
export async function listUserPackages(args: {
  ctx: ServiceContext;
  input: { user: string };
}): Promise<AccessList> {
  const { ctx } = args;
  const userName = entityName(args.input.user, "user");
  const [user] = await ctx.deps.db
    .select({ id: users.id })
    .from(users)
    .where(eq(users.name, userName));
  if (!user) throw new PackrError("NOT_FOUND", `There is no user ${userName} here.`);
  const conditions: Array<SQL | undefined> = [
    eq(packageMaintainers.userId, user.id),
    sql`${packages.rev} > 0`,
    readableCondition(ctx.actor),
  ];
  const rows = await ctx.deps.db
    .select({ name: packages.name })
    .from(packageMaintainers)
    .innerJoin(packages, eq(packages.id, packageMaintainers.packageId))
    .where(and(...conditions))
    .orderBy(asc(packages.name))
    .limit(LIMIT);
  return Object.fromEntries(rows.map((r) => [r.name, "write" as const]));
}

/** An org (scope) or user name from a URL: npm's name characters only, so nothing odd reaches SQL. */
function entityName(raw: string, what: "org" | "user"): string {
  const value = what === "org" ? raw.replace(/^@/, "").toLowerCase() : raw;
  if (!/^[A-Za-z0-9][A-Za-z0-9._~-]{0,213}$/.test(value)) {
    throw new PackrError(
      "VALIDATION",
      `${JSON.stringify(raw.slice(0, 80))} is not a valid ${what === "org" ? "org or scope" : "user"} name.`,
    );
  }
  return value;
}
