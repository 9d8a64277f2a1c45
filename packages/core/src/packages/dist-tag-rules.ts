import { and, eq, isNull } from "drizzle-orm";
import semver from "semver";
import type { Queryable } from "../db/client.ts";
import { distTags, versions } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";

const TAG = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * A dist-tag name as publish accepts it: letters, digits, `.`, `_`, `-`, at most 64 characters, and
 * never something npm would read as a version range (`1`, `x`, `^2`), which would make
 * `npm install pkg@<tag>` ambiguous.
 */
export function assertTagName(tag: string): void {
  if (!TAG.test(tag) || tag.length > 64 || semver.validRange(tag) !== null) {
    throw new PackrError(
      "VALIDATION",
      `"${tag.slice(0, 64)}" is not a valid dist-tag: use letters, digits, ".", "_" or "-", and nothing that reads as a version range.`,
    );
  }
}

/** The package's tags that point at live versions (a tag on a tombstone is never served). */
export async function liveDistTags(
  db: Queryable,
  packageId: string,
): Promise<Record<string, string>> {
  const rows = await db
    .select({ tag: distTags.tag, version: distTags.version })
    .from(distTags)
    .innerJoin(
      versions,
      and(eq(versions.packageId, distTags.packageId), eq(versions.version, distTags.version)),
    )
    .where(and(eq(distTags.packageId, packageId), isNull(versions.unpublishedAt)))
    .orderBy(distTags.tag);
  return Object.fromEntries(rows.map((r) => [r.tag, r.version]));
}

/**
 * Where `latest` goes when its version disappears: the highest live release, else the highest live
 * prerelease, else nowhere (a package with no live version has no tags).
 */
export function pickLatest(live: readonly string[]): string | null {
  const valid = live.filter((v) => semver.valid(v) !== null);
  const releases = valid.filter((v) => semver.prerelease(v) === null);
  const pool = releases.length > 0 ? releases : valid;
  return pool.sort(semver.compare).at(-1) ?? null;
}
