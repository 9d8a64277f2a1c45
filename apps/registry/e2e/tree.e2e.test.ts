/**
 * Load-shaped end-to-end checks: a 60-package dependency tree published in npm's exact body format
 * (tarballs built in-process) and installed with npm install and npm ci on cold caches; and 20
 * concurrent publishes of different versions of one package.
 */
import { copyFile, readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RegistryProcess, startRegistryProcess } from "../test/harness.ts";
import {
  buildTarball,
  Clients,
  describeRun,
  expectSuccess,
  getJson,
  inBatches,
  loginToken,
  type Manifest,
  makeProject,
  npmrc,
  publishBody,
  putPackage,
  stopRegistry,
} from "./clients.ts";

// Client runs time out on their own (120 s) with their output; the test allows several of them.
vi.setConfig({ testTimeout: 300_000 });

let registry: RegistryProcess;
let clients: Clients;
let token: string;

beforeAll(async () => {
  clients = await Clients.create("tree");
  registry = await startRegistryProcess();
  token = await loginToken(registry.url, "admin", registry.adminPassword);
});

afterAll(async () => {
  await stopRegistry(registry);
  await clients?.cleanup();
});

const SIZE = 60;
const MOD = 1_000_003;
const pkgName = (i: number) => `@tree/p${i}`;

/** p0 has no dependencies; p<i> depends on p<i-1> and p<floor(i/2)> (and p<floor(i/3)> when distinct). */
function depsOf(i: number): number[] {
  if (i === 0) return [];
  return [...new Set([i - 1, Math.floor(i / 2), Math.floor(i / 3)])];
}

/** The value p<i>'s index.js computes from its dependencies: what the final require must print. */
function expectedValue(i: number, memo = new Map<number, number>()): number {
  const hit = memo.get(i);
  if (hit !== undefined) return hit;
  const v = depsOf(i).reduce((acc, d) => (acc * 31 + expectedValue(d, memo)) % MOD, i + 7);
  memo.set(i, v);
  return v;
}

function treePackage(i: number): { manifest: Manifest; index: string } {
  const deps = depsOf(i);
  const manifest: Manifest = {
    name: pkgName(i),
    version: "1.0.0",
    description: `tree node ${i}`,
    main: "index.js",
    license: "MIT",
    ...(deps.length
      ? { dependencies: Object.fromEntries(deps.map((d) => [pkgName(d), "^1.0.0"])) }
      : {}),
  };
  const index = [
    `const deps = [${deps.map((d) => `require(${JSON.stringify(pkgName(d))})`).join(", ")}];`,
    `module.exports = deps.reduce((acc, v) => (acc * 31 + v) % ${MOD}, ${i + 7});`,
    "",
  ].join("\n");
  return { manifest, index };
}

