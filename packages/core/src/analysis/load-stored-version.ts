import { and, eq, isNull } from "drizzle-orm";
import type { Deps } from "../context.ts";
import { packages, versions } from "../db/schema/index.ts";
import { readTarball, type TarballContents } from "./read-tarball.ts";

export type StoredVersion = {
  name: string;
  manifest: (typeof versions.$inferSelect)["manifest"];
  readme: string | null;
  tarballSize: number;
  contents: TarballContents;
};

/**
 * A live version's row and the files of its stored tarball, for the jobs that read them (analysis,
 * AI docs). Null when the version was unpublished or its blob is gone since the job was committed:
 * the job then has nothing to do.
 */
export async function loadStoredVersion(
  deps: Deps,
  payload: { packageId: string; version: string },
): Promise<StoredVersion | null> {
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
  const contents = await readTarball(new Uint8Array(await new Response(stream).arrayBuffer()));
  return {
    name: row.name,
    manifest: row.manifest,
    readme: row.readme,
    tarballSize: row.tarballSize,
    contents,
  };
}
