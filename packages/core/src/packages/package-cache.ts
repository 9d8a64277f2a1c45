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

type Entry = { meta: PackageMeta | null; tarballs: Map<string, TarballMeta>; bytes: number };

/** Rough heap cost of an entry and of one tarball row in it (UTF-16 strings plus object overhead). */
const entryBytes = (name: string) => 240 + 2 * name.length;
const tarballBytes = (version: string, t: TarballMeta) =>
  160 + 2 * (version.length + t.key.length + t.integrity.length);

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
  private bytes = 0;

  /** Bounded by an estimate of the heap it holds; the least recently cached packages go first. */
  constructor(private readonly maxBytes = 32 * 1024 * 1024) {}

  /** The estimated heap held, for tests and metrics. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  /** Called when the NOTIFY subscription is (re)established. */
  resume(): void {
    this.clear();
    this.scopes = null;
    this.live = true;
  }

  /** Called when invalidations can no longer be trusted to arrive. */
  suspend(): void {
    this.live = false;
    this.clear();
    this.scopes = null;
  }

  private clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private drop(name: string): void {
    const entry = this.entries.get(name);
    if (!entry) return;
    this.entries.delete(name);
    this.bytes -= entry.bytes;
  }

  private evictToBudget(): void {
    for (const name of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.drop(name);
    }
  }

  invalidate(name: string): void {
    this.drop(name);
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
    const entry = this.entries.get(name);
    if (entry) {
      entry.meta = meta;
      return;
    }
    const bytes = entryBytes(name);
    this.entries.set(name, { meta, tarballs: new Map(), bytes });
    this.bytes += bytes;
    this.evictToBudget();
  }

  /** `undefined`: not cached (ask the database). Misses are never cached. */
  getTarball(name: string, version: string): TarballMeta | undefined {
    return this.live ? this.entries.get(name)?.tarballs.get(version) : undefined;
  }

  /**
   * Only alongside cached metadata (a tarball entry must fall with its package's), and only for
   * versions that exist: caching misses would let anyone grow the cache with made-up versions.
   */
  setTarball(name: string, version: string, meta: TarballMeta): void {
    const entry = this.live ? this.entries.get(name) : undefined;
    if (!entry || entry.tarballs.has(version)) return;
    const bytes = tarballBytes(version, meta);
    entry.tarballs.set(version, meta);
    entry.bytes += bytes;
    this.bytes += bytes;
    this.evictToBudget();
  }
}

/** Announce a change to a package; call inside the transaction that makes it. */
export async function announcePackageChange(tx: Queryable, name: string): Promise<void> {
  await tx.execute(sql`select pg_notify(${PACKAGE_CHANGED}, ${name})`);
}