describe(`a tree of ${SIZE} packages`, () => {
  it("publishes in npm's body format, in concurrent batches", async () => {
    const results = await inBatches(
      Array.from({ length: SIZE }, (_, i) => i),
      6,
      async (i) => {
        const { manifest, index } = treePackage(i);
        const tarball = await buildTarball(manifest, { "index.js": index });
        const res = await putPackage(
          registry.url,
          token,
          manifest.name,
          publishBody({ registryUrl: registry.url, manifest, tarball, access: "restricted" }),
        );
        return { name: manifest.name, ...res };
      },
    );
    const failed = results.filter((r) => r.status !== 201);
    expect(failed.map((r) => `${r.name}: ${r.status} ${r.text}`)).toEqual([]);

    const top = await getJson(registry.url, `/@tree%2fp${SIZE - 1}`, token);
    expect(top.status).toBe(200);
    const v = (top.json as { versions: Record<string, { dependencies: Record<string, string> }> })
      .versions["1.0.0"];
    expect(v?.dependencies).toEqual(
      Object.fromEntries(depsOf(SIZE - 1).map((d) => [pkgName(d), "^1.0.0"])),
    );
  });

  it(`npm install @tree/p${SIZE - 1}, then npm ci from that lockfile on a cold cache`, async () => {
    const want = String(expectedValue(SIZE - 1));
    const manifest = { name: "tree-consumer", version: "1.0.0", private: true };
    const dir = await makeProject(clients, "tree-install", {
      manifest,
      npmrc: npmrc(registry.url, token),
    });
    const install = expectSuccess(
      await clients.npm(["install", `@tree/p${SIZE - 1}`], { cwd: dir, timeoutMs: 240_000 }),
    );
    expect(install.output, describeRun(install)).toContain(`added ${SIZE} packages`);
    const first = expectSuccess(
      await clients.nodeEval(`console.log(require("@tree/p${SIZE - 1}"))`, { cwd: dir }),
    );
    expect(first.stdout.trim()).toBe(want);

    const lock = JSON.parse(await readFile(path.join(dir, "package-lock.json"), "utf8")) as {
      packages: Record<string, { resolved?: string; integrity?: string }>;
    };
    const locked = Object.keys(lock.packages).filter((k) => k.startsWith("node_modules/@tree/"));
    expect(locked).toHaveLength(SIZE);
    for (const key of locked) {
      expect(lock.packages[key]?.resolved, key).toMatch(
        new RegExp(`^${registry.url}/@tree/p\\d+/-/p\\d+-1\\.0\\.0\\.tgz$`),
      );
      expect(lock.packages[key]?.integrity, key).toMatch(/^sha512-/);
    }

    const ciDir = await makeProject(clients, "tree-ci", {
      manifest: JSON.parse(await readFile(path.join(dir, "package.json"), "utf8")),
      npmrc: npmrc(registry.url, token),
    });
    await copyFile(path.join(dir, "package-lock.json"), path.join(ciDir, "package-lock.json"));
    const ci = expectSuccess(await clients.npm(["ci"], { cwd: ciDir, timeoutMs: 240_000 }));
    expect(ci.output, describeRun(ci)).toContain(`added ${SIZE} packages`);
    const second = expectSuccess(
      await clients.nodeEval(`console.log(require("@tree/p${SIZE - 1}"))`, { cwd: ciDir }),
    );
    expect(second.stdout.trim()).toBe(want);
  });
});

describe("concurrent publishes of one package", () => {
  it("20 PUTs of different versions at once all land", async () => {
    const name = "concurrent-pkg";
    const versions = Array.from({ length: 20 }, (_, i) => `1.${i}.0`);
    const bodies = await Promise.all(
      versions.map(async (version) => {
        const manifest: Manifest = { name, version, main: "index.js" };
        const tarball = await buildTarball(manifest, {
          "index.js": `module.exports = ${JSON.stringify(version)};\n`,
        });
        return publishBody({ registryUrl: registry.url, manifest, tarball });
      }),
    );
    const results = await Promise.all(
      bodies.map(async (body, i) => ({
        version: versions[i],
        ...(await putPackage(registry.url, token, name, body)),
      })),
    );
    const summary = results.map((r) => `${r.version}: ${r.status} ${r.text.slice(0, 200)}`);
    expect(
      results.filter((r) => r.status >= 500),
      summary.join("\n"),
    ).toEqual([]);
    // Every version is new, so every answer is 201 (200 would mean "already there, same bytes").
    expect(
      results.map((r) => r.status),
      summary.join("\n"),
    ).toEqual(versions.map(() => 201));

    const doc = await getJson(registry.url, `/${name}`, token);
    expect(doc.status).toBe(200);
    const packument = doc.json as {
      versions: Record<string, unknown>;
      time: Record<string, string>;
      "dist-tags": Record<string, string>;
    };
    expect(Object.keys(packument.versions).sort()).toEqual([...versions].sort());
    for (const v of versions) expect(packument.time[v], `time of ${v}`).toBeTruthy();
    expect(versions).toContain(packument["dist-tags"].latest);
  });
});
