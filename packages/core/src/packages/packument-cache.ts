/**
 * Bytes of recently served packuments, keyed by ETag. An ETag names exact bytes, so an entry can
 * never be stale: the per-request metadata query says which ETag is current, and a changed package
 * simply misses. Bounded by total size; the least recently used entries go first.
 */
export class PackumentCache {
  private readonly entries = new Map<string, { plain: Uint8Array; gzip: Uint8Array }>();
  private size = 0;

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  get(etag: string): { plain: Uint8Array; gzip: Uint8Array } | undefined {
    const hit = this.entries.get(etag);
    if (hit) {
      // Re-insert to mark as recently used (Map keeps insertion order).
      this.entries.delete(etag);
      this.entries.set(etag, hit);
    }
    return hit;
  }

  set(etag: string, value: { plain: Uint8Array; gzip: Uint8Array }): void {
    const cost = value.plain.byteLength + value.gzip.byteLength;
    if (cost > this.maxBytes / 4 || this.entries.has(etag)) return;
    this.entries.set(etag, value);
    this.size += cost;
    for (const [key, old] of this.entries) {
      if (this.size <= this.maxBytes) break;
      this.entries.delete(key);
      this.size -= old.plain.byteLength + old.gzip.byteLength;
    }
  }
}
