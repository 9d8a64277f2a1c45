import { and, asc, eq, isNull, sql } from "drizzle-orm";
import type { Database, Queryable } from "../db/client.ts";
import {
  distTags,
  packageMaintainers,
  packageSearch,
  packages,
  users,
  versions,
} from "../db/schema/index.ts";
import { isRecord } from "../packages/manifest.ts";

/** Readme text indexed per package; a longer readme is cut (to_tsvector refuses > 1 MB vectors). */
const README_INDEXED_CHARS = 100_000;

/**
 * Rewrite a package's search document and its package-level deprecation from its rows, inside the
 * transaction of the change (package-change.ts calls it for every change that can alter them).
 * The document describes the `latest` version: its name (weight A), keywords (B), description (C)
 * and readme (D), plus what a search result shows. A package with no live `latest` has no
 * document. A few small indexed queries; the readme never leaves the database.
 */
export async function refreshSearchDocument(
  tx: Queryable,
  pkg: { id: string; name: string; scope: string | null; deprecated: string | null },
): Promise<void> {
  const [latest] = await tx
    .select({
      id: versions.id,
      version: versions.version,
      manifest: versions.manifest,
      publishedAt: versions.publishedAt,
      deprecated: versions.deprecated,
      hasReadme: sql<boolean>`coalesce(length(${versions.readme}), 0) > 0`,
      publisherName: users.name,
      publisherEmail: users.email,
    })
    .from(distTags)
    .innerJoin(
      versions,
      and(
        eq(versions.packageId, distTags.packageId),
        eq(versions.version, distTags.version),
        isNull(versions.unpublishedAt),
      ),
    )
    .leftJoin(users, eq(users.id, versions.publishedBy))
    .where(and(eq(distTags.packageId, pkg.id), eq(distTags.tag, "latest")));

  const deprecated = latest ? await packageDeprecation(tx, pkg.id, latest.deprecated) : null;
  if (deprecated !== pkg.deprecated) {
    await tx.update(packages).set({ deprecated }).where(eq(packages.id, pkg.id));
  }
  if (!latest) {
    await tx.delete(packageSearch).where(eq(packageSearch.packageId, pkg.id));
    return;
  }

  const owners = await tx
    .select({ name: users.name, email: users.email })
    .from(packageMaintainers)
    .innerJoin(users, eq(users.id, packageMaintainers.userId))
    .where(eq(packageMaintainers.packageId, pkg.id))
    .orderBy(asc(packageMaintainers.createdAt));

  const m = latest.manifest;
  const description = typeof m.description === "string" ? m.description : null;
  const keywords = keywordList(m.keywords);
  const links = linksOf(m);
  const quality =
    [
      description !== null && description.trim() !== "",
      latest.hasReadme,
      links.repository !== undefined,
      typeof m.license === "string" && m.license !== "",
      keywords.length > 0,
    ].filter(Boolean).length / 5;
  // Name words split at punctuation too, so `@acme/widget-kit` is found by "widget" and "kit".
  const nameText = `${pkg.name} ${pkg.name.replace(/[^A-Za-z0-9]+/g, " ")}`;
  const values = {
    packageId: pkg.id,
    name: pkg.name,
    scope: pkg.scope,
    version: latest.version,
    description,
    keywords,
    author: authorName(m.author)?.toLowerCase() ?? null,
    publisher: latest.publisherName
      ? { username: latest.publisherName, email: latest.publisherEmail ?? "" }
      : null,
    maintainers: owners.map((o) => ({ username: o.name, email: o.email ?? "" })),
    maintainerNames: owners.map((o) => o.name.toLowerCase()),
    links,
    quality,
    deprecated: latest.deprecated,
    stars: sql`(select count(*)::int from package_stars where package_id = ${pkg.id})`,
    publishedAt: latest.publishedAt,
    document: sql`setweight(to_tsvector('simple', ${nameText}), 'A')
      || setweight(to_tsvector('simple', ${keywords.join(" ")}), 'B')
      || setweight(to_tsvector('english', ${description ?? ""}), 'C')
      || setweight(to_tsvector('english', coalesce((select left(readme, ${README_INDEXED_CHARS}) from versions where id = ${latest.id}), '')), 'D')`,
    updatedAt: sql`now()`,
  };
  const { packageId: _key, ...update } = values;
  await tx
    .insert(packageSearch)
    .values(values)
    .onConflictDoUpdate({ target: packageSearch.packageId, set: update });
}

/**
 * A package is deprecated as a whole when every live version is (what `npm deprecate <pkg> "msg"`
 * does); its message is then the latest version's.
 */
async function packageDeprecation(
  tx: Queryable,
  packageId: string,
  latestMessage: string | null,
): Promise<string | null> {
  if (latestMessage === null) return null;
  const [row] = await tx
    .select({ live: sql<number>`count(*)::int` })
    .from(versions)
    .where(
      and(
        eq(versions.packageId, packageId),
        isNull(versions.unpublishedAt),
        isNull(versions.deprecated),
      ),
    );
  return (row?.live ?? 0) === 0 ? latestMessage : null;
}

/**
 * Packages changed before search documents existed (or restored from a dump) get theirs at start.
 * Each under its package's row lock, so a publish committing meanwhile is not overwritten by an
 * older view. One query when nothing is missing.
 */
export async function backfillSearchDocuments(db: Database): Promise<number> {
  const missing = await db
    .select({
      id: packages.id,
      name: packages.name,
      scope: packages.scope,
      deprecated: packages.deprecated,
    })
    .from(packages)
    .where(
      sql`${packages.rev} > 0 and not exists (select 1 from package_search s where s.package_id = ${packages.id})
        and exists (select 1 from dist_tags t join versions v on v.package_id = t.package_id and v.version = t.version and v.unpublished_at is null where t.package_id = ${packages.id} and t.tag = 'latest')`,
    );
  for (const { id } of missing) {
    await db.transaction(async (tx) => {
      const [pkg] = await tx.select().from(packages).where(eq(packages.id, id)).for("update");
      if (pkg) await refreshSearchDocument(tx, pkg);
    });
  }
  return missing.length;
}

function keywordList(raw: unknown): string[] {
  const list = Array.isArray(raw)
    ? raw.filter((k): k is string => typeof k === "string")
    : typeof raw === "string"
      ? raw.split(/[,\s]+/)
      : [];
  return [...new Set(list.map((k) => k.trim()).filter((k) => k !== "" && k.length <= 100))].slice(
    0,
    50,
  );
}

function authorName(raw: unknown): string | undefined {
  if (isRecord(raw) && typeof raw.name === "string") return raw.name;
  // "Name <email> (url)", npm's string form.
  if (typeof raw === "string") return raw.replace(/[<(].*$/, "").trim() || undefined;
  return undefined;
}

const urlOf = (raw: unknown): string | undefined =>
  typeof raw === "string"
    ? raw
    : isRecord(raw) && typeof raw.url === "string"
      ? raw.url
      : undefined;

/** homepage, repository (as a browsable https URL where it is one) and bugs of a manifest. */
function linksOf(m: Record<string, unknown>): Record<string, string> {
  const links: Record<string, string> = {};
  const homepage = urlOf(m.homepage);
  if (homepage) links.homepage = homepage;
  const repository = urlOf(m.repository);
  if (repository) {
    links.repository = repository
      .replace(/^git\+/, "")
      .replace(/^git:\/\//, "https://")
      .replace(/^git@([^:]+):/, "https://$1/")
      .replace(/\.git$/, "");
  }
  const bugs = urlOf(m.bugs);
  if (bugs) links.bugs = bugs;
  return links;
}
