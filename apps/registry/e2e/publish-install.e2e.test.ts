/**
 * Publish with npm, pnpm and yarn; read back with `npm view`; install a small graph of packages
 * that depend on each other with all three clients; restart the registry over the same data and
 * install again from each client's lockfile with cold caches.
 */
import { copyFile, readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RegistryProcess, startRegistryProcess } from "../test/harness.ts";
import {
  Clients,
  describeRun,
  escapeName,
  expectSuccess,
  getJson,
  loginToken,
  makeProject,
  npmrc,
  type RunResult,
  stopRegistry,
  yarnrc,
} from "./clients.ts";

// Client runs time out on their own (120 s) with their output; the test allows several of them.
vi.setConfig({ testTimeout: 300_000 });

let registry: RegistryProcess;
let clients: Clients;
let token: string;

beforeAll(async () => {
  clients = await Clients.create("publish");
  registry = await startRegistryProcess();
  token = await loginToken(registry.url, "admin", registry.adminPassword);
});

afterAll(async () => {
  await stopRegistry(registry);
  await clients?.cleanup();
});

/** A package directory whose index.js exports `value`, with .npmrc (and .yarnrc.yml) carrying the token. */
async function packageDir(
  manifest: Record<string, unknown> & { name: string; version: string },
  value: string,
  opts: { yarn?: boolean; index?: string } = {},
): Promise<string> {
  return makeProject(clients, String(manifest.name).replace(/[@/]/g, "_"), {
    manifest: { main: "index.js", license: "MIT", ...manifest },
    files: { "index.js": opts.index ?? `module.exports = ${JSON.stringify(value)};\n` },
    npmrc: npmrc(registry.url, token),
    ...(opts.yarn ? { yarnrc: yarnrc(registry.url, token) } : {}),
  });
}

async function npmPublish(
  manifest: Record<string, unknown> & { name: string; version: string },
  value: string,
  args: string[] = [],
  index?: string,
): Promise<RunResult> {
  const dir = await packageDir(manifest, value, index ? { index } : {});
  const r = expectSuccess(await clients.npm(["publish", ...args], { cwd: dir }));
  expect(r.output, describeRun(r)).toContain(`+ ${manifest.name}@${manifest.version}`);
  return r;
}

/** Anonymous and authenticated GET of a packument: proves public vs restricted. */
async function accessOf(name: string): Promise<{ anonymous: number; withToken: number }> {
  const anonymous = await getJson(registry.url, `/${escapeName(name)}`);
  const withToken = await getJson(registry.url, `/${escapeName(name)}`, token);
  return { anonymous: anonymous.status, withToken: withToken.status };
}

async function versionsOf(name: string): Promise<string[]> {
  const doc = await getJson(registry.url, `/${escapeName(name)}`, token);
  expect(doc.status, doc.text).toBe(200);
  return Object.keys((doc.json as { versions: Record<string, unknown> }).versions);
}

const APP_VALUE = "app widget@1.1.0 lib@1.0.0 pnpm-lib@1.0.0 yarn-pub@1.0.0 yarn-priv@1.0.0";

