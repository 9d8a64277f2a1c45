import type { RateLimit } from "../auth/rate-limiter.ts";
import type { UplinkConfig } from "../config/config.ts";
import type { PackumentKind } from "../packages/packument.ts";
import type { PackumentBytes } from "../packages/packument-cache.ts";
import type { VersionIndex } from "./rewrite-document.ts";
import { DEFAULT_ANONYMOUS_MISS_LIMIT } from "./uplink-miss-limit.ts";

/** Where the uplink says a version's tarball is, and what its bytes must hash to. */
export type UpstreamDist = { url: string; integrity: string | null; shasum: string | null };

/** One uplink document as this process serves it: rewritten, gzipped, with its validators. */
export type ProxiedDoc = {
  name: string;
  kind: PackumentKind;
  /** Our ETag (weak): names these bytes exactly, like a local packument's. */
  etag: string;
  modifiedAt: Date;
  bytes: PackumentBytes;
  /** The public URL the tarball URLs were built from. */
  baseUrl: string;
  /** When the uplink last confirmed the document (ms since the epoch). */
  checkedAt: number;
  upstreamEtag: string | null;
  upstreamLastModified: string | null;
  dists: ReadonlyMap<string, UpstreamDist>;
  /** Each version's manifest as byte offsets into `bytes.plain`: a version GET parses only it. */
  versions: VersionIndex;
  distTags: Readonly<Record<string, string>>;
};

export type StoredTarball = { key: string; size: number; integrity: string };

const docKey = (name: string, kind: PackumentKind) => `${kind === "full" ? "f" : "a"}:${name}`;

/**
 * The uplink as this process knows it: its configuration, and in-process caches that keep the hot
 * paths free of queries for proxied packages — rewritten documents (bounded by size), tarball
 * blob keys, recent 404s and recent failures. Concurrent misses for one document or tarball share
 * one uplink request. The database (`uplink_cache`, `uplink_tarballs`) is the shared truth between
 * instances; these maps only save work.
 */
export class Uplink {
  readonly url: string;
  readonly maxAgeMs: number;
  readonly timeoutMs: number;
  readonly privateScopes: ReadonlySet<string>;
  /** Uplink misses an anonymous address may cause (see assertMayMissUplink); null = no limit. */
  readonly anonymousMissLimit: RateLimit | null;

  private readonly docs = new Map<string, ProxiedDoc>();
  private docBytes = 0;
  private readonly tarballs = new Map<string, StoredTarball>();
  private readonly missing = new Map<string, number>();
  private readonly failedAt = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(
    config: UplinkConfig,
    privateScopes: readonly string[] = [],
    private readonly maxDocBytes = 64 * 1024 * 1024,
  ) {
    const perMinute = config.anonymousMissesPerMinute ?? DEFAULT_ANONYMOUS_MISS_LIMIT.limit;
    this.anonymousMissLimit =
      perMinute === 0
        ? null
        : { limit: perMinute, windowMs: DEFAULT_ANONYMOUS_MISS_LIMIT.windowMs };
    this.url = config.url;
    this.maxAgeMs = config.maxAgeMs;
    this.timeoutMs = config.timeoutMs;
    this.privateScopes = new Set(privateScopes.map((s) => s.replace(/^@/, "").toLowerCase()));
  }

  getDoc(name: string, kind: PackumentKind): ProxiedDoc | undefined {
    const key = docKey(name, kind);
    const hit = this.docs.get(key);
    if (hit) {
      this.docs.delete(key);
      this.docs.set(key, hit);
    }
    return hit;
  }

  setDoc(doc: ProxiedDoc): void {
    const key = docKey(doc.name, doc.kind);
    this.dropDoc(key);
    const cost = doc.bytes.plain.byteLength + doc.bytes.gzip.byteLength;
    // One large document (npmjs's biggest are tens of MB) may take half the budget: rebuilding
    // it from the stored row on every request would cost far more than it saves.
    if (cost > this.maxDocBytes / 2) return;
    this.docs.set(key, doc);
    this.docBytes += cost;
    for (const [old, d] of this.docs) {
      if (this.docBytes <= this.maxDocBytes) break;
      this.dropDoc(old, d);
    }
  }

  private dropDoc(key: string, doc = this.docs.get(key)): void {
    if (!doc) return;
    this.docs.delete(key);
    this.docBytes -= doc.bytes.plain.byteLength + doc.bytes.gzip.byteLength;
  }

  /** Forget everything about a name (the uplink answered 404, or a local package took it over). */
  forget(name: string): void {
    this.dropDoc(docKey(name, "full"));
    this.dropDoc(docKey(name, "abbreviated"));
    for (const key of this.tarballs.keys()) {
      if (key.startsWith(`${name}@`) && !key.slice(name.length + 1).includes("@")) {
        this.tarballs.delete(key);
      }
    }
  }

  getTarball(name: string, version: string): StoredTarball | undefined {
    return this.tarballs.get(`${name}@${version}`);
  }

  setTarball(name: string, version: string, tarball: StoredTarball): void {
    if (this.tarballs.size >= 100_000) {
      const oldest = this.tarballs.keys().next().value;
      if (oldest !== undefined) this.tarballs.delete(oldest);
    }
    this.tarballs.set(`${name}@${version}`, tarball);
  }

  /**
   * A 404 from the uplink is remembered briefly (npm asks twice for a missing name: corgi, then
   * full), never longer than the max age.
   */
  isKnownMissing(name: string, now: number): boolean {
    const at = this.missing.get(name);
    if (at === undefined) return false;
    if (now - at < Math.min(this.maxAgeMs, 30_000)) return true;
    this.missing.delete(name);
    return false;
  }

  noteMissing(name: string, now: number): void {
    if (this.missing.size >= 10_000) this.missing.clear();
    this.missing.set(name, now);
  }

  /**
   * After a failed revalidation, requests for that name are served from the cache for a while
   * without waiting on the uplink again, so a slow uplink costs one timeout, not one per request.
   */
  inBackoff(name: string, now: number): boolean {
    const at = this.failedAt.get(name);
    if (at === undefined) return false;
    if (now - at < Math.min(this.maxAgeMs, 30_000)) return true;
    this.failedAt.delete(name);
    return false;
  }

  noteFailure(name: string, now: number): void {
    if (this.failedAt.size >= 10_000) this.failedAt.clear();
    this.failedAt.set(name, now);
  }

  noteSuccess(name: string): void {
    this.failedAt.delete(name);
  }

  /** Run `work` once for concurrent callers with the same key. */
  shared<T>(key: string, work: () => Promise<T>): Promise<T> {
    const pending = this.inflight.get(key) as Promise<T> | undefined;
    if (pending) return pending;
    const promise = work().finally(() => this.inflight.delete(key));
    this.inflight.set(key, promise);
    return promise;
  }
}
