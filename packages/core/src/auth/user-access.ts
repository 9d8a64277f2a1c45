import { and, eq, sql } from "drizzle-orm";
import type { ServiceContext } from "../context.ts";
import type { Database, Queryable } from "../db/client.ts";
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

/** The NOTIFY channel on which a change of someone's org roles, teams or grants is announced. */
export const ACCESS_CHANGED = "packr_access_changed";

/**
 * Announce, inside the changing transaction, that these users' access (org roles, team
 * membership, team grants, maintainership) changed: at commit every instance drops what it
 * cached for them, so their tokens act with the new rights at once (and within 5 s at worst).
 */
export async function announceAccessChange(
  tx: Queryable,
  userIds: readonly string[],
): Promise<void> {
  if (userIds.length === 0) return;
  await tx.execute(sql`select pg_notify(${ACCESS_CHANGED}, ${userIds.join(",")})`);
}

/** After commit, on this instance: it must not wait for its own NOTIFY to see its own change. */
export function forgetAccess(ctx: ServiceContext, userIds: readonly string[]): void {
  ctx.deps.access.forget(userIds);
}

/**
 * What one person may read, as of when it was loaded: everything the read rule needs beyond the
 * package row, so a restricted packument GET asks no query once this is cached.
 */
export type UserAccess = {
  /** Org roles by org name (the scope without `@`, lower-case). */
  orgRoles: ReadonlyMap<string, OrgRole>;
  /** The strongest team grant the person holds, by package id (only grants inside the team's org scope). */
  teamGrants: ReadonlyMap<string, TeamPermission>;
  /** Ids of the packages the person maintains. */
  maintains: ReadonlySet<string>;
  /** The person's own scope (their name, lower-case), unless an org holds that name. */
  ownScope: string | null;
};

/**
 * How long a snapshot is trusted without a notice: the hard bound on how late a removal or a
 * lowered role is seen by an instance that missed the NOTIFY. 4 s of age plus the query that
 * loaded it stays within the 5 s promised.
 */
export const ACCESS_TTL_MS = 4_000;
const MAX_ENTRIES = 50_000;

type Entry = { access: UserAccess; loadedAt: number };

/**
 * Per-instance cache of `UserAccess`. Dropped per user on `packr_access_changed` (announced by
 * every change of org roles, teams, grants and maintainers, delivered at commit to every instance)
 * and wholesale whenever the subscription is (re)established or lost. Unlike the package cache it
 * keeps caching while the listener is down: every entry expires after `ACCESS_TTL_MS` anyway, so
 * a lost notice costs at most that much delay, never a stale grant beyond it.
 */
export class AccessCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, { epoch: number; promise: Promise<UserAccess> }>();
  /** Bumped by every invalidation: a load that started before one must not be cached after it. */
  private epoch = 0;

  constructor(
    private readonly db: Database,
    private readonly clock: () => number = Date.now,
  ) {}

  async get(userId: string): Promise<UserAccess> {
    const hit = this.entries.get(userId);
    if (hit && this.clock() - hit.loadedAt < ACCESS_TTL_MS) return hit.access;
    const pending = this.loading.get(userId);
    if (pending && pending.epoch === this.epoch) return pending.promise;
    const epoch = this.epoch;
    const loadedAt = this.clock();
    const promise = loadUserAccess(this.db, userId).then(
      (access) => {
        if (this.loading.get(userId)?.promise === promise) this.loading.delete(userId);
        if (epoch === this.epoch) {
          if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
          this.entries.set(userId, { access, loadedAt });
        }
        return access;
      },
      (err: unknown) => {
        if (this.loading.get(userId)?.promise === promise) this.loading.delete(userId);
        throw err;
      },
    );
    this.loading.set(userId, { epoch, promise });
    return promise;
  }

  /** Drop these users' snapshots (a notice's payload, or this instance's own change). */
  forget(userIds: Iterable<string>): void {
    this.epoch++;
    for (const id of userIds) {
      this.entries.delete(id);
      this.loading.delete(id);
    }
  }

  /** Drop everything: notices may have been missed (subscription (re)established or lost). */
  clear(): void {
    this.epoch++;
    this.entries.clear();
    this.loading.clear();
  }

  /** The NOTIFY payload: comma-separated user ids. */
  onNotify(payload: string): void {
    this.forget(payload.split(",").filter((id) => id !== ""));
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Four small indexed queries: org roles, team grants, maintained packages, own scope. */
export async function loadUserAccess(db: Queryable, userId: string): Promise<UserAccess> {
  const roleRows = await db
    .select({ org: orgs.name, role: orgMembers.role })
    .from(orgMembers)
    .innerJoin(orgs, eq(orgs.id, orgMembers.orgId))
    .where(eq(orgMembers.userId, userId));
  // A grant reaches only packages of its team's org scope, whatever the rows say.
  const grantRows = await db
    .select({ packageId: teamPackages.packageId, permission: teamPackages.permission })
    .from(teamMembers)
    .innerJoin(teams, eq(teams.id, teamMembers.teamId))
    .innerJoin(orgs, eq(orgs.id, teams.orgId))
    .innerJoin(teamPackages, eq(teamPackages.teamId, teams.id))
    .innerJoin(
      packages,
      and(eq(packages.id, teamPackages.packageId), sql`lower(${packages.scope}) = ${orgs.name}`),
    )
    .where(eq(teamMembers.userId, userId));
  const maintained = await db
    .select({ packageId: packageMaintainers.packageId })
    .from(packageMaintainers)
    .where(eq(packageMaintainers.userId, userId));
  const [own] = await db
    .select({
      name: users.name,
      taken: sql<boolean>`exists (select 1 from orgs o, users me where me.id = ${userId} and o.name = lower(me.name))`,
    })
    .from(users)
    .where(eq(users.id, userId));
  const orgRoles = new Map<string, OrgRole>();
  for (const r of roleRows) orgRoles.set(r.org.toLowerCase(), r.role);
  const teamGrants = new Map<string, TeamPermission>();
  for (const g of grantRows) {
    if (teamGrants.get(g.packageId) !== "read-write") teamGrants.set(g.packageId, g.permission);
  }
  return {
    orgRoles,
    teamGrants,
    maintains: new Set(maintained.map((m) => m.packageId)),
    ownScope: own && !own.taken ? own.name.toLowerCase() : null,
  };
}
