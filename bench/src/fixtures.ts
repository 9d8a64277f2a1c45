import { existsSync } from "node:fs";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { childEnv, makeTempDir, runCommand } from "./proc.ts";
import { digest, makeTarball, readPackageFiles } from "./tarball.ts";

/**
 * The fixture set: real packages (a dependency tree resolved once against the public registry)
 * cached under bench/.cache, and synthetic versions for the growth and concurrency workloads.
 */

export type FixtureSetName = "full" | "smoke";

/** What each set installs: the full set is the tree, smoke a handful of tiny packages. */
export const ROOTS: Record<FixtureSetName, string[]> = {
  full: ["express@^4", "eslint@^8"],
  // Two plain trees and one scoped package, a few KB in all: enough to exercise every path.
  smoke: ["debug@^4", "once@^1", "@humanwhocodes/module-importer@^1"],
};

export type Fixture = {
  name: string;
  version: string;
  /** Path of the cached .tgz, relative to the cache directory. */
  file: string;
  size: number;
  integrity: string;
  shasum: string;
  packageJson: Record<string, unknown>;
  readme?: string;
  readmeFilename?: string;
};

export type FixtureSet = {
  set: FixtureSetName;
  /** Root name → exact version, as the lockfile resolved it (what the install test asks for). */
  roots: Record<string, string>;
  resolvedAt: string;
  fixtures: Fixture[];
};

type LockEntry = {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  name?: string;
};

export async function loadFixtures(set: FixtureSetName, cacheDir: string): Promise<FixtureSet> {
  const manifestPath = path.join(cacheDir, `fixtures-${set}.json`);
  if (existsSync(manifestPath)) {
    const cached = JSON.parse(await readFile(manifestPath, "utf8")) as FixtureSet;
    if (await allPresent(cacheDir, cached)) return cached;
  }
  console.log(`fixtures: resolving ${ROOTS[set].join(" ")} against the public registry`);
  const fresh = await resolveAndDownload(set, cacheDir);
  await writeFile(manifestPath, `${JSON.stringify(fresh, null, 1)}\n`);
  return fresh;
}

async function allPresent(cacheDir: string, fs: FixtureSet): Promise<boolean> {
  for (const f of fs.fixtures) {
    try {
      if ((await stat(path.join(cacheDir, f.file))).size !== f.size) return false;
    } catch {
      return false;
    }
  }
  return fs.fixtures.length > 0;
}

