import { sql } from "drizzle-orm";
import {
  bigint,
  date,
  doublePrecision,
  index,
  integer,
  json,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { bytea, timestamps, tstz, tsvector } from "./_columns.ts";
import { orgs, TEAM_PERMISSIONS, teams, users } from "./identity.ts";

export const packages = pgTable(
  "packages",
  {
    id: text("id").primaryKey(),
    /** Full npm name, `@scope/name` or `name`; unique. */
    name: text("name").notNull().unique(),
    /** Scope without `@`, or null for unscoped packages. */
    scope: text("scope"),
    orgId: text("org_id").references(() => orgs.id, { onDelete: "set null" }),
    /** public: anyone may read; restricted: only callers with read access. */
    access: text("access", { enum: ["public", "restricted"] }).notNull(),
    description: text("description"),
    /**
     * The deprecation message when every live version is deprecated (npm deprecate <pkg> "msg"),
     * else null. Kept with every change so the packument GET can answer npm-notice from the row it
     * already caches, without a query.
     */
    deprecated: text("deprecated"),
    /**
     * Bumped by every change to the package (a version, a tag, a maintainer, a deprecation): the
     * packument ETags derive from it, so a reader knows its cached document is current from this
     * one row.
     */
    rev: integer("rev").notNull().default(0),
    /** `time.modified` of the packument. */
    modifiedAt: tstz("modified_at").notNull().defaultNow(),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    ...timestamps(),
  },
  (t) => [
    index("packages_scope_idx").on(t.scope),
    // Plan limits count an org's packages, and a user's outside any org (billing/limits.ts).
    index("packages_org_idx").on(t.orgId),
    index("packages_personal_idx").on(t.createdBy).where(sql`${t.orgId} is null`),
  ],
);

export const packageMaintainers = pgTable(
  "package_maintainers",
  {
    packageId: text("package_id")
      .notNull()
      .references(() => packages.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.packageId, t.userId] })],
);

/** A team's grant on one package of its org's scope (npm access grant / revoke). */
export const teamPackages = pgTable(
  "team_packages",
  {
    teamId: text("team_id")
      .notNull()
      .references(() => teams.id, { onDelete: "cascade" }),
    packageId: text("package_id")
      .notNull()
      .references(() => packages.id, { onDelete: "cascade" }),
    permission: text("permission", { enum: TEAM_PERMISSIONS }).notNull(),
    ...timestamps(),
  },
  (t) => [
    primaryKey({ columns: [t.teamId, t.packageId] }),
    index("team_packages_package_idx").on(t.packageId),
  ],
);

/**
 * One row per `name@version`, immutable once published. Unpublish sets `unpublished_at` and drops
 * the tarball, but the row stays, so the same version can never be published again.
 */
export const versions = pgTable(
  "versions",
  {
    id: text("id").primaryKey(),
    packageId: text("package_id")
      .notNull()
      .references(() => packages.id, { onDelete: "cascade" }),
    version: text("version").notNull(),
    /** The normalized version manifest without readme and dist.tarball (both added when documents are built). */
    manifest: json("manifest").$type<Record<string, unknown>>().notNull(),
    /**
     * This version's entry in the full and the abbreviated packument, serialized once when it
     * changes, with `dist` last and without `dist.tarball` (which depends on the public URL and is
     * appended when the document is assembled). Assembling a packument is then concatenation, and
     * a publish costs the same at the 2,000th version as at the first.
     */
    fullJson: text("full_json").notNull(),
    abbreviatedJson: text("abbreviated_json").notNull(),
    readme: text("readme"),
    integrity: text("integrity").notNull(),
    shasum: text("shasum").notNull(),
    tarballKey: text("tarball_key").notNull(),
    tarballSize: bigint("tarball_size", { mode: "number" }).notNull(),
    publishedBy: text("published_by").references(() => users.id, { onDelete: "set null" }),
    publishedAt: tstz("published_at").notNull().defaultNow(),
    deprecated: text("deprecated"),
    unpublishedAt: tstz("unpublished_at"),
  },
  (t) => [
    uniqueIndex("versions_package_version_uq").on(t.packageId, t.version),
    // "Is this blob still used?" (unpublish, the orphan sweeper) looks versions up by blob key.
    index("versions_tarball_key_idx").on(t.tarballKey),
  ],
);

