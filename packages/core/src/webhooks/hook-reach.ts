import { eq, sql } from "drizzle-orm";
import { mayReadRestricted } from "../auth/read-rule.ts";
import { loadUserAccess, type UserAccess } from "../auth/user-access.ts";
import type { Queryable } from "../db/client.ts";
import { orgs, packages, teamPackages, teams, users } from "../db/schema/index.ts";
import { hookScopeMatches } from "./hook-scope.ts";
import type { WebhookRow } from "./webhook-view.ts";

export type PackageSubject = {
  id: string;
  name: string;
  scope: string | null;
  access: "public" | "restricted";
  orgId: string | null;
};

/**
 * What an event is about, as far as who may receive it goes: a package (its owner must be able to
 * read it), an org (its hooks and its current members' hooks), a person's own token (their own
 * hooks only), or the hook itself (`ping`).
 */
export type EventSubject =
  | { kind: "package"; pkg: PackageSubject; orgName: string | null }
  | { kind: "org"; orgId: string; orgName: string }
  | { kind: "token"; userId: string | null }
  | { kind: "hook" }
  | { kind: "none" };

export async function loadPackageSubject(
  db: Queryable,
  name: string,
): Promise<PackageSubject | null> {
  const [pkg] = await db
    .select({
      id: packages.id,
      name: packages.name,
      scope: packages.scope,
      access: packages.access,
      orgId: packages.orgId,
    })
    .from(packages)
    .where(eq(packages.name, name))
    .limit(1);
  return pkg ?? null;
}

/** The org of an id or a slug, for the subject of an org event. */
export async function findOrgRow(
  db: Queryable,
  by: { id: string } | { slug: string },
): Promise<{ id: string; name: string } | null> {
  const [org] = await db
    .select({ id: orgs.id, name: orgs.name })
    .from(orgs)
    .where("id" in by ? eq(orgs.id, by.id) : eq(orgs.name, by.slug.toLowerCase()))
    .limit(1);
  return org ?? null;
}

/**
 * Answers "may this hook receive this event now?" for one fan-out or one attempt, with what it
 * loads kept for the next hook of the same event: each user's access is read fresh from the
 * database (not the 5 s cache: a delivery is never on a request path, and "now" is exact).
 */
export class HookReach {
  private readonly access = new Map<string, Promise<UserAccess>>();
  private readonly admins = new Map<string, Promise<boolean>>();
  private owningOrgs: Promise<Set<string>> | undefined;

  constructor(
    private readonly db: Queryable,
    readonly subject: EventSubject,
  ) {}

  private userAccess(userId: string): Promise<UserAccess> {
    let a = this.access.get(userId);
    if (!a) {
      a = loadUserAccess(this.db, userId);
      this.access.set(userId, a);
    }
    return a;
  }

  private isAdmin(userId: string): Promise<boolean> {
    let a = this.admins.get(userId);
    if (!a) {
      a = this.db
        .select({ isAdmin: users.isAdmin })
        .from(users)
        .where(eq(users.id, userId))
        .then((rows) => rows[0]?.isAdmin === true);
      this.admins.set(userId, a);
    }
    return a;
  }

  /**
   * The orgs a package is "the org's" for: the org its row names, the org owning its scope, and
   * the orgs of teams granted it (grants only reach packages of the team's org scope).
   */
  private orgsOwning(pkg: PackageSubject): Promise<Set<string>> {
    this.owningOrgs ??= (async () => {
      const ids = new Set<string>();
      if (pkg.orgId) ids.add(pkg.orgId);
      if (pkg.scope) {
        const org = await findOrgRow(this.db, { slug: pkg.scope });
        if (org) ids.add(org.id);
      }
      const granted = await this.db
        .select({ orgId: teams.orgId })
        .from(teamPackages)
        .innerJoin(teams, eq(teams.id, teamPackages.teamId))
        .innerJoin(orgs, eq(orgs.id, teams.orgId))
        .where(
          sql`${teamPackages.packageId} = ${pkg.id} and ${orgs.name} = lower(${pkg.scope ?? ""})`,
        );
      for (const g of granted) ids.add(g.orgId);
      return ids;
    })();
    return this.owningOrgs;
  }

  /** Whether the hook's scope covers the event and its owner may receive it at this moment. */
  async receives(hook: WebhookRow): Promise<boolean> {
    const s = this.subject;
    switch (s.kind) {
      case "none":
        return false;
      case "hook":
        return true;
      case "token":
        // A person's token events reach their own user hooks, never an org's.
        return (
          s.userId !== null && hook.userId === s.userId && hookScopeMatches(hook.scope, null, null)
        );
      case "org": {
        if (!hookScopeMatches(hook.scope, null, s.orgName)) return false;
        if (hook.orgId !== null) return hook.orgId === s.orgId;
        if (hook.userId === null) return false;
        return (await this.userAccess(hook.userId)).orgRoles.has(s.orgName.toLowerCase());
      }
      case "package": {
        const { pkg } = s;
        if (!hookScopeMatches(hook.scope, pkg.name, s.orgName)) return false;
        if (hook.orgId !== null) return (await this.orgsOwning(pkg)).has(hook.orgId);
        if (hook.userId === null) return false;
        if (pkg.access === "public") return true;
        if (await this.isAdmin(hook.userId)) return true;
        const basename = pkg.name.split("/").pop() ?? pkg.name;
        return mayReadRestricted(
          await this.userAccess(hook.userId),
          { name: pkg.name, scope: pkg.scope, basename },
          pkg,
        );
      }
    }
  }
}