async function resolveAndDownload(set: FixtureSetName, cacheDir: string): Promise<FixtureSet> {
  const work = await makeTempDir("resolve");
  try {
    await writeFile(
      path.join(work, "package.json"),
      JSON.stringify({ name: "bench-resolve", version: "1.0.0", private: true }),
    );
    // The registry npm is configured with (the public one); a throwaway cache and HOME so
    // nothing of this machine's npm state is read or written.
    const res = await runCommand(
      "npm",
      [
        "install",
        "--package-lock-only",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        "--cache",
        path.join(work, ".npm-cache"),
        ...ROOTS[set],
      ],
      { cwd: work, env: childEnv({ HOME: work }), timeoutMs: 300_000 },
    );
    if (res.code !== 0) throw new Error(`npm could not resolve the fixture tree:\n${res.stderr}`);
    const lock = JSON.parse(await readFile(path.join(work, "package-lock.json"), "utf8")) as {
      packages: Record<string, LockEntry>;
    };
    const roots: Record<string, string> = {};
    const wanted = new Map<string, { name: string; version: string; url: string; sri: string }>();
    for (const [key, entry] of Object.entries(lock.packages)) {
      if (key === "" || entry.link || !entry.version || !entry.resolved || !entry.integrity) {
        continue;
      }
      const name = entry.name ?? key.slice(key.lastIndexOf("node_modules/") + 13);
      wanted.set(`${name}@${entry.version}`, {
        name,
        version: entry.version,
        url: entry.resolved,
        sri: entry.integrity,
      });
      if (key === `node_modules/${name}` && ROOTS[set].some((r) => r.startsWith(`${name}@`))) {
        roots[name] = entry.version;
      }
    }
    const tarDir = path.join(cacheDir, "tarballs");
    await mkdir(tarDir, { recursive: true });
    const list = [...wanted.values()];
    const fixtures: Fixture[] = [];
    // Eight downloads at a time: quick, and polite to the registry.
    for (let i = 0; i < list.length; i += 8) {
      const batch = await Promise.all(
        list.slice(i, i + 8).map((w) => download(w, cacheDir, tarDir)),
      );
      fixtures.push(...batch);
    }
    fixtures.sort((a, b) => (a.name === b.name ? 0 : a.name < b.name ? -1 : 1));
    console.log(`fixtures: ${fixtures.length} tarballs cached in ${tarDir}`);
    return { set, roots, resolvedAt: new Date().toISOString(), fixtures };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function download(
  w: { name: string; version: string; url: string; sri: string },
  cacheDir: string,
  tarDir: string,
): Promise<Fixture> {
  const file = path.join(tarDir, `${w.name.replace("/", "__")}-${w.version}.tgz`);
  let bytes: Buffer;
  if (existsSync(file)) {
    bytes = await readFile(file);
  } else {
    const res = await fetch(w.url, { signal: AbortSignal.timeout(120_000) });
    if (!res.ok) throw new Error(`GET ${w.url}: ${res.status}`);
    bytes = Buffer.from(await res.arrayBuffer());
  }
  const d = digest(bytes);
  if (w.sri.startsWith("sha512-") && w.sri !== d.integrity) {
    throw new Error(`${w.name}@${w.version}: downloaded bytes do not match the lockfile integrity`);
  }
  await writeFile(file, bytes);
  const files = await readPackageFiles(bytes);
  return {
    name: w.name,
    version: w.version,
    file: path.relative(cacheDir, file),
    size: bytes.length,
    integrity: d.integrity,
    shasum: d.shasum,
    ...files,
  };
}

/**
 * The roots whose dependency closure (by name, over dependencies, optional and peer
 * dependencies) contains none of `avoid`: a tree that a registry missing those can still serve.
 */
export function rootsAvoiding(set: FixtureSet, avoid: Set<string>): Record<string, string> {
  const deps = new Map<string, Set<string>>();
  for (const f of set.fixtures) {
    const pj = f.packageJson as Record<string, Record<string, string> | undefined>;
    const names = deps.get(f.name) ?? new Set<string>();
    for (const field of ["dependencies", "optionalDependencies", "peerDependencies"]) {
      for (const d of Object.keys(pj[field] ?? {})) names.add(d);
    }
    deps.set(f.name, names);
  }
  const out: Record<string, string> = {};
  for (const [root, version] of Object.entries(set.roots)) {
    const seen = new Set<string>([root]);
    const queue = [root];
    // Bounded by the number of names in the set: each is queued once.
    while (queue.length > 0) {
      const name = queue.pop() ?? "";
      for (const d of deps.get(name) ?? []) {
        if (!seen.has(d) && deps.has(d)) {
          seen.add(d);
          queue.push(d);
        }
      }
    }
    if (![...avoid].some((a) => seen.has(a))) out[root] = version;
  }
  return out;
}

export async function fixtureBytes(cacheDir: string, f: Fixture): Promise<Buffer> {
  return readFile(path.join(cacheDir, f.file));
}

// --- synthetic versions ------------------------------------------------------------------------

/**
 * A version of a made-up package whose manifest looks like a real library's (deps, scripts,
 * repository, engines…), so a 2,000-version packument has a realistic size per version.
 */
export function syntheticVersion(
  name: string,
  version: string,
): { packageJson: Record<string, unknown>; readme: string; tgz: Buffer } {
  const short = name.replace(/^@[^/]+\//, "");
  const packageJson = {
    name,
    version,
    description: `Synthetic package ${short} used by the Packr benchmark: many versions, realistic manifests.`,
    main: "./dist/index.js",
    types: "./dist/index.d.ts",
    exports: { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } },
    files: ["dist", "README.md"],
    scripts: {
      build: "tsc -p tsconfig.build.json",
      test: "vitest run",
      lint: "biome check .",
      prepublishOnly: "npm run build",
    },
    keywords: ["benchmark", "registry", "synthetic", "packr"],
    author: { name: "Bench Author", email: "bench@example.test" },
    license: "MIT",
    repository: { type: "git", url: `git+https://example.test/bench/${short}.git` },
    bugs: { url: `https://example.test/bench/${short}/issues` },
    homepage: `https://example.test/bench/${short}#readme`,
    engines: { node: ">=18" },
    // As many dependencies as a mid-size library has: the abbreviated document keeps them, so
    // they set its size (the 2,000-version document is ~2.7 MB abbreviated, ~4 MB full).
    dependencies: {
      "@babel/parser": "^7.24.0",
      "@babel/types": "^7.24.0",
      chalk: "^5.3.0",
      commander: "^12.0.0",
      debug: "^4.3.4",
      "fast-glob": "^3.3.2",
      "graceful-fs": "^4.2.11",
      "lru-cache": "^10.2.0",
      "mime-types": "^2.1.35",
      minimatch: "^9.0.3",
      ms: "^2.1.3",
      picomatch: "^4.0.2",
      semver: "^7.6.0",
      "source-map": "^0.7.4",
      "strip-ansi": "^7.1.0",
      yaml: "^2.4.1",
      zod: "^3.22.4",
    },
    peerDependencies: { typescript: ">=4.8" },
    peerDependenciesMeta: { typescript: { optional: true } },
    devDependencies: {
      "@biomejs/biome": "^1.6.0",
      "@types/debug": "^4.1.12",
      "@types/node": "^20.11.0",
      "@types/semver": "^7.5.8",
      "@vitest/coverage-v8": "^1.4.0",
      c8: "^9.1.0",
      esbuild: "^0.20.2",
      "npm-run-all2": "^6.1.2",
      prettier: "^3.2.5",
      rimraf: "^5.0.5",
      tsup: "^8.0.2",
      tsx: "^4.7.0",
      typescript: "^5.4.0",
      vitest: "^1.4.0",
    },
    bin: { [short]: "./dist/cli.js" },
    gitHead: createGitHead(version),
    _nodeVersion: "20.20.2",
    _npmVersion: "11.19.1",
  };
  const readme = `# ${short}\n\nVersion ${version} of a synthetic package.\n`;
  const tgz = makeTarball({
    "package.json": JSON.stringify(packageJson, null, 2),
    "README.md": readme,
    "dist/index.js": `export const version = ${JSON.stringify(version)};\n`,
  });
  return { packageJson, readme, tgz };
}

function createGitHead(version: string): string {
  let h = 0x811c9dc5;
  for (const ch of version) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0").repeat(5);
}
