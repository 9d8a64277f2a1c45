import { and, eq, isNull } from "drizzle-orm";
import type { Deps } from "../context.ts";
import { packages, versions } from "../db/schema/index.ts";

export type StoredTarball = {
  name: string;
  manifest: (typeof versions.$inferSelect)["manifest"];
  readme: string | null;
  tarballSize: number;
  /** The stored `.tgz` as published. */
  tarball: Uint8Array;
};

/**
 * A live version's row and the bytes of its stored tarball, for the jobs that read them (analysis,
 * AI docs). Null when the version was unpublished or its blob is gone since the job was committed:
 * the job then has nothing to do.
 */
export async function loadStoredTarball(
  deps: Deps,
  payload: { packageId: string; version: string },
): Promise<StoredTarball | null> {
  const [row] = await deps.db
    .select({
      name: packages.name,
      manifest: versions.manifest,
      readme: versions.readme,
      tarballKey: versions.tarballKey,
      tarballSize: versions.tarballSize,
    })
    .from(versions)
    .innerJoin(packages, eq(packages.id, versions.packageId))
    .where(
      and(
        eq(versions.packageId, payload.packageId),
        eq(versions.version, payload.version),
        isNull(versions.unpublishedAt),
      ),
    );
  if (!row) return null;
  const stream = await deps.blobStore.get(row.tarballKey);
  if (!stream) return null;
  const { tarballKey: _key, ...rest } = row;
  return { ...rest, tarball: new Uint8Array(await new Response(stream).arrayBuffer()) };
}
