import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gzip as gzipCb } from "node:zlib";
import { and, asc, eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import {
  distTags,
  packageMaintainers,
  packageStars,
  packages,
  users,
  versions,
} from "../db/schema/index.ts";
import type { PackageName } from "./names.ts";
import { assemblePackument, type PackumentKind } from "./packument.ts";
import type { PackumentBytes } from "./packument-cache.ts";

const gzip = promisify(gzipCb);

/** The opaque `_rev` npm echoes back: the change counter plus a digest so it is not guessable-looking. */
export const revString = (packageId: string, rev: number): string =>
  `${rev}-${createHash("md5").update(`${packageId}:${rev}`).digest("hex")}`;

/**
 * Read a package's rows in one snapshot and assemble one packument document, plain and gzipped.
 * Returns null when the package is gone or has changed past `rev` (the caller's ETag would no
 * longer name these bytes). Linear in the number of versions, and only run on a cache miss.
 */
export async function buildPackument(
  db: Database,
  args: { packageId: string; rev: number; name: PackageName; kind: PackumentKind; baseUrl: string },
): Promise<PackumentBytes | null> {
  const text = await db.transaction(
    async (tx) => {
      const [pkg] = await tx
        .select({
          rev: packages.rev,
          createdAt: packages.createdAt,
          modifiedAt: packages.modifiedAt,
        })
        .from(packages)
        .where(eq(packages.id, args.packageId));
      if (!pkg || pkg.rev !== args.rev) return null;
      const jsonColumn = args.kind === "full" ? versions.fullJson : versions.abbreviatedJson;
      const [entries, tags, owners, stars] = await Promise.all([
        tx
          .select({
            version: versions.version,
            publishedAt: versions.publishedAt,
            unpublishedAt: versions.unpublishedAt,
            json: jsonColumn,
          })
          .from(versions)
          .where(eq(versions.packageId, args.packageId))
          .orderBy(asc(versions.publishedAt), asc(versions.id)),
        tx
          .select({ tag: distTags.tag, version: distTags.version })
          .from(distTags)
          .where(eq(distTags.packageId, args.packageId)),
        args.kind === "full"
          ? tx
              .select({ name: users.name, email: users.email })
              .from(packageMaintainers)
              .innerJoin(users, eq(users.id, packageMaintainers.userId))
              .where(eq(packageMaintainers.packageId, args.packageId))
              .orderBy(asc(packageMaintainers.createdAt))
          : Promise.resolve([]),
        args.kind === "full"
          ? tx
              .select({ name: users.name })
              .from(packageStars)
              .innerJoin(users, eq(users.id, packageStars.userId))
              .where(eq(packageStars.packageId, args.packageId))
              .orderBy(asc(users.name))
          : Promise.resolve([]),
      ]);
      const tagMap = Object.fromEntries(tags.map((t) => [t.tag, t.version]));
      const latestVersion = tagMap.latest;
      const [latest] =
        args.kind === "full" && latestVersion
          ? await tx
              .select({ manifest: versions.manifest, readme: versions.readme })
              .from(versions)
              .where(
                and(eq(versions.packageId, args.packageId), eq(versions.version, latestVersion)),
              )
          : [];
      return assemblePackument({
        kind: args.kind,
        name: args.name,
        createdAt: pkg.createdAt,
        modifiedAt: pkg.modifiedAt,
        rev: revString(args.packageId, pkg.rev),
        entries,
        distTags: tagMap,
        // npm prints `name <email>`; an empty email reads better there than "undefined".
        maintainers: owners.map((o) => ({ name: o.name, email: o.email ?? "" })),
        starredBy: stars.map((s) => s.name),
        latest: latest ?? null,
        baseUrl: args.baseUrl,
      });
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
  if (text === null) return null;
  const plain = Buffer.from(text);
  return { plain, gzip: await gzip(plain) };
}