export const distTags = pgTable(
  "dist_tags",
  {
    packageId: text("package_id")
      .notNull()
      .references(() => packages.id, { onDelete: "cascade" }),
    tag: text("tag").notNull(),
    version: text("version").notNull(),
    ...timestamps(),
  },
  (t) => [primaryKey({ columns: [t.packageId, t.tag] })],
);

/** `npm star`: one row per user and package; shown as `users` in the full packument. */
export const packageStars = pgTable(
  "package_stars",
  {
    packageId: text("package_id")
      .notNull()
      .references(() => packages.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.packageId, t.userId] }),
    index("package_stars_user_idx").on(t.userId),
  ],
);

/**
 * The search document of a package (`npm search`), rewritten in the transaction of every change
 * that can alter it (publish, deprecate, unpublish, tags, owners), so a search reads rows and never
 * a manifest. Describes the `latest` version; a package with no live version has no row. Access is
 * not copied here: searches join `packages.access`, so a visibility change applies at once.
 * A trigram index on `name` (pg_trgm, custom migration) serves prefix and typo matching.
 */
export const packageSearch = pgTable(
  "package_search",
  {
    packageId: text("package_id")
      .primaryKey()
      .references(() => packages.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    scope: text("scope"),
    version: text("version").notNull(),
    description: text("description"),
    keywords: text("keywords").array().notNull(),
    /** Lower-cased author name of the latest manifest, for `author:`. */
    author: text("author"),
    publisher: json("publisher").$type<{ username: string; email: string }>(),
    maintainers: json("maintainers").$type<Array<{ username: string; email: string }>>().notNull(),
    /** Lower-cased maintainer names, for `maintainer:`. */
    maintainerNames: text("maintainer_names").array().notNull(),
    links: json("links").$type<Record<string, string>>().notNull(),
    /** 0..1 from what the latest manifest documents (description, readme, repository, license, keywords). */
    quality: doublePrecision("quality").notNull(),
    deprecated: text("deprecated"),
    /** Star count (npm star), kept by the star verbs; the popularity signal Packr has. */
    stars: integer("stars").notNull().default(0),
    publishedAt: tstz("published_at").notNull(),
    /** name (A) > keywords (B) > description (C) > readme (D); built by the database at refresh. */
    document: tsvector("document").notNull(),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
  },
  (t) => [index("package_search_document_idx").using("gin", t.document)],
);

/** Daily download counts, flushed in batches from memory; never a write per download. */
export const usageMetrics = pgTable(
  "usage_metrics",
  {
    packageId: text("package_id")
      .notNull()
      .references(() => packages.id, { onDelete: "cascade" }),
    version: text("version").notNull(),
    day: date("day", { mode: "string" }).notNull(),
    downloads: bigint("downloads", { mode: "number" }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.packageId, t.version, t.day] })],
);

/** Generated API documentation per version: `typed` (from .d.ts) or `ai` (Claude). */
export const packageDocs = pgTable(
  "package_docs",
  {
    packageId: text("package_id")
      .notNull()
      .references(() => packages.id, { onDelete: "cascade" }),
    version: text("version").notNull(),
    kind: text("kind", { enum: ["typed", "ai"] }).notNull(),
    content: json("content").$type<Record<string, unknown>>().notNull(),
    model: text("model"),
    ...timestamps(),
  },
  (t) => [primaryKey({ columns: [t.packageId, t.version, t.kind] })],
);

/**
 * What the analysis job found in one version's tarball and manifest (files, types, tests, CI,
 * README, dependencies) and the capabilities extracted from it. Derived data, rewritten whenever
 * the job runs again; the version row itself stays immutable. `capabilities`, `terms` and
 * `dependency_names` are arrays with GIN indexes: agent search and co-occurrence queries use `&&`
 * and `@>` on them.
 */
