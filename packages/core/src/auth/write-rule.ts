import { and, eq, ne, sql } from "drizzle-orm";
import type { TokenActor } from "../context.ts";
import type { Queryable } from "../db/client.ts";
import {
  type OrgRole,
  orgMembers,
  orgs,
  packageMaintainers,
  packages,
  type TeamPermission,
  teamMembers,
  teamPackages,
  teams,
  users,
} from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { notFound } from "../packages/get-packument.ts";
import type { PackageName } from "../packages/names.ts";
import { isAdminToken } from "./policy.ts";
import { mayReadRestricted } from "./read-rule.ts";
import { loadUserAccess } from "./user-access.ts";

/*
 * Who may change a package, decided from the database at the moment of the change (never from a
 * cache, never from the token alone): a token acts with its creator's *current* org role, CI
 * tokens included. Its own role and scopes are checked before (requirePermission,
 * assertScopeAllowed); this is the other half of the intersection.
 */

/** Who owns a scope: an org of that name, else the user of that name, else nobody yet. */
export type ScopeOwner =
  | { kind: "org"; orgId: string; name: string }
  | { kind: "user"; userId: string; name: string }
  | { kind: "none"; name: string };

export async function scopeOwner(q: Queryable, scope: string): Promise<ScopeOwner> {
  const name = scope.toLowerCase();
  const [org] = await q.select({ id: orgs.id }).from(orgs).where(eq(orgs.name, name)).limit(1);
  if (org) return { kind: "org", orgId: org.id, name };
  const [user] = await q
    .select({ id: users.id, name: users.name })
    .from(users)
    .where(sql`lower(${users.name}) = ${name}`)
    .limit(1);
  if (user) return { kind: "user", userId: user.id, name: user.name };
  return { kind: "none", name };
}

/**
 * `write`: publish a version, dist-tags, deprecate, unpublish — an org role maintainer or admin,
 * or a team's read-write grant on the package. `manage`: owners and access — the org role alone.
 * `activity` names the act in the refusal ("publishing", "changing the access of @acme/x").
 */
export type PackageChange = {
  kind: "write" | "manage";
  activity: string;
  /**
   * A publish: refused like a publish of a new name would be. Any other change of a restricted
   * package the caller cannot read is the 404 of a missing package, so it cannot be probed.
   */
  publish?: boolean;
};

/**
 * May this token change this existing package? In an org's scope: the creator's current org role
 * (maintainer or admin), or for writes a read-write team grant; being listed as a maintainer no
 * longer suffices there. Elsewhere (unscoped, a user's scope, a scope no org holds): a maintainer.
 * An administrator acting as one (the admin permission on a current admin) may change anything.
 */
export async function assertMayChange(
  q: Queryable,
  pkg: { id: string; access?: "public" | "restricted" },
  token: TokenActor,
  name: PackageName,
  change: PackageChange,
): Promise<void> {
  if (isAdminToken(token)) return;
  const owner = name.scope ? await scopeOwner(q, name.scope) : null;
  if (owner?.kind === "org") {
    const role = await orgRole(q, owner.orgId, token.userId);
    if (role === "maintainer" || role === "admin") return;
    if (change.kind === "write" && (await teamPermission(q, token.userId, pkg.id)) === "read-write")
      return;
    await hideUnreadable(q, pkg, token, name, change);
    throw orgRoleRefusal(token.userName, owner.name, role, change, name);
  }
  const [row] = await q
    .select({ one: sql<number>`1` })
    .from(packageMaintainers)
    .where(
      and(eq(packageMaintainers.packageId, pkg.id), eq(packageMaintainers.userId, token.userId)),
    );
  if (!row) {
    await hideUnreadable(q, pkg, token, name, change);
    throw new PackrError(
      "FORBIDDEN",
      `You are not a maintainer of ${name.name}. Ask one of its maintainers to add you (npm owner add ${token.userName} ${name.name}).`,
    );
  }
}

/** On the refusal path only: the caller's access is read from the database, in `q`. */
async function hideUnreadable(
  q: Queryable,
  pkg: { id: string; access?: "public" | "restricted" },
  token: TokenActor,
  name: PackageName,
  change: PackageChange,
): Promise<void> {
  if (change.publish || pkg.access !== "restricted" || token.isAdmin) return;
  if (mayReadRestricted(await loadUserAccess(q, token.userId), name, pkg)) return;
  throw notFound(name.name);
}

/**
 * What creating a package under this name takes, once the caller may: nothing (`open`), joining
 * an existing org (`org`), or claiming the scope by creating its org (`claim`, with
 * PACKR_SCOPE_CLAIM=first-publish). Refusals: a scope that is someone else's (403 naming the
 * owner), an org role below maintainer, an unclaimed scope under `admin-only`, and an unclaimed
 * scope that already holds packages of other people (only an administrator may make that an org).
 */
export type CreateDecision =
  | { kind: "open" }
  | { kind: "org"; orgId: string }
  | { kind: "claim"; org: string };