describe("publish with each client", () => {
  it("npm publish of an unscoped package", async () => {
    await npmPublish({ name: "e2e-lib", version: "1.0.0", description: "unscoped" }, "lib@1.0.0");
    expect(await versionsOf("e2e-lib")).toEqual(["1.0.0"]);
    expect(await accessOf("e2e-lib")).toEqual({ anonymous: 200, withToken: 200 });
  });

  it("npm publish @acme/widget --access public", async () => {
    await npmPublish({ name: "@acme/widget", version: "1.0.0" }, "widget@1.0.0", [
      "--access",
      "public",
    ]);
    expect(await accessOf("@acme/widget")).toEqual({ anonymous: 200, withToken: 200 });
  });

  it("npm publish --access restricted: a new scoped package is private; an existing one keeps its access", async () => {
    await npmPublish({ name: "@acme/secret", version: "1.0.0" }, "secret@1.0.0", [
      "--access",
      "restricted",
    ]);
    const secret = await accessOf("@acme/secret");
    expect(secret).toEqual({ anonymous: 401, withToken: 200 });

    // As on npmjs, `access` in a publish only applies when it creates the package (changing it is
    // `npm access set`), so @acme/widget 1.1.0 lands and the package stays public.
    await npmPublish({ name: "@acme/widget", version: "1.1.0" }, "widget@1.1.0", [
      "--access",
      "restricted",
    ]);
    expect(await accessOf("@acme/widget")).toEqual({ anonymous: 200, withToken: 200 });
  });

  it("npm publish --tag beta sets the beta tag and leaves latest alone", async () => {
    await npmPublish({ name: "@acme/widget", version: "2.0.0-beta.1" }, "widget@2.0.0-beta.1", [
      "--tag",
      "beta",
    ]);
    const doc = await getJson(registry.url, "/@acme%2fwidget", token);
    expect((doc.json as { "dist-tags": Record<string, string> })["dist-tags"]).toEqual({
      latest: "1.1.0",
      beta: "2.0.0-beta.1",
    });
  });

  it("pnpm publish --no-git-checks", async () => {
    const dir = await packageDir({ name: "pnpm-lib", version: "1.0.0" }, "pnpm-lib@1.0.0");
    const r = expectSuccess(
      await clients.pnpm(["publish", "--no-git-checks", "--access", "public"], { cwd: dir }),
    );
    expect(r.output, describeRun(r)).toContain("+ pnpm-lib@1.0.0");
    expect(await versionsOf("pnpm-lib")).toEqual(["1.0.0"]);
  });

  it("yarn npm publish --access public and --access restricted", async () => {
    const pub = await packageDir({ name: "@acme/yarn-pub", version: "1.0.0" }, "yarn-pub@1.0.0", {
      yarn: true,
    });
    // yarn packs from its project state, so the package is installed (no dependencies) first.
    expectSuccess(await clients.yarn(["install", "--no-immutable"], { cwd: pub }));
    const r1 = expectSuccess(
      await clients.yarn(["npm", "publish", "--access", "public"], { cwd: pub }),
    );
    expect(r1.output, describeRun(r1)).toContain("Package archive published");
    expect(await accessOf("@acme/yarn-pub")).toEqual({ anonymous: 200, withToken: 200 });

    const priv = await packageDir(
      { name: "@acme/yarn-priv", version: "1.0.0" },
      "yarn-priv@1.0.0",
      { yarn: true },
    );
    expectSuccess(await clients.yarn(["install", "--no-immutable"], { cwd: priv }));
    const r2 = expectSuccess(
      await clients.yarn(["npm", "publish", "--access", "restricted"], { cwd: priv }),
    );
    expect(r2.output, describeRun(r2)).toContain("Package archive published");
    expect(await accessOf("@acme/yarn-priv")).toEqual({ anonymous: 401, withToken: 200 });
  });

  it("npm publish of @acme/app, which depends on packages from all three clients", async () => {
    await npmPublish(
      {
        name: "@acme/app",
        version: "1.0.0",
        dependencies: {
          "@acme/widget": "^1.0.0",
          "e2e-lib": "^1.0.0",
          "pnpm-lib": "^1.0.0",
          "@acme/yarn-pub": "^1.0.0",
          "@acme/yarn-priv": "^1.0.0",
        },
      },
      "",
      ["--access", "restricted"],
      `module.exports = ["app", require("@acme/widget"), require("e2e-lib"), require("pnpm-lib"), require("@acme/yarn-pub"), require("@acme/yarn-priv")].join(" ");\n`,
    );
  });
});

