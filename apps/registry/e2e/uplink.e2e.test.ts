/**
 * Public packages through Packr, with the real npm, pnpm and yarn: a second Packr process plays
 * the public registry (the uplink), so nothing here touches the internet. Installs through Packr,
 * then again with the uplink stopped (from Packr's cache: tarballs from its blob store, documents
 * served stale), the 503 for a package nothing cached, revalidation with the uplink's ETag
 * (counted in the uplink's own request log), the dependency-confusion guard, and audits.
 */
import { copyFile, readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RegistryProcess, startRegistryProcess } from "../test/harness.ts";
import {
  buildTarball,
  Clients,
  describeRun,
  expectFailure,
  expectSuccess,
  loginToken,
  type Manifest,
  makeProject,
  npmrc,
  publishBody,
  putPackage,
  stopRegistry,
  yarnrc,
} from "./clients.ts";

vi.setConfig({ testTimeout: 300_000 });

const MAX_AGE_S = 2;

let upstream: RegistryProcess;
let upstreamToken: string;
let packr: RegistryProcess;
let token: string;
let clients: Clients;

/** The uplink's own request log (one JSON line per request): method, path, status. */
function upstreamLog(): { method: string; path: string; status: number }[] {
  return upstream
    .output()
    .split("\n")
    .flatMap((line) => {
      try {
        const entry = JSON.parse(line) as { method?: string; path?: string; status?: number };
        return entry.method && entry.path && entry.status
          ? [{ method: entry.method, path: entry.path, status: entry.status }]
          : [];
      } catch {
        return [];
      }
    });
}

async function publishTo(
  registry: RegistryProcess,
  auth: string,
  manifest: Manifest,
  index: string,
): Promise<void> {
  const tarball = await buildTarball(manifest, { "index.js": index });
  const res = await putPackage(
    registry.url,
    auth,
    manifest.name,
    publishBody({ registryUrl: registry.url, manifest, tarball, access: "public" }),
  );
  expect(res.status, res.text).toBe(201);
}

const publicPackage = (name: string, version: string, deps: Record<string, string> = {}) =>
  publishTo(
    upstream,
    upstreamToken,
    { name, version, main: "index.js", license: "MIT", dependencies: deps },
    `module.exports = ${JSON.stringify(`${name}@${version}`)}${Object.keys(deps)
      .map((d) => ` + " " + require(${JSON.stringify(d)})`)
      .join("")};\n`,
  );

const APP = {
  name: "uplink-app",
  version: "1.0.0",
  private: true,
  dependencies: { "pub-lib": "^1.0.0", "@pubscope/tool": "^2.0.0" },
};
const EXPECTED = "pub-lib@1.1.0 pub-dep@1.0.0 | @pubscope/tool@2.0.0";
const PRINT = `console.log(require("pub-lib") + " | " + require("@pubscope/tool"))`;

async function startPackr(env: Record<string, string> = {}): Promise<RegistryProcess> {
  return startRegistryProcess({
    env: {
      PACKR_UPLINK_URL: upstream.url,
      PACKR_UPLINK_MAX_AGE: `${MAX_AGE_S}s`,
      PACKR_UPLINK_TIMEOUT: "2s",
      PACKR_PRIVATE_SCOPES: "@corp",
      ...env,
    },
  });
}

beforeAll(async () => {
  clients = await Clients.create("uplink");
  upstream = await startRegistryProcess();
  upstreamToken = await loginToken(upstream.url, "admin", upstream.adminPassword);
  await publicPackage("pub-dep", "1.0.0");
  await publicPackage("pub-lib", "1.0.0", { "pub-dep": "^1.0.0" });
  await publicPackage("pub-lib", "1.1.0", { "pub-dep": "^1.0.0" });
  await publicPackage("@pubscope/tool", "2.0.0");
  await publicPackage("never-fetched", "1.0.0");
  await publicPackage("revalidated", "1.0.0");

  packr = await startPackr();
  token = await loginToken(packr.url, "admin", packr.adminPassword);
  // Packr's own scope: @acme holds a local package before anyone publishes @acme/* upstream.
  await publishTo(
    packr,
    token,
    { name: "@acme/app", version: "1.0.0", main: "index.js" },
    "module.exports = 'local acme app';\n",
  );
  await publicPackage("@acme/app", "9.0.0");
  await publicPackage("@acme/evil", "9.0.0");
  await publicPackage("@corp/evil", "9.0.0");
});

