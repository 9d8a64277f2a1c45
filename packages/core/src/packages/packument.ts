import { type Person, withTarball } from "./manifest.ts";
import type { PackageName } from "./names.ts";

export type PackumentKind = "full" | "abbreviated";

export type PackumentEntry = {
  version: string;
  publishedAt: Date;
  unpublishedAt: Date | null;
  /** The version's serialized entry (`serializeEntry`), for the kind being assembled. */
  json: string;
};

export type PackumentInput = {
  kind: PackumentKind;
  name: PackageName;
  createdAt: Date;
  modifiedAt: Date;
  /** `_rev`, opaque to clients; npm echoes it back in owner and unpublish requests. */
  rev: string;
  /** Every version ever published, in publish order, tombstones included (for `time`). */
  entries: readonly PackumentEntry[];
  distTags: Readonly<Record<string, string>>;
  maintainers: readonly Person[];
  /** Users who starred the package (npm star): `users` in the full document. */
  starredBy?: readonly string[];
  /** Top-level fields copied from the `latest` version's manifest, and its readme. */
  latest: { manifest: Record<string, unknown>; readme: string | null } | null;
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
 * Assemble one packument document as text. Version entries were serialized when they changed, so
 * this is concatenation plus a few small JSON values: cheap enough to run on the first read after
 * a change rather than inside every publish.
 */
export function assemblePackument(input: PackumentInput): string {
  const live = input.entries.filter((e) => e.unpublishedAt === null);
  const liveVersions = new Set(live.map((e) => e.version));
  const time: Record<string, unknown> = {
    created: input.createdAt.toISOString(),
    modified: input.modifiedAt.toISOString(),
  };
  for (const e of input.entries) time[e.version] = e.publishedAt.toISOString();
  if (live.length === 0 && input.entries.length > 0) {
    time.unpublished = {
      time: input.modifiedAt.toISOString(),
      versions: input.entries.map((e) => e.version),
    };
  }
  // A tag pointing at an unpublished version is dropped rather than left dangling.
  const distTags: Record<string, string> = {};
  for (const [tag, version] of Object.entries(input.distTags)) {
    if (liveVersions.has(version)) distTags[tag] = version;
  }
  const versions = live
    .map(
      (e) =>
        `${JSON.stringify(e.version)}:${withTarball(e.json, tarballUrl(input.baseUrl, input.name, e.version))}`,
    )
    .join(",");
  const name = JSON.stringify(input.name.name);

  if (input.kind === "abbreviated") {
    return `{"name":${name},"modified":${JSON.stringify(time.modified)},"dist-tags":${JSON.stringify(distTags)},"versions":{${versions}},"time":${JSON.stringify(time)}}`;
  }
  const top: Record<string, unknown> = {};
  if (input.latest) {
    for (const key of TOP_LEVEL_FIELDS) {
      if (input.latest.manifest[key] !== undefined) top[key] = input.latest.manifest[key];
    }
    top.readme = input.latest.readme ?? "";
    top.readmeFilename = input.latest.readme ? "README.md" : "";
  }
  const head = `{"_id":${name},"_rev":${JSON.stringify(input.rev)},"name":${name},"dist-tags":${JSON.stringify(distTags)}`;
  const users = input.starredBy?.length
    ? { users: Object.fromEntries(input.starredBy.map((u) => [u, true])) }
    : {};
  const tail = JSON.stringify({ time, maintainers: input.maintainers, ...users, ...top }).slice(1);
  return `${head},"versions":{${versions}},${tail}`;
}