export async function decideCreate(
  q: Queryable,
  token: TokenActor,
  name: PackageName,
  scopeClaim: "first-publish" | "admin-only",
): Promise<CreateDecision> {
  if (!name.scope) return { kind: "open" };
  const admin = isAdminToken(token);
  const owner = await scopeOwner(q, name.scope);
  if (owner.kind === "org") {
    if (admin) return { kind: "org", orgId: owner.orgId };
    const role = await orgRole(q, owner.orgId, token.userId);
    if (role === "maintainer" || role === "admin") return { kind: "org", orgId: owner.orgId };
    throw orgRoleRefusal(
      token.userName,
      owner.name,
      role,
      { kind: "manage", activity: "publishing", publish: true },
      name,
    );
  }
  if (owner.kind === "user") {
    if (admin || owner.userId === token.userId) return { kind: "open" };
    throw new PackrError(
      "FORBIDDEN",
      `@${name.scope} belongs to the user ${owner.name}: only they publish new packages into it. Publish under your own scope (@${token.userName.toLowerCase()}) or an org you belong to.`,
      { details: { owner: owner.name, ownerType: "user" } },
    );
  }
  if (scopeClaim === "admin-only") {
    if (admin) return { kind: "open" };
    throw new PackrError(
      "FORBIDDEN",
      `No org owns @${owner.name} yet, and on this registry only an administrator creates orgs (PACKR_SCOPE_CLAIM=admin-only). Ask an administrator to create the org ${owner.name}, then publish again.`,
      { details: { org: owner.name, scopeClaim } },
    );
  }
  // Packages published into the scope before orgs existed would move into the new org: only
  // their own maintainers (or an administrator) may claim the scope they live in.
  if (!admin) {
    const strangers = await q
      .select({ name: users.name })
      .from(packages)
      .innerJoin(packageMaintainers, eq(packageMaintainers.packageId, packages.id))
      .innerJoin(users, eq(users.id, packageMaintainers.userId))
      .where(
        and(
          sql`lower(${packages.scope}) = ${owner.name}`,
          ne(packages.name, name.name),
          sql`${packages.rev} > 0`,
          sql`not exists (select 1 from package_maintainers mine where mine.package_id = ${sql.identifier("packages")}.${sql.identifier("id")} and mine.user_id = ${token.userId})`,
        ),
      )
      .limit(3);
    if (strangers.length > 0) {
      const who = [...new Set(strangers.map((s) => s.name))].join(", ");
      throw new PackrError(
        "FORBIDDEN",
        `No org owns @${owner.name} yet, and it holds packages of other people (${who}): publishing into it would make you its owner. Ask an administrator to create the org ${owner.name}.`,
        { details: { org: owner.name } },
      );
    }
  }
  return { kind: "claim", org: owner.name };
}

async function orgRole(q: Queryable, orgId: string, userId: string): Promise<OrgRole | null> {
  const [row] = await q
    .select({ role: orgMembers.role })
    .from(orgMembers)
    .where(and(eq(orgMembers.orgId, orgId), eq(orgMembers.userId, userId)));
  return row?.role ?? null;
}

/** The strongest grant any of the user's teams holds on the package (within the team's org scope). */
async function teamPermission(
  q: Queryable,
  userId: string,
  packageId: string,
): Promise<TeamPermission | null> {
  const rows = await q
    .select({ permission: teamPackages.permission })
    .from(teamMembers)
    .innerJoin(teams, eq(teams.id, teamMembers.teamId))
    .innerJoin(orgs, eq(orgs.id, teams.orgId))
    .innerJoin(teamPackages, eq(teamPackages.teamId, teams.id))
    .innerJoin(packages, eq(packages.id, teamPackages.packageId))
    .where(
      and(
        eq(teamMembers.userId, userId),
        eq(teamPackages.packageId, packageId),
        sql`lower(${packages.scope}) = ${orgs.name}`,
      ),
    );
  if (rows.some((r) => r.permission === "read-write")) return "read-write";
  return rows[0]?.permission ?? null;
}

/** "alice is a reader in @acme; publishing needs maintainer or admin — ask an admin of acme" */
function orgRoleRefusal(
  user: string,
  org: string,
  role: OrgRole | null,
  change: PackageChange,
  name: PackageName,
): PackrError {
  const who = role
    ? `${user} is ${role === "admin" ? "an" : "a"} ${role} in @${org}`
    : `${user} is not a member of @${org}`;
  // Teams hold org members only: a grant is worth naming to a member, never to an outsider.
  const grant =
    change.kind === "write" && role ? ` (or a team's read-write grant on ${name.name})` : "";
  const ask = role ? `ask an admin of ${org}` : `ask an admin of ${org} to add you`;
  return new PackrError(
    "FORBIDDEN",
    `${who}; ${change.activity} needs maintainer or admin${grant} — ${ask}.`,
    {
      details: { org, role, required: ["maintainer", "admin"] },
    },
  );
}
