import { and, eq, inArray, isNull } from "drizzle-orm";
import { isAdminToken } from "../auth/policy.ts";
import type { ServiceContext, TokenActor, Tx } from "../context.ts";
import { distTags, versions } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { deleteUnusedBlobs } from "../storage/blob-references.ts";
import { revString } from "./build-packument.ts";
import { pickLatest } from "./dist-tag-rules.ts";
import type { PackageName } from "./names.ts";
import { forgetPackage, type PackageRow } from "./package-change.ts";

/**
 * How long after its publish a version may be unpublished (npm's own rule). Hard-coded until the
 * config schema grows a setting for it; administrators are not bound by it.
 */
export const UNPUBLISH_WINDOW_HOURS = 72;
const UNPUBLISH_WINDOW_MS = UNPUBLISH_WINDOW_HOURS * 3600 * 1000;

export type VersionRow = { version: string; publishedAt: Date; tarballKey: string };

/** Refuse when any of the versions is older than the unpublish window, saying why and what instead. */
export function assertWithinUnpublishWindow(
  token: TokenActor,
  name: PackageName,
  rows: readonly VersionRow[],
  now: Date,
): void {
  if (isAdminToken(token)) return;
  const tooOld = rows
    .filter((r) => now.getTime() - r.publishedAt.getTime() > UNPUBLISH_WINDOW_MS)
    .sort((a, b) => a.publishedAt.getTime() - b.publishedAt.getTime());
  const [oldest] = tooOld;
  if (!oldest) return;
  const spec = `${name.name}@${oldest.version}`;
  throw new PackrError(
    "FORBIDDEN",
    `${spec} was published on ${oldest.publishedAt.toISOString()}, more than ${UNPUBLISH_WINDOW_HOURS} hours ago, and can no longer be unpublished: others may depend on it. Deprecate it instead: npm deprecate ${spec} "<reason>"`,
    {
      details: {
        version: oldest.version,
        publishedAt: oldest.publishedAt.toISOString(),
        windowHours: UNPUBLISH_WINDOW_HOURS,
      },
    },
  );
}

/** The package's live versions, for the package locked in `tx`. */
export async function liveVersions(tx: Tx, pkg: PackageRow): Promise<VersionRow[]> {
  return tx
    .select({
      version: versions.version,
      publishedAt: versions.publishedAt,
      tarballKey: versions.tarballKey,
    })
    .from(versions)
    .where(and(eq(versions.packageId, pkg.id), isNull(versions.unpublishedAt)));
}

/**
 * Turn versions into tombstones (the row stays, so the number is never reused), drop the tags
 * that pointed at them, and re-point `latest` at the highest remaining release (else prerelease).
 */
export async function tombstone(
  tx: Tx,
  pkg: PackageRow,
  gone: readonly VersionRow[],
  remaining: readonly string[],
  now: Date,
): Promise<{ latest: string | null }> {
  const names = gone.map((r) => r.version);
  await tx
    .update(versions)
    .set({ unpublishedAt: now })
    .where(and(eq(versions.packageId, pkg.id), inArray(versions.version, names)));
  const dropped = await tx
    .delete(distTags)
    .where(and(eq(distTags.packageId, pkg.id), inArray(distTags.version, names)))
    .returning({ tag: distTags.tag });
  const [current] = await tx
    .select({ version: distTags.version })
    .from(distTags)
    .where(and(eq(distTags.packageId, pkg.id), eq(distTags.tag, "latest")));
  if (current || !dropped.some((d) => d.tag === "latest")) {
    return { latest: current?.version ?? null };
  }
  const latest = pickLatest(remaining);
  if (latest) {
    await tx.insert(distTags).values({
      packageId: pkg.id,
      tag: "latest",
      version: latest,
      createdAt: now,
      updatedAt: now,
    });
  }
  return { latest };
}

/**
 * After commit: delete the blobs of unpublished tarballs. Keys are content addresses shared by
 * every version with the same bytes, in any package, and by the uplink tarball cache, so a blob
 * goes only when nothing uses it any more (`deleteUnusedBlobs`). Returns the keys deleted.
 */
export async function releaseTarballs(
  ctx: ServiceContext,
  keys: readonly string[],
): Promise<string[]> {
  return deleteUnusedBlobs(ctx.deps.db, ctx.deps.blobStore, keys);
}

export type UnpublishResult = { ok: true; id: string; rev: string; unpublished: string[] };

/**
 * After an unpublish transaction: let this instance see it, release the blobs, and answer. Blob
 * release is best effort: the tombstone is committed, and a blob left behind is unreachable (npm's
 * step-5 DELETE removes it too).
 */
export async function finishUnpublish(
  ctx: ServiceContext,
  name: PackageName,
  result: {
    id: string;
    rev: number;
    gone: readonly { version: string; tarballKey: string }[];
    changed: boolean;
  },
): Promise<UnpublishResult> {
  if (result.changed) {
    forgetPackage(ctx, name);
    await releaseTarballs(
      ctx,
      result.gone.map((v) => v.tarballKey),
    ).catch(() => []);
  }
  return {
    ok: true,
    id: name.name,
    rev: revString(result.id, result.rev),
    unpublished: result.gone.map((v) => v.version),
  };
}
