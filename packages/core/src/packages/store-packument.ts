import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gzip as gzipCb } from "node:zlib";
import { asc, eq } from "drizzle-orm";
import type { Queryable } from "../db/client.ts";
import {
  distTags,
  packageMaintainers,
  type packages,
  packuments,
  users,
  versions,
} from "../db/schema/index.ts";
import type { PackageName } from "./names.ts";
import { buildPackuments } from "./packument.ts";

const gzip = promisify(gzipCb);

type PackageRow = typeof packages.$inferSelect;

export type StoredPackument = typeof packuments.$inferSelect;

/** Weak, because the same representation is served gzipped and plain (RFC 9110 §8.8.1). */
const etagOf = (bytes: Uint8Array): string =>
  `W/"${createHash("sha256").update(bytes).digest("base64url").slice(0, 32)}"`;

/**
 * Rebuild and store both packument documents of a package from its rows. Runs inside the
 * transaction that changed the package, under its row lock, so the documents always match the
 * rows that committed with them. Cost is linear in the package's versions and nothing else.
 */
export async function storePackument(
  tx: Queryable,
  pkg: PackageRow,
  name: PackageName,
  baseUrl: string,
  modifiedAt: Date,
): Promise<StoredPackument> {
  const [rows, tags, owners, previous] = await Promise.all([
    tx
      .select({
        version: versions.version,
        manifest: versions.manifest,
        readme: versions.readme,
        publishedAt: versions.publishedAt,
        deprecated: versions.deprecated,
        unpublishedAt: versions.unpublishedAt,
      })
      .from(versions)
      .where(eq(versions.packageId, pkg.id)),
    tx
      .select({ tag: distTags.tag, version: distTags.version })
      .from(distTags)
      .where(eq(distTags.packageId, pkg.id)),
    tx
      .select({ name: users.name, email: users.email })
      .from(packageMaintainers)
      .innerJoin(users, eq(users.id, packageMaintainers.userId))
      .where(eq(packageMaintainers.packageId, pkg.id))
      .orderBy(asc(packageMaintainers.createdAt)),
    tx.select({ rev: packuments.rev }).from(packuments).where(eq(packuments.packageId, pkg.id)),
  ]);
  const rev = (previous[0]?.rev ?? 0) + 1;
  const revHash = createHash("md5")
    .update(`${pkg.id}:${rev}:${modifiedAt.toISOString()}`)
    .digest("hex");
  const { full, abbreviated } = buildPackuments({
    name,
    createdAt: pkg.createdAt,
    modifiedAt,
    rev,
    revHash,
    versions: rows,
    distTags: Object.fromEntries(tags.map((t) => [t.tag, t.version])),
    // npm prints `name <email>`; an empty email reads better there than "undefined".
    maintainers: owners.map((o) => ({ name: o.name, email: o.email ?? "" })),
    baseUrl,
  });
  const fullBytes = Buffer.from(JSON.stringify(full));
  const abbreviatedBytes = Buffer.from(JSON.stringify(abbreviated));
  const [fullGzip, abbreviatedGzip] = await Promise.all([gzip(fullBytes), gzip(abbreviatedBytes)]);
  const values = {
    packageId: pkg.id,
    rev,
    baseUrl,
    etagFull: etagOf(fullBytes),
    etagAbbreviated: etagOf(abbreviatedBytes),
    full: fullBytes,
    fullGzip,
    abbreviated: abbreviatedBytes,
    abbreviatedGzip,
    modifiedAt,
  };
  await tx
    .insert(packuments)
    .values(values)
    .onConflictDoUpdate({ target: packuments.packageId, set: { ...values, packageId: undefined } });
  return values;
}
