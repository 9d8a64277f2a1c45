/**
 * A private registry (PACKR_READ_REQUIRES_AUTH=true) with the real npm, pnpm and yarn: a private
 * package and a public one proxied from the uplink (a second Packr on loopback, never the
 * internet) install with a token and fail without one; yarn needs `npmAlwaysAuth: true` (it sends
 * no token for unscoped packages otherwise); npm login, npm logout with the token it revokes,
 * npm ping and npm whoami behave as a private registry's users need.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RegistryProcess, startRegistryProcess } from "../test/harness.ts";
import {
  buildTarball,
  Clients,
  describeRun,
  expectFailure,
  expectSuccess,
  getJson,
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

let upstream: RegistryProcess;
let packr: RegistryProcess;
let token: string;
let clients: Clients;

async function publishTo(
  registry: RegistryProcess,
  auth: string,
  manifest: Manifest,
  access: "public" | "restricted",
): Promise<void> {
  const tarball = await buildTarball(manifest, {
    "index.js": `module.exports = ${JSON.stringify(`${manifest.name}@${manifest.version}`)};\n`,
  });
  const res = await putPackage(
    registry.url,
    auth,
    manifest.name,
    publishBody({ registryUrl: registry.url, manifest, tarball, access }),
  );
  expect(res.status, res.text).toBe(201);
}

const APP = {
  name: "private-app",
  version: "1.0.0",
  private: true,
  dependencies: { "@corp/lib": "^1.0.0", "pub-lib": "^1.0.0" },
};
const PRINT = `console.log(require("@corp/lib") + " " + require("pub-lib"))`;
const EXPECTED = "@corp/lib@1.0.0 pub-lib@1.0.0";

beforeAll(async () => {
  clients = await Clients.create("private");
  upstream = await startRegistryProcess();
  const upstreamToken = await loginToken(upstream.url, "admin", upstream.adminPassword);
  await publishTo(upstream, upstreamToken, { name: "pub-lib", version: "1.0.0" }, "public");
  packr = await startRegistryProcess({
    env: {
      PACKR_UPLINK_URL: upstream.url,
      PACKR_PRIVATE_SCOPES: "@corp",
      PACKR_READ_REQUIRES_AUTH: "true",
    },
  });
  // Signing in is open on a private registry.
  token = await loginToken(packr.url, "admin", packr.adminPassword);
  await publishTo(packr, token, { name: "@corp/lib", version: "1.0.0" }, "restricted");
});

afterAll(async () => {
  await stopRegistry(packr);
  await stopRegistry(upstream);
  await clients?.cleanup();
});

const project = (label: string, files: { npmrc?: string; yarnrc?: string }) =>
  makeProject(clients, label, { manifest: APP, ...files });

async function expectInstalled(dir: string, r: { output: string }): Promise<void> {
  const out = expectSuccess(await clients.nodeEval(PRINT, { cwd: dir }));
  expect(out.stdout.trim(), r.output).toBe(EXPECTED);
}

describe("over plain HTTP", () => {
  it("answers /health and refuses a stranger's packument GET with npm's 401", async () => {
    expect((await fetch(`${packr.url}/health`)).status).toBe(200);
    const anon = await getJson(packr.url, "/pub-lib");
    expect(anon.status).toBe(401);
    expect(anon.headers.get("www-authenticate")).toBe('Bearer realm="packr"');
    expect((anon.json as { code: string }).code).toBe("UNAUTHORIZED");
    expect((await getJson(packr.url, "/pub-lib", token)).status).toBe(200);
  });
});

describe("npm", () => {
  it("installs the private and the proxied package with a token", async () => {
    const dir = await project("npm", { npmrc: npmrc(packr.url, token) });
    const r = expectSuccess(await clients.npm(["install"], { cwd: dir }));
    await expectInstalled(dir, r);
  });

  it("fails without a token, telling the user to log in", async () => {
    const dir = await project("npm-anon", { npmrc: npmrc(packr.url) });
    // npm words a Bearer 401 itself; the registry's own sentence arrives as an npm notice.
    expectFailure(
      await clients.npm(["install"], { cwd: dir }),
      "E401",
      "npm login",
      "npm notice This registry is private: log in to use it.",
    );
  });

  it("npm ping and npm whoami need the token; npm logout revokes it and installs then fail", async () => {
    const own = await loginToken(packr.url, "admin", packr.adminPassword);
    const anonDir = await clients.dir("npm-ping-anon");
    expectFailure(
      await clients.npm(["ping", "--registry", `${packr.url}/`], { cwd: anonDir }),
      "E401",
    );
    const dir = await project("npm-logout", { npmrc: npmrc(packr.url, own) });
    expect(expectSuccess(await clients.npm(["ping"], { cwd: dir })).output).toContain("PONG");
    expect(expectSuccess(await clients.npm(["whoami"], { cwd: dir })).stdout.trim()).toBe("admin");
    expectSuccess(await clients.npm(["logout"], { cwd: dir }));
    // npm logout removed the token from this .npmrc; put the revoked one back, as a stale CI
    // secret would.
    const stale = await project("npm-revoked", { npmrc: npmrc(packr.url, own) });
    const r = expectFailure(await clients.npm(["install"], { cwd: stale }), "E401");
    expect(r.output, describeRun(r)).toContain("npm login");
  });
});

describe("pnpm", () => {
  it("installs the private and the proxied package with a token", async () => {
    const dir = await project("pnpm", { npmrc: npmrc(packr.url, token) });
    const r = expectSuccess(await clients.pnpm(["install"], { cwd: dir }));
    await expectInstalled(dir, r);
  });

  it("fails without a token", async () => {
    const dir = await project("pnpm-anon", { npmrc: npmrc(packr.url) });
    expectFailure(await clients.pnpm(["install"], { cwd: dir }), "ERR_PNPM_FETCH_401");
  });
});

describe("yarn", () => {
  it("installs the private and the proxied package with a token and npmAlwaysAuth: true", async () => {
    const dir = await project("yarn", { yarnrc: yarnrc(packr.url, token) });
    expect(yarnrc(packr.url, token)).toContain("npmAlwaysAuth: true");
    const r = expectSuccess(await clients.yarn(["install", "--no-immutable"], { cwd: dir }));
    await expectInstalled(dir, r);
  });

  it("fails without a token", async () => {
    const dir = await project("yarn-anon", { yarnrc: yarnrc(packr.url) });
    expectFailure(
      await clients.yarn(["install", "--no-immutable"], { cwd: dir }),
      "Invalid authentication (as an anonymous user)",
    );
  });

  it("fails with a token but without npmAlwaysAuth: yarn sends none for the unscoped package", async () => {
    const withoutAlwaysAuth = yarnrc(packr.url, token).replace("npmAlwaysAuth: true\n", "");
    expect(withoutAlwaysAuth).toContain("npmAuthToken");
    expect(withoutAlwaysAuth).not.toContain("npmAlwaysAuth");
    const dir = await project("yarn-no-always-auth", { yarnrc: withoutAlwaysAuth });
    expectFailure(
      await clients.yarn(["install", "--no-immutable"], { cwd: dir }),
      "pub-lib@npm:^1.0.0: Invalid authentication",
    );
  });
});
