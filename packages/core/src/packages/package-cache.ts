import { sql } from "drizzle-orm";
import type { Queryable } from "../db/client.ts";

export type PackageMeta = {
  id: string;
  access: "public" | "restricted";
  rev: number;
  modifiedAt: Date;
  /** The package-level deprecation message (every live version deprecated), for npm-notice. */
  deprecated: string | null;
};

export type TarballMeta = { key: string; size: number; integrity: string };

type Entry = { meta: PackageMeta | null; tarballs: Map<string, TarballMeta | null> };

/** The NOTIFY channel every change to a package is announced on, with the package name as payload. */
export const PACKAGE_CHANGED = "packr_package_changed";

/**
 * What the read hot paths need to know about a package (access, revision, tarball keys), kept in
 * process so a packument or tarball GET costs no query. Correct only while invalidations arrive:
 * every change announces itself with NOTIFY inside its transaction (delivered on commit, to every
 * instance, including this one), and the instance that made the change also drops its entry right
 * after commit so its own next read sees it. Until the listener is up — or while it reconnects —
 * the cache is bypassed; on every (re)subscription it is emptied, since notices may have been lost.
 */
export class PackageCache {
  private readonly entries = new Map<string, Entry>();
  private live = false;
  /**
   * Scopes that hold a local package (the dependency-confusion guard never asks the uplink about
   * them). Loaded once per subscription; a scope can only ever join it (package rows are never
   * deleted), so every change notice just adds its scope — including notices that arrive while
   * the set is being loaded, which `noticedScopes` keeps for the merge.
   */
  private scopes: Set<string> | null = null;
  private readonly noticedScopes = new Set<string>();

  constructor(private readonly maxEntries = 50_000) {}

  /** Called when the NOTIFY subscription is (re)established. */
  resume(): void {
    this.entries.clear();
    this.scopes = null;
    this.live = true;
  }

  /** Called when invalidations can no longer be trusted to arrive. */
  suspend(): void {
    this.live = false;
    this.entries.clear();
    this.scopes = null;
  }

  invalidate(name: string): void {
    this.entries.delete(name);
    if (name.startsWith("@")) {
      const scope = name.slice(1, name.indexOf("/")).toLowerCase();
      this.noticedScopes.add(scope);
      this.scopes?.add(scope);
    }
  }

  /** `undefined`: not known (load the scopes with `setOwnedScopes`, or ask the database). */
  ownsScope(scope: string): boolean | undefined {
    return this.live && this.scopes ? this.scopes.has(scope.toLowerCase()) : undefined;
  }

  setOwnedScopes(scopes: Iterable<string>): void {
    if (!this.live) return;
    const set = new Set([...scopes].map((s) => s.toLowerCase()));
    for (const s of this.noticedScopes) set.add(s);
    this.scopes = set;
  }

  /** `undefined`: not cached; `null`: cached as absent. */
  getMeta(name: string): PackageMeta | null | undefined {
    return this.live ? this.entries.get(name)?.meta : undefined;
  }

  setMeta(name: string, meta: PackageMeta | null): void {
    if (!this.live) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    const entry = this.entries.get(name);
    if (entry) entry.meta = meta;
    else this.entries.set(name, { meta, tarballs: new Map() });
  }

  getTarball(name: string, version: string): TarballMeta | null | undefined {
    return this.live ? this.entries.get(name)?.tarballs.get(version) : undefined;
  }

  /** Only alongside cached metadata: a tarball entry must fall with its package's. */
  setTarball(name: string, version: string, meta: TarballMeta | null): void {
    const entry = this.live ? this.entries.get(name) : undefined;
    if (entry && entry.tarballs.size < 10_000) entry.tarballs.set(version, meta);
  }
}

/** Announce a change to a package; call inside the transaction that makes it. */
export async function announcePackageChange(tx: Queryable, name: string): Promise<void> {
  await tx.execute(sql`select pg_notify(${PACKAGE_CHANGED}, ${name})`);
}
