/**
 * Pure functions that turn what a client PUTs into what the registry stores and serves.
 * References: npm/registry docs/responses/package-metadata.md, and what npm 11, pnpm 9–12 and
 * yarn 4 send (shared/reference/npm-protocol.md §2–§3).
 */

export type Person = { name: string; email?: string };

/** Underscore fields a client may send that we keep; every other `_*` is the client's own business. */
const KEPT_PRIVATE_FIELDS = new Set(["_id", "_nodeVersion", "_npmVersion", "_hasShrinkwrap"]);

export type NormalizeInput = {
  name: string;
  version: string;
  raw: Record<string, unknown>;
  integrity: string;
  shasum: string;
  publisher: Person;
  /** yarn sends the readme at the top level of the publish body rather than in the version. */
  topLevelReadme?: unknown;
};

export type NormalizedVersion = {
  manifest: Record<string, unknown>;
  readme: string | null;
};

/**
 * The version manifest as stored: client-local fields (`_resolved` with a temp path from pnpm,
 * `_from`, `_integrity`) stripped, `_npmUser` set from the authenticated publisher (npm never
 * sends it), `dist` rebuilt from the verified bytes, and the readme split out (it is served once,
 * at the top of the packument, not once per version).
 */
export function normalizeVersionManifest(input: NormalizeInput): NormalizedVersion {
  const manifest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input.raw)) {
    if (key.startsWith("_") && !KEPT_PRIVATE_FIELDS.has(key)) continue;
    if (key === "readme" || key === "readmeFilename" || key === "dist") continue;
    manifest[key] = value;
  }
  manifest.name = input.name;
  manifest.version = input.version;
  manifest._id = `${input.name}@${input.version}`;
  manifest._npmUser = input.publisher;
  if (manifest.bundledDependencies !== undefined && manifest.bundleDependencies === undefined) {
    manifest.bundleDependencies = manifest.bundledDependencies;
    delete manifest.bundledDependencies;
  }
  const rawDist = isRecord(input.raw.dist) ? input.raw.dist : {};
  const dist: Record<string, unknown> = { integrity: input.integrity, shasum: input.shasum };
  for (const key of ["fileCount", "unpackedSize"] as const) {
    if (typeof rawDist[key] === "number") dist[key] = rawDist[key];
  }
  manifest.dist = dist;
  const readme =
    typeof input.raw.readme === "string"
      ? input.raw.readme
      : typeof input.topLevelReadme === "string"
        ? input.topLevelReadme
        : null;
  return { manifest, readme };
}

/** Fields of the abbreviated ("corgi") document, plus `libc` that pnpm needs for optional deps. */
const ABBREVIATED_FIELDS = [
  "name",
  "version",
  "deprecated",
  "dependencies",
  "acceptDependencies",
  "optionalDependencies",
  "devDependencies",
  "bundleDependencies",
  "peerDependencies",
  "peerDependenciesMeta",
  "bin",
  "directories",
  "dist",
  "engines",
  "_hasShrinkwrap",
  "hasInstallScript",
  "funding",
  "cpu",
  "os",
  "libc",
] as const;

const INSTALL_SCRIPTS = ["preinstall", "install", "postinstall"];

export function abbreviateVersion(full: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ABBREVIATED_FIELDS) {
    if (full[key] !== undefined) out[key] = full[key];
  }
  const scripts = isRecord(full.scripts) ? full.scripts : undefined;
  if (scripts && INSTALL_SCRIPTS.some((s) => typeof scripts[s] === "string")) {
    out.hasInstallScript = true;
  }
  return out;
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Serialize a packument entry with `dist` as its last key, so the text ends in `}}` and the
 * tarball URL can be appended at assembly time without parsing (see `withTarball`).
 */
export function serializeEntry(entry: Record<string, unknown>): string {
  const { dist, ...rest } = entry;
  if (!isRecord(dist) || Object.keys(dist).length === 0)
    throw new Error("a packument entry needs a dist");
  const { tarball: _ignored, ...distWithoutTarball } = dist;
  return JSON.stringify({ ...rest, dist: distWithoutTarball });
}

/** `{…,"dist":{…}}` + url → `{…,"dist":{…,"tarball":"url"}}`. */
export function withTarball(entryJson: string, url: string): string {
  return `${entryJson.slice(0, -2)},"tarball":${JSON.stringify(url)}}}`;
}
