import { isRecord } from "../packages/manifest.ts";
import type { TarballContents, TarballFile } from "./read-tarball.ts";

/** What the analysis found in one version; stored as `version_analyses.signals`. */
export type VersionSignals = {
  fileCount: number;
  /** Sum of the file sizes in the tarball. */
  unpackedSize: number;
  /** The tarball's own size in bytes (what an install downloads). */
  packageSize: number;
  largestFiles: TarballFile[];
  hasTypes: boolean;
  typesSource: "types field" | "typings field" | "exports types" | ".d.ts files" | null;
  typeFiles: string[];
  hasTests: boolean;
  testsSource: "test files" | "test script" | null;
  testFileCount: number;
  hasCI: boolean;
  ciFiles: string[];
  readmeLength: number;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
  devDependencyCount: number;
  /** Live releases of the package when this version was analyzed, this one included. */
  releaseCount: number;
  license: string | null;
  engines: Record<string, string>;
  truncated: boolean;
};

/** `npm init`'s placeholder is not a test suite. */
const PLACEHOLDER_TEST = /no test specified/i;
const TEST_FILE =
  /(^|\/)(test|tests|__tests__|spec|specs)\/|(^|\/)[^/]+[.-](test|spec)\.[cm]?[jt]sx?$/i;
const CI_FILE =
  /^(\.github\/workflows\/[^/]+\.ya?ml|\.gitlab-ci\.ya?ml|\.circleci\/config\.ya?ml|\.travis\.ya?ml|azure-pipelines\.ya?ml|jenkinsfile|bitbucket-pipelines\.ya?ml|\.drone\.ya?ml|appveyor\.ya?ml|\.buildkite\/[^/]+\.ya?ml|\.woodpecker\.ya?ml|\.woodpecker\/[^/]+\.ya?ml)$/i;
const DTS = /\.d\.[cm]?ts$/;

/**
 * The facts analysis derives from a version's manifest and tarball contents. Pure: the same
 * inputs always give the same signals.
 */
export function computeSignals(input: {
  manifest: Record<string, unknown>;
  contents: TarballContents;
  /** The README the registry stored with the version (npm sends it in the manifest). */
  readme: string | null;
  tarballSize: number;
  releaseCount: number;
}): VersionSignals {
  const { manifest, contents } = input;
  const files = contents.files;
  const typeFiles = files.filter((f) => DTS.test(f.path)).map((f) => f.path);
  const typesSource = typesFrom(manifest, typeFiles);
  const testFileCount = files.filter((f) => TEST_FILE.test(f.path)).length;
  const scripts = isRecord(manifest.scripts) ? manifest.scripts : {};
  const testScript = typeof scripts.test === "string" ? scripts.test.trim() : "";
  const realTestScript = testScript.length > 0 && !PLACEHOLDER_TEST.test(testScript);
  const ciFiles = files.filter((f) => CI_FILE.test(f.path)).map((f) => f.path);
  const readmeFile = [...contents.texts.entries()].find(([p]) => /^readme(\.[a-z]+)?$/i.test(p));
  const readmeLength = Math.max(
    input.readme?.trim().length ?? 0,
    readmeFile?.[1].trim().length ?? 0,
  );
  const devDeps = isRecord(manifest.devDependencies) ? manifest.devDependencies : {};
  return {
    fileCount: files.length,
    unpackedSize: files.reduce((n, f) => n + f.size, 0),
    packageSize: input.tarballSize,
    largestFiles: [...files]
      .sort((a, b) => b.size - a.size || a.path.localeCompare(b.path))
      .slice(0, 10),
    hasTypes: typesSource !== null,
    typesSource,
    typeFiles: typeFiles.slice(0, 200),
    hasTests: testFileCount > 0 || realTestScript,
    testsSource: testFileCount > 0 ? "test files" : realTestScript ? "test script" : null,
    testFileCount,
    hasCI: ciFiles.length > 0,
    ciFiles,
    readmeLength,
    dependencies: stringRecord(manifest.dependencies),
    peerDependencies: stringRecord(manifest.peerDependencies),
    optionalDependencies: stringRecord(manifest.optionalDependencies),
    devDependencyCount: Object.keys(devDeps).length,
    releaseCount: input.releaseCount,
    license: typeof manifest.license === "string" ? manifest.license : null,
    engines: stringRecord(manifest.engines),
    truncated: contents.truncated,
  };
}

function typesFrom(
  manifest: Record<string, unknown>,
  typeFiles: string[],
): VersionSignals["typesSource"] {
  if (typeof manifest.types === "string" && manifest.types) return "types field";
  if (typeof manifest.typings === "string" && manifest.typings) return "typings field";
  if (JSON.stringify(manifest.exports ?? null).includes('"types"')) return "exports types";
  return typeFiles.length > 0 ? ".d.ts files" : null;
}

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(value)) return out;
  for (const [k, v] of Object.entries(value)) if (typeof v === "string") out[k] = v;
  return out;
}