afterAll(async () => {
  await stopRegistry(packr);
  await stopRegistry(upstream);
  await clients?.cleanup();
});

const project = (label: string, extra: Record<string, string> = {}) =>
  makeProject(clients, label, {
    manifest: APP,
    npmrc: npmrc(packr.url, token),
    ...extra,
  });

/** A new project (no node_modules, cold client caches) with the lockfile of an earlier install. */
async function fromLockfile(
  label: string,
  from: string | undefined,
  lockfile: string,
  yarn = false,
): Promise<string> {
  if (!from) throw new Error(`the install that writes ${lockfile} did not succeed`);
  const dir = await project(label, yarn ? { yarnrc: yarnrc(packr.url, token) } : {});
  await copyFile(path.join(from, lockfile), path.join(dir, lockfile));
  return dir;
}

/** Projects installed while the uplink was up; reinstalled from their lockfiles when it is down. */
const installed: { npm?: string; pnpm?: string; yarn?: string } = {};

describe("installing public packages through Packr", () => {
  it("npm install: every document and tarball comes through Packr, the lockfile names Packr", async () => {
    const dir = await project("npm");
    expectSuccess(await clients.npm(["install"], { cwd: dir }));
    const out = expectSuccess(await clients.nodeEval(PRINT, { cwd: dir }));
    expect(out.stdout.trim()).toBe(EXPECTED);
    const lock = JSON.parse(await readFile(path.join(dir, "package-lock.json"), "utf8"));
    expect(lock.packages["node_modules/pub-lib"].resolved).toBe(
      `${packr.url}/pub-lib/-/pub-lib-1.1.0.tgz`,
    );
    installed.npm = dir;
  });

  it("pnpm install", async () => {
    const dir = await project("pnpm");
    expectSuccess(await clients.pnpm(["install"], { cwd: dir }));
    const out = expectSuccess(await clients.nodeEval(PRINT, { cwd: dir }));
    expect(out.stdout.trim()).toBe(EXPECTED);
    installed.pnpm = dir;
  });

  it("yarn install", async () => {
    const dir = await project("yarn", { yarnrc: yarnrc(packr.url, token) });
    const r = expectSuccess(await clients.yarn(["install", "--no-immutable"], { cwd: dir }));
    const out = expectSuccess(await clients.nodeEval(PRINT, { cwd: dir }));
    expect(out.stdout.trim(), describeRun(r)).toBe(EXPECTED);
    installed.yarn = dir;
  });

  it("npm audit and pnpm audit are forwarded to the uplink's advisory service", async () => {
    const dir = installed.npm ?? "";
    const bulk = () =>
      upstreamLog().filter((r) => r.path === "/-/npm/v1/security/advisories/bulk").length;
    const before = bulk();
    const npmAudit = expectSuccess(await clients.npm(["audit"], { cwd: dir }));
    expect(npmAudit.output).toContain("found 0 vulnerabilities");
    const pnpmAudit = expectSuccess(await clients.pnpm(["audit"], { cwd: installed.pnpm ?? "" }));
    expect(pnpmAudit.output).toContain("No known vulnerabilities found");
    // npm's bulk query and pnpm's npm-6 tree both reach the uplink as bulk queries.
    expect(bulk()).toBe(before + 2);
  });
});

describe("revalidation", () => {
  it("asks the uplink again only after the max age, with its ETag, and gets a 304", async () => {
    const doc = async () =>
      fetch(`${packr.url}/revalidated`, { headers: { accept: "application/json" } });
    const count = () =>
      upstreamLog().filter((r) => r.method === "GET" && r.path === "/revalidated");
    expect((await doc()).status).toBe(200);
    expect(count().map((r) => r.status)).toEqual([200]);
    expect((await doc()).status).toBe(200);
    expect(count()).toHaveLength(1);
    await new Promise((r) => setTimeout(r, MAX_AGE_S * 1000 + 500));
    expect((await doc()).status).toBe(200);
    expect(count().map((r) => r.status)).toEqual([200, 304]);
  });
});

