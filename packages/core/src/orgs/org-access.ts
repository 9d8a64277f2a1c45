import { and, eq, sql } from "drizzle-orm";
import { isAdminPrincipal, type Principal, requirePrincipal } from "../auth/principal.ts";
import type { ServiceContext } from "../context.ts";
import type { Queryable } from "../db/client.ts";
import { type OrgRole, orgMembers, orgs } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import type { OrgRow } from "./insert-org.ts";
import { parseOrgSlug } from "./org-names.ts";

/** An org as one caller sees it: their own role in it (null for a platform admin who is not a member). */
export type OrgView = { org: OrgRow; principal: Principal; role: OrgRole | null };

/** An org the caller may manage, and what they are doing (for `lockOrg`'s second look). */
export type ManagedOrg = OrgView & { action: string };

/**
 * Who may manage orgs at all: a person, i.e. a dashboard session or a token whose role is
 * `maintainer` or `admin`. Tokens of the CI roles (`ci-readonly`, `ci-publish`) manage nothing: a
 * leaked CI token must not be able to add its holder to an org or widen a team's grants. A token
 * restricted to scopes manages only the orgs of those scopes.
 */
export function requireOrgManager(ctx: ServiceContext, action: string, slug?: string): Principal {
  const p = requirePrincipal(ctx.actor, action);
  if (p.via === "token" && p.role !== "maintainer" && p.role !== "admin") {
    throw new PackrError(
      "FORBIDDEN",
      `A ${p.role} token cannot ${action}: managing orgs and teams needs a person, signed in to the dashboard or with a maintainer or admin token.`,
      { details: { role: p.role } },
    );
  }
  if (slug !== undefined && p.scopes.length > 0 && !p.scopes.includes(`@${slug}`)) {
    throw new PackrError(
      "SCOPE_FORBIDDEN",
      `This token is restricted to ${p.scopes.join(", ")}; it cannot ${action}. Use a token for @${slug}.`,
      { details: { allowedScopes: [...p.scopes] } },
    );
  }
  return p;
}

/** The org of this slug, or null. */
export async function findOrg(db: Queryable, slug: string): Promise<OrgRow | null> {
  const [row] = await db.select().from(orgs).where(sql`lower(${orgs.name}) = ${slug}`).limit(1);
  return row ?? null;
}

/** The caller's current role in an org (read now, never from the token), or null. */
export async function orgRoleOf(
  db: Queryable,
  orgId: string,
  userId: string,
): Promise<OrgRole | null> {
  const [row] = await db
    .select({ role: orgMembers.role })
    .from(orgMembers)
    .where(and(eq(orgMembers.orgId, orgId), eq(orgMembers.userId, userId)))
    .limit(1);
  return row?.role ?? null;
}

/**
 * The 404 for an org the caller may not see. Identical for an org that does not exist, so a
 * non-member cannot learn which org names are taken from the admin API.
 */
export const orgNotFound = (slug: string): PackrError =>
  new PackrError("NOT_FOUND", `There is no org @${slug} here, or you are not a member of it.`, {
    details: { org: slug },
  });

/**
 * An org its members (any role) and platform admins may look at; anyone else gets `orgNotFound`.
 * Reading needs only an identified caller, of any token role.
 */
export async function viewOrg(
  ctx: ServiceContext,
  rawSlug: string,
  action: string,
): Promise<OrgView> {
  const principal = requirePrincipal(ctx.actor, action);
  const slug = parseOrgSlug(rawSlug);
  const org = await findOrg(ctx.deps.db, slug);
  if (!org) throw orgNotFound(slug);
  const role = await orgRoleOf(ctx.deps.db, org.id, principal.userId);
  if (role === null && !isAdminPrincipal(principal)) throw orgNotFound(slug);
  return { org, principal, role };
}

/**
 * An org the caller may manage (members, teams, grants, settings): a person (see
 * `requireOrgManager`) who is an admin of the org now, or a platform admin (who may rescue an org
 * whose admins are gone). Non-members get the same 404 as for a missing org; members of a lesser
 * role a 403 that names their role.
 */
export async function manageOrg(
  ctx: ServiceContext,
  rawSlug: string,
  action: string,
): Promise<ManagedOrg> {
  const slug = parseOrgSlug(rawSlug);
  const principal = requireOrgManager(ctx, action, slug);
  const org = await findOrg(ctx.deps.db, slug);
  if (!org) throw orgNotFound(slug);
  const role = await orgRoleOf(ctx.deps.db, org.id, principal.userId);
  assertManager(principal, org.name, role, action);
  return { org, principal, role, action };
}

/** Admins of the org and platform admins pass; others get 404 (non-members) or a 403 naming their role. */
export function assertManager(
  principal: Principal,
  slug: string,
  role: OrgRole | null,
  action: string,
): void {
  if (role === "admin" || isAdminPrincipal(principal)) return;
  if (role === null) throw orgNotFound(slug);
  throw new PackrError(
    "FORBIDDEN",
    `${principal.userName} is a ${role} in @${slug}; to ${action} you need admin — ask an admin of ${slug}.`,
    { details: { org: slug, role, required: "admin" } },
  );
}