describe("npm view", () => {
  let viewDir: string;
  beforeAll(async () => {
    viewDir = await makeProject(clients, "view", {
      manifest: { name: "viewer", version: "0.0.0", private: true },
      npmrc: npmrc(registry.url, token),
    });
  });
  const view = async (...args: string[]) =>
    expectSuccess(await clients.npm(["view", ...args], { cwd: viewDir }));

  it("npm view <pkg> shows the latest version, its dist-tags and the publisher", async () => {
    const r = await view("@acme/widget");
    expect(r.stdout, describeRun(r)).toContain("@acme/widget@1.1.0");
    expect(r.stdout, describeRun(r)).toMatch(/beta: 2\.0\.0-beta\.1/);
    expect(r.stdout, describeRun(r)).toMatch(/latest: 1\.1\.0/);
    expect(r.stdout, describeRun(r)).toContain("admin");
    const yarnPkg = await view("@acme/yarn-priv");
    expect(yarnPkg.stdout, describeRun(yarnPkg)).toContain("@acme/yarn-priv@1.0.0");
  });

  it("npm view <pkg>@<range> version resolves ranges", async () => {
    const caret = await view("@acme/widget@^1", "version");
    expect(caret.stdout, describeRun(caret)).toContain("1.0.0");
    expect(caret.stdout, describeRun(caret)).toContain("1.1.0");
    expect(caret.stdout, describeRun(caret)).not.toContain("2.0.0-beta.1");
    const tilde = await view("@acme/widget@~1.0.0", "version");
    expect(tilde.stdout.trim(), describeRun(tilde)).toBe("1.0.0");
    const beta = await view("@acme/widget@beta", "version");
    expect(beta.stdout.trim(), describeRun(beta)).toBe("2.0.0-beta.1");
    const pnpmLib = await view("pnpm-lib@1", "version");
    expect(pnpmLib.stdout.trim(), describeRun(pnpmLib)).toBe("1.0.0");
  });

  it("npm view <pkg> time --json has created, modified and every version", async () => {
    const r = await view("@acme/widget", "time", "--json");
    const time = JSON.parse(r.stdout) as Record<string, string>;
    for (const key of ["created", "modified", "1.0.0", "1.1.0", "2.0.0-beta.1"]) {
      expect(Number.isNaN(Date.parse(time[key] ?? "")), `time.${key} in ${r.stdout}`).toBe(false);
    }
    const at = (k: string) => Date.parse(time[k] ?? "");
    expect(at("created")).toBeLessThanOrEqual(at("1.0.0"));
    expect(at("1.0.0")).toBeLessThanOrEqual(at("1.1.0"));
    expect(at("1.1.0")).toBeLessThanOrEqual(at("2.0.0-beta.1"));
    expect(at("modified")).toBeGreaterThanOrEqual(at("2.0.0-beta.1"));
  });

  it("npm view <pkg> dist-tags --json", async () => {
    const r = await view("@acme/widget", "dist-tags", "--json");
    expect(JSON.parse(r.stdout)).toEqual({ latest: "1.1.0", beta: "2.0.0-beta.1" });
    const y = await view("@acme/yarn-pub", "dist-tags", "--json");
    expect(JSON.parse(y.stdout)).toEqual({ latest: "1.0.0" });
  });
});