export const versionAnalyses = pgTable(
  "version_analyses",
  {
    packageId: text("package_id")
      .notNull()
      .references(() => packages.id, { onDelete: "cascade" }),
    version: text("version").notNull(),
    /** Signals and file facts (see core's analysis/analyze-version.ts `VersionSignals`). */
    signals: json("signals").$type<Record<string, unknown>>().notNull(),
    /** Capability ids (`authentication`, `http-server`, …). */
    capabilities: text("capabilities").array().notNull(),
    /** Normalized words from name, description, keywords and README headings. */
    terms: text("terms").array().notNull(),
    dependencyNames: text("dependency_names").array().notNull(),
    analyzedAt: tstz("analyzed_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.packageId, t.version] }),
    index("version_analyses_capabilities_idx").using("gin", t.capabilities),
    index("version_analyses_terms_idx").using("gin", t.terms),
    index("version_analyses_dependency_names_idx").using("gin", t.dependencyNames),
  ],
);

/** OIDC trusted-publisher policies (`npm trust`): which CI identities may publish a package. */
export const trustedPublishers = pgTable("trusted_publishers", {
  id: text("id").primaryKey(),
  packageId: text("package_id")
    .notNull()
    .references(() => packages.id, { onDelete: "cascade" }),
  provider: text("provider", { enum: ["github", "gitlab", "circleci"] }).notNull(),
  claims: json("claims").$type<Record<string, unknown>>().notNull(),
  permissions: text("permissions").array().notNull(),
  createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
  createdAt: tstz("created_at").notNull().defaultNow(),
});

/**
 * Packuments of public packages fetched from the uplink, one row per name and document kind (full
 * or abbreviated, whichever clients asked for), with the uplink's validators for revalidation.
 * `body` is the uplink's document as received, gzipped: tarball URLs and signatures are rewritten
 * when it is served, so a change of PACKR_PUBLIC_URL needs no rewrite of the table.
 */
export const uplinkCache = pgTable(
  "uplink_cache",
  {
    name: text("name").notNull(),
    kind: text("kind", { enum: ["full", "abbreviated"] }).notNull(),
    etag: text("etag"),
    lastModified: text("last_modified"),
    body: bytea("body").notNull(),
    /** When the uplink last confirmed this document (a 200 or a 304). */
    fetchedAt: tstz("fetched_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.name, t.kind] })],
);

/**
 * Tarballs of uplink packages, fetched on first request, verified against the uplink's
 * `dist.integrity` and kept in the blob store under the same content address a publish would use.
 */
export const uplinkTarballs = pgTable(
  "uplink_tarballs",
  {
    name: text("name").notNull(),
    version: text("version").notNull(),
    tarballKey: text("tarball_key").notNull(),
    size: bigint("size", { mode: "number" }).notNull(),
    /** sha512 SRI of the stored bytes. */
    integrity: text("integrity").notNull(),
    fetchedAt: tstz("fetched_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.name, t.version] }),
    index("uplink_tarballs_tarball_key_idx").on(t.tarballKey),
  ],
);

/**
 * The analysis of a proxied (uplink) package's version, for the agent API: a row is claimed when
 * an agent first asks about the version (the `uplink.analyze` job is committed with it), and the
 * job fills `signals` from the tarball. `signals` null: still pending; `error` set: the job could
 * not analyse it (the version left the uplink, its tarball is unreadable).
 */
export const uplinkAnalyses = pgTable(
  "uplink_analyses",
  {
    name: text("name").notNull(),
    version: text("version").notNull(),
    signals: json("signals").$type<Record<string, unknown>>(),
    /** The typed docs from the `.d.ts` files (`TypedDocs`), for `/agent/:pkg/docs`. */
    typed: json("typed").$type<Record<string, unknown>>(),
    error: text("error"),
    requestedAt: tstz("requested_at").notNull().defaultNow(),
    analyzedAt: tstz("analyzed_at"),
  },
  (t) => [primaryKey({ columns: [t.name, t.version] })],
);
