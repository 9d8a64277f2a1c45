export type PackumentBytes = { plain: Uint8Array; gzip: Uint8Array };

/**
 * Assembled packuments of this process, keyed by what names their bytes exactly (package id,
 * revision, kind, base URL). A key can never hold stale bytes: a change bumps the revision, so a
 * changed package simply misses. Concurrent misses for one key share one build, so the first burst
 * of CI jobs after a publish assembles the document once. Bounded by total size, least recently
 * used first.
 */
export class PackumentCache {
  private readonly entries = new Map<string, PackumentBytes>();
  private readonly building = new Map<string, Promise<PackumentBytes | null>>();
  private size = 0;

  constructor(private readonly maxBytes = 128 * 1024 * 1024) {}

  async getOrBuild(
    key: string,
    build: () => Promise<PackumentBytes | null>,
  ): Promise<PackumentBytes | null> {
    const hit = this.entries.get(key);
    if (hit) {
      // Re-insert to mark as recently used (a Map iterates in insertion order).
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const pending = this.building.get(key);
    if (pending) return pending;
    const promise = build()
      .then((value) => {
        if (value) this.set(key, value);
        return value;
      })
      .finally(() => this.building.delete(key));
    this.building.set(key, promise);
    return promise;
  }

  private set(key: string, value: PackumentBytes): void {
    const cost = value.plain.byteLength + value.gzip.byteLength;
    if (cost > this.maxBytes / 4) return;
    this.entries.set(key, value);
    this.size += cost;
    for (const [old, bytes] of this.entries) {
      if (this.size <= this.maxBytes) break;
      this.entries.delete(old);
      this.size -= bytes.plain.byteLength + bytes.gzip.byteLength;
    }
  }
}
