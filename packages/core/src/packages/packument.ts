import semver from "semver";
import { abbreviateVersion, type Person } from "./manifest.ts";
import type { PackageName } from "./names.ts";

export type PackumentVersion = {
  version: string;
  manifest: Record<string, unknown>;
  readme: string | null;
  publishedAt: Date;
  deprecated: string | null;
  unpublishedAt: Date | null;
};

export type PackumentInput = {
  name: PackageName;
  createdAt: Date;
  modifiedAt: Date;
  rev: number;
  revHash: string;
  versions: readonly PackumentVersion[];
  distTags: Readonly<Record<string, string>>;
  maintainers: readonly Person[];
  baseUrl: string;
};

/** Top-level fields copied from the `latest` version, as npmjs shows them. */
const TOP_LEVEL_FIELDS = [
  "description",
  "keywords",
  "license",
  "homepage",
  "repository",
  "bugs",
  "author",
] as const;

/** npm-conventional tarball URL; pnpm and yarn then keep registry-relative lockfiles (protocol §2.4). */
export function tarballUrl(baseUrl: string, name: PackageName, version: string): string {
  return `${baseUrl}/${name.name}/-/${name.basename}-${version}.tgz`;
}

/**
 * Build both packument forms from the package's rows. Pure, so it can run inside the publish
 * transaction and in tests alike; callers serialize and store the result.
 */
export function buildPackuments(input: PackumentInput): {
  full: Record<string, unknown>;
  abbreviated: Record<string, unknown>;
} {
  const sorted = [...input.versions].sort((a, b) => semver.compare(a.version, b.version));
  const live = sorted.filter((v) => v.unpublishedAt === null);
  const time: Record<string, unknown> = {
    created: input.createdAt.toISOString(),
    modified: input.modifiedAt.toISOString(),
  };
  for (const v of sorted) time[v.version] = v.publishedAt.toISOString();

  const fullVersions: Record<string, Record<string, unknown>> = {};
  const abbreviatedVersions: Record<string, Record<string, unknown>> = {};
  for (const v of live) {
    const dist = {
      ...(v.manifest.dist as Record<string, unknown>),
      tarball: tarballUrl(input.baseUrl, input.name, v.version),
    };
    const manifest: Record<string, unknown> = { ...v.manifest, dist };
    if (v.deprecated) manifest.deprecated = v.deprecated;
    fullVersions[v.version] = manifest;
    abbreviatedVersions[v.version] = abbreviateVersion(manifest);
  }

  const distTags: Record<string, string> = {};
  for (const [tag, version] of Object.entries(input.distTags)) {
    if (fullVersions[version]) distTags[tag] = version;
  }
  const latestVersion = distTags.latest ?? live.at(-1)?.version;
  const latest = live.find((v) => v.version === latestVersion);

  const full: Record<string, unknown> = {
    _id: input.name.name,
    _rev: `${input.rev}-${input.revHash}`,
    name: input.name.name,
    "dist-tags": distTags,
    versions: fullVersions,
    time,
    maintainers: input.maintainers,
  };
  if (latest) {
    for (const key of TOP_LEVEL_FIELDS) {
      if (latest.manifest[key] !== undefined) full[key] = latest.manifest[key];
    }
    full.readme = latest.readme ?? "";
    full.readmeFilename = latest.readme ? "README.md" : "";
  }
  if (live.length === 0 && sorted.length > 0) {
    time.unpublished = {
      time: input.modifiedAt.toISOString(),
      versions: sorted.map((v) => v.version),
    };
  }

  const abbreviated: Record<string, unknown> = {
    name: input.name.name,
    modified: input.modifiedAt.toISOString(),
    "dist-tags": distTags,
    versions: abbreviatedVersions,
    time,
  };
  return { full, abbreviated };
}
