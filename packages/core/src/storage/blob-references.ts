import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Database, Queryable, Tx } from "../db/client.ts";
import { uplinkTarballs, versions } from "../db/schema/index.ts";
import type { BlobStore } from "./blob-store.ts";

/**
 * Who may still need a tarball blob. Blobs are content-addressed and shared: a published version
 * of any package and a cached uplink tarball with the same bytes have the same key, so "this
 * version is gone" never means "these bytes are unused". Sharing is kept (rather than keying blobs
 * per package) because identical bytes are common between a mirror and its local forks, a
 * retried publish must land on the same object, and the existing store and rows already rely on
 * one address per content. Instead every delete asks all users of a key:
 *
 * - a live (not unpublished) version of any package;
 * - a row of the uplink tarball cache (`uplink_tarballs`), which serves the bytes without asking
 *   the uplink again.
 *
 * Writers and the deleter serialise on a per-key advisory lock, so a blob can never be deleted
 * between a writer's "the bytes are stored" and its row being committed: the deleter checks and
 * deletes under the lock, and a writer, under the same lock in the transaction that commits its
 * row, stores the bytes again if a deleter got there first.
 */
export async function blobInUse(db: Queryable, key: string): Promise<boolean> {
  const [version] = await db
    .select({ one: sql<number>`1` })
    .from(versions)
    .where(and(eq(versions.tarballKey, key), isNull(versions.unpublishedAt)))
    .limit(1);
  if (version) return true;
  const [cached] = await db
    .select({ one: sql<number>`1` })
    .from(uplinkTarballs)
    .where(eq(uplinkTarballs.tarballKey, key))
    .limit(1);
  return cached !== undefined;
}

/**
 * Take the key's lock for the rest of the transaction (class id keeps it apart from other locks).
 * Every writer of a row naming a blob and every deleter of a blob (unpublish, the orphan sweeper)
 * takes it, so no blob is deleted between "stored" and "its row committed".
 */
export async function lockBlobKey(tx: Tx, key: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${BLOB_LOCK_CLASS}::int, hashtext(${key}))`);
}
const BLOB_LOCK_CLASS = 0x7062; // "pb"

/**
 * In the transaction that commits a row using `key`: hold the key's lock until commit and make
 * sure the bytes are in the store (a concurrent delete may have removed them after this writer
 * stored them but before its row existed).
 */
export async function holdBlob(
  tx: Tx,
  store: BlobStore,
  key: string,
  bytes: Uint8Array,
): Promise<void> {
  await lockBlobKey(tx, key);
  if (!(await store.exists(key))) await store.put(key, bytes, "application/octet-stream");
}

/**
 * Delete each blob no one uses any more (see `blobInUse`), each under its key's lock. Returns the
 * keys deleted. Deleting a missing blob is not an error.
 */
export async function deleteUnusedBlobs(
  db: Database,
  store: BlobStore,
  keys: Iterable<string>,
): Promise<string[]> {
  const deleted: string[] = [];
  for (const key of new Set(keys)) {
    const gone = await db.transaction(async (tx) => {
      await lockBlobKey(tx, key);
      if (await blobInUse(tx, key)) return false;
      await store.delete(key);
      return true;
    });
    if (gone) deleted.push(key);
  }
  return deleted;
}

/** Of `keys`, those some live version or uplink cache row uses: one pair of queries for a batch. */
export async function usedBlobKeys(db: Queryable, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const local = await db
    .selectDistinct({ key: versions.tarballKey })
    .from(versions)
    .where(and(inArray(versions.tarballKey, keys), isNull(versions.unpublishedAt)));
  const cached = await db
    .selectDistinct({ key: uplinkTarballs.tarballKey })
    .from(uplinkTarballs)
    .where(inArray(uplinkTarballs.tarballKey, keys));
  return new Set([...local, ...cached].map((r) => r.key));
}