describe("with the uplink down", () => {
  beforeAll(async () => {
    await upstream.stop();
    // Past the max age, so every document needs the uplink (and gets the stale copy).
    await new Promise((r) => setTimeout(r, MAX_AGE_S * 1000 + 500));
  });
  afterAll(async () => {
    upstream = await startRegistryProcess({ dataDir: upstream.dataDir, port: upstream.port });
  });

  it("npm ci from the lockfile, with a cold cache, installs from Packr's cache alone", async () => {
    const dir = await fromLockfile("npm-ci", installed.npm, "package-lock.json");
    expectSuccess(await clients.npm(["ci"], { cwd: dir }));
    expect(expectSuccess(await clients.nodeEval(PRINT, { cwd: dir })).stdout.trim()).toBe(EXPECTED);
  });

  it("npm install with a cold cache resolves from stale documents, marked with a Warning", async () => {
    const dir = await project("npm-down");
    expectSuccess(await clients.npm(["install"], { cwd: dir }));
    expect(expectSuccess(await clients.nodeEval(PRINT, { cwd: dir })).stdout.trim()).toBe(EXPECTED);
    const res = await fetch(`${packr.url}/pub-lib`);
    expect(res.status).toBe(200);
    expect(res.headers.get("warning")).toBe('110 - "Response is stale"');
  });

  it("pnpm install --frozen-lockfile and yarn install --immutable, cold caches, succeed", async () => {
    const pnpmDir = await fromLockfile("pnpm-frozen", installed.pnpm, "pnpm-lock.yaml");
    expectSuccess(await clients.pnpm(["install", "--frozen-lockfile"], { cwd: pnpmDir }));
    expect(expectSuccess(await clients.nodeEval(PRINT, { cwd: pnpmDir })).stdout.trim()).toBe(
      EXPECTED,
    );
    const yarnDir = await fromLockfile("yarn-immutable", installed.yarn, "yarn.lock", true);
    expectSuccess(await clients.yarn(["install", "--immutable"], { cwd: yarnDir }));
    expect(expectSuccess(await clients.nodeEval(PRINT, { cwd: yarnDir })).stdout.trim()).toBe(
      EXPECTED,
    );
  });

  it("a package nothing cached is a 503 with Retry-After, not a 404", async () => {
    const res = await fetch(`${packr.url}/never-fetched`);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("30");
    const dir = await makeProject(clients, "npm-503", {
      manifest: {
        name: "x",
        version: "1.0.0",
        private: true,
        dependencies: { "never-fetched": "1" },
      },
      npmrc: `${npmrc(packr.url, token)}fetch-retries=0\n`,
    });
    expectFailure(await clients.npm(["install"], { cwd: dir }), "503");
  });
});

describe("the dependency-confusion guard", () => {
  it("@acme/* published upstream never reaches a Packr client when Packr owns @acme", async () => {
    const dir = await makeProject(clients, "confusion", {
      manifest: {
        name: "victim",
        version: "1.0.0",
        private: true,
        dependencies: { "@acme/evil": "*" },
      },
      npmrc: npmrc(packr.url, token),
    });
    expectFailure(await clients.npm(["install"], { cwd: dir }), "404");
    const yarnDir = await makeProject(clients, "confusion-yarn", {
      manifest: {
        name: "victim",
        version: "1.0.0",
        private: true,
        dependencies: { "@acme/evil": "*" },
      },
      yarnrc: yarnrc(packr.url, token),
    });
    expectFailure(await clients.yarn(["install", "--no-immutable"], { cwd: yarnDir }));
    // The local @acme/app wins over the uplink's 9.0.0, and a configured private scope is private.
    const app = await fetch(`${packr.url}/@acme%2fapp`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(Object.keys(((await app.json()) as { versions: object }).versions)).toEqual(["1.0.0"]);
    const corp = await fetch(`${packr.url}/@corp%2fevil`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(corp.status).toBe(404);
    const asked = upstreamLog().filter(
      (r) =>
        (r.method === "GET" && r.path.includes("@acme%2fevil")) ||
        r.path.includes("@acme/evil") ||
        r.path.includes("@corp"),
    );
    expect(asked).toEqual([]);
  });
});
