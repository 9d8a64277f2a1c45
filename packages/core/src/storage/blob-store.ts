import { createHash } from "node:crypto";

/**
 * Where tarballs live. Keys are content-addressed (see `tarballKey`), so writing the same bytes
 * twice is harmless and a retried publish never leaves a half-written object behind a name.
 */
export interface BlobStore {
  readonly kind: "fs" | "s3";
  /** Store bytes under a key; replaces an existing object with the same key. */
  put(key: string, bytes: Uint8Array, contentType?: string): Promise<void>;
  /**
   * Store a local file's bytes under a key without reading them into memory (a large tarball from
   * the uplink, verified on disk first). As atomic as `put`: the key never names a partial
   * object. The file may be moved away; the caller deletes it if it is still there.
   */
  putFile(key: string, file: string, contentType?: string): Promise<void>;
  /** A stream of the object's bytes, or null when there is none. */
  get(key: string): Promise<ReadableStream<Uint8Array> | null>;
  exists(key: string): Promise<boolean>;
  /**
   * Every object whose key starts with `prefix`, with when it was last written: what the blob
   * sweeper walks. Unordered; objects written during the walk may or may not appear.
   */
  list(prefix: string): AsyncIterable<StoredBlob>;
  /** Delete an object; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /**
   * A short-lived URL a client can fetch the object from directly, when the store supports it and
   * is configured to hand out redirects; null means "stream it through the registry".
   */
  downloadUrl(key: string, filename: string): Promise<string | null>;
  /** Cheap reachability probe for /health. */
  check(): Promise<void>;
}

export type StoredBlob = { key: string; modifiedAt: Date };

/** `tarballs/ab/cd/<sha512 hex>.tgz`: the digest spreads keys over prefixes and names the bytes. */
export function tarballKey(sha512Hex: string): string {
  return `tarballs/${sha512Hex.slice(0, 2)}/${sha512Hex.slice(2, 4)}/${sha512Hex}.tgz`;
}

export function sha512Hex(bytes: Uint8Array): string {
  return createHash("sha512").update(bytes).digest("hex");
}
