/**
 * Tarball bytes of this process, by blob key: a CI fleet installs the same few hundred tarballs
 * over and over, and answering them from memory skips a file open and a stream per request
 * (~4x less CPU per tarball GET, see bench/RESULTS.md). Keys are content-addressed, so an entry
 * can never be stale; whether a version may still be served is decided before the lookup.
 * Bounded by total size, least recently used first; large tarballs are not kept.
 */
export class TarballCache {
  private readonly entries = new Map<string, Uint8Array>();
  private size = 0;

  constructor(
    private readonly maxBytes = 64 * 1024 * 1024,
    /** Larger tarballs stream from the store every time. */
    readonly maxItemBytes = 1024 * 1024,
  ) {}

  get(key: string): Uint8Array | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      // Re-insert to mark as recently used (a Map iterates in insertion order).
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, bytes: Uint8Array): void {
    if (bytes.byteLength > this.maxItemBytes || this.entries.has(key)) return;
    this.entries.set(key, bytes);
    this.size += bytes.byteLength;
    for (const [old, b] of this.entries) {
      if (this.size <= this.maxBytes) break;
      this.entries.delete(old);
      this.size -= b.byteLength;
    }
  }
}