describe("install with each client, then again from the lockfiles after a restart", () => {
  const consumer = {
    name: "consumer",
    version: "1.0.0",
    private: true,
    dependencies: { "@acme/app": "^1.0.0" },
  };
  const lockfiles: { npm?: string; pnpm?: string; yarn?: string } = {};

  async function expectAppLoads(dir: string): Promise<void> {
    const node = expectSuccess(
      await clients.nodeEval('console.log(require("@acme/app"))', { cwd: dir }),
    );
    expect(node.stdout.trim(), describeRun(node)).toBe(APP_VALUE);
  }

  it("npm install, then npm ci from its lockfile in another directory", async () => {
    const dir = await makeProject(clients, "npm-install", {
      manifest: consumer,
      npmrc: npmrc(registry.url, token),
    });
    expectSuccess(await clients.npm(["install"], { cwd: dir }));
    await expectAppLoads(dir);
    const lock = JSON.parse(await readFile(path.join(dir, "package-lock.json"), "utf8")) as {
      packages: Record<string, { version?: string; resolved?: string; integrity?: string }>;
    };
    const widget = lock.packages["node_modules/@acme/widget"];
    expect(widget?.version).toBe("1.1.0");
    expect(widget?.resolved).toBe(`${registry.url}/@acme/widget/-/widget-1.1.0.tgz`);
    expect(widget?.integrity).toMatch(/^sha512-/);
    lockfiles.npm = path.join(dir, "package-lock.json");

    const ci = await makeProject(clients, "npm-ci", {
      manifest: consumer,
      npmrc: npmrc(registry.url, token),
    });
    await copyFile(lockfiles.npm, path.join(ci, "package-lock.json"));
    expectSuccess(await clients.npm(["ci"], { cwd: ci }));
    await expectAppLoads(ci);
  });

  it("pnpm install", async () => {
    const dir = await makeProject(clients, "pnpm-install", {
      manifest: consumer,
      npmrc: npmrc(registry.url, token),
    });
    expectSuccess(await clients.pnpm(["install"], { cwd: dir }));
    await expectAppLoads(dir);
    const lock = await readFile(path.join(dir, "pnpm-lock.yaml"), "utf8");
    expect(lock).toContain("'@acme/widget@1.1.0'");
    lockfiles.pnpm = path.join(dir, "pnpm-lock.yaml");
  });

  it("yarn install", async () => {
    const dir = await makeProject(clients, "yarn-install", {
      manifest: consumer,
      yarnrc: yarnrc(registry.url, token),
    });
    // CI=true makes yarn immutable by default; this first install is the one that writes yarn.lock.
    expectSuccess(await clients.yarn(["install", "--no-immutable"], { cwd: dir }));
    await expectAppLoads(dir);
    const lock = await readFile(path.join(dir, "yarn.lock"), "utf8");
    expect(lock).toContain('"@acme/widget@npm:1.1.0"');
    lockfiles.yarn = path.join(dir, "yarn.lock");
  });

  it("after a restart over the same data: npm ci, pnpm install --frozen-lockfile, yarn install --immutable", async () => {
    expect(
      lockfiles.npm && lockfiles.pnpm && lockfiles.yarn,
      "the installs above ran",
    ).toBeTruthy();
    const { dataDir, port } = registry;
    await registry.stop();
    registry = await startRegistryProcess({ dataDir, port });

    const npmDir = await makeProject(clients, "npm-ci-restart", {
      manifest: consumer,
      npmrc: npmrc(registry.url, token),
    });
    await copyFile(String(lockfiles.npm), path.join(npmDir, "package-lock.json"));
    expectSuccess(await clients.npm(["ci"], { cwd: npmDir }));
    await expectAppLoads(npmDir);

    const pnpmDir = await makeProject(clients, "pnpm-frozen-restart", {
      manifest: consumer,
      npmrc: npmrc(registry.url, token),
    });
    await copyFile(String(lockfiles.pnpm), path.join(pnpmDir, "pnpm-lock.yaml"));
    expectSuccess(await clients.pnpm(["install", "--frozen-lockfile"], { cwd: pnpmDir }));
    await expectAppLoads(pnpmDir);

    const yarnDir = await makeProject(clients, "yarn-immutable-restart", {
      manifest: consumer,
      yarnrc: yarnrc(registry.url, token),
    });
    await copyFile(String(lockfiles.yarn), path.join(yarnDir, "yarn.lock"));
    expectSuccess(await clients.yarn(["install", "--immutable"], { cwd: yarnDir }));
    await expectAppLoads(yarnDir);
  });
});
