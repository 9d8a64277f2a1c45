/**
 * A restricted package of an org with the real pnpm 10 and yarn 4: a reader of the org installs
 * it with their CI read token; a signed-in stranger's token gets the 404 of a package that does
 * not exist; no token gets the 401 that says to log in.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type RegistryProcess,
  seedOrgRoles,
  seedTokens,
  startRegistryProcess,
} from "../test/harness.ts";
import {
  buildTarball,
  Clients,
  expectFailure,
  expectSuccess,
  getJson,
  makeProject,
  npmrc,
  publishBody,
  putPackage,
  stopRegistry,
  yarnrc,
} from "./clients.ts";

vi.setConfig({ testTimeout: 300_000 });

let packr: RegistryProcess;
let clients: Clients;
let reader: string;
let stranger: string;

const APP = {
  name: "org-app",
  version: "1.0.0",
  private: true,
  dependencies: { "@acme/lib": "^1.0.0" },
};

beforeAll(async () => {
  clients = await Clients.create("org-access");
  const { mkdtemp } = await import("node:fs/promises");
  const os = await import("node:os");
  const path = await import("node:path");
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-e2e-org-"));
  // Users, tokens and the org before the process owns the (embedded, single-process) database.
  const [alice, ritaCi, strangerCi] = await seedTokens(dataDir, [
    { user: "alice", role: "maintainer", kind: "personal" },
    { user: "rita", role: "ci-readonly" },
    { user: "stranger", role: "ci-readonly" },
  ]);
  reader = ritaCi ?? "";
  stranger = strangerCi ?? "";
  await seedOrgRoles(dataDir, [
    { org: "acme", user: "alice", role: "admin" },
    { org: "acme", user: "rita", role: "reader" },
  ]);
  packr = await startRegistryProcess({ dataDir });
  const manifest = { name: "@acme/lib", version: "1.0.0" };
  const tarball = await buildTarball(manifest, {
    "index.js": `module.exports = "@acme/lib@1.0.0";\n`,
  });
  const res = await putPackage(
    packr.url,
    alice ?? "",
    manifest.name,
    publishBody({ registryUrl: packr.url, manifest, tarball, access: "restricted" }),
  );
  expect(res.status, res.text).toBe(201);
});

afterAll(async () => {
  await stopRegistry(packr);
  await clients?.cleanup();
});

async function expectInstalled(dir: string): Promise<void> {
  const out = expectSuccess(
    await clients.nodeEval(`console.log(require("@acme/lib"))`, { cwd: dir }),
  );
  expect(out.stdout.trim()).toBe("@acme/lib@1.0.0");
}

describe("over plain HTTP", () => {
  it("answers the reader, hides the package from a stranger, asks the anonymous to log in", async () => {
    expect((await getJson(packr.url, "/@acme%2flib", reader)).status).toBe(200);
    const hidden = await getJson(packr.url, "/@acme%2flib", stranger);
    const missing = await getJson(packr.url, "/@acme%2fnothing", stranger);
    expect([hidden.status, missing.status]).toEqual([404, 404]);
    expect((hidden.json as { error: string }).error).toBe(
      "Package @acme/lib is not in this registry.",
    );
    expect((await getJson(packr.url, "/@acme%2flib")).status).toBe(401);
  });
});

describe("pnpm 10", () => {
  it("installs the org's restricted package with a reader's token", async () => {
    const dir = await makeProject(clients, "pnpm-reader", {
      manifest: APP,
      npmrc: npmrc(packr.url, reader),
    });
    expectSuccess(await clients.pnpm(["install"], { cwd: dir }));
    await expectInstalled(dir);
  });

  it("is refused with a stranger's token (404) and without a token (401)", async () => {
    const strangerDir = await makeProject(clients, "pnpm-stranger", {
      manifest: APP,
      npmrc: npmrc(packr.url, stranger),
    });
    expectFailure(await clients.pnpm(["install"], { cwd: strangerDir }), "ERR_PNPM_FETCH_404");
    const anonDir = await makeProject(clients, "pnpm-anon", {
      manifest: APP,
      npmrc: npmrc(packr.url),
    });
    expectFailure(await clients.pnpm(["install"], { cwd: anonDir }), "ERR_PNPM_FETCH_401");
  });
});

describe("yarn 4", () => {
  it("installs the org's restricted package with a reader's token", async () => {
    const dir = await makeProject(clients, "yarn-reader", {
      manifest: APP,
      yarnrc: yarnrc(packr.url, reader),
    });
    expectSuccess(await clients.yarn(["install", "--no-immutable"], { cwd: dir }));
    await expectInstalled(dir);
  });

  it("is refused with a stranger's token (404) and without a token (401)", async () => {
    const strangerDir = await makeProject(clients, "yarn-stranger", {
      manifest: APP,
      yarnrc: yarnrc(packr.url, stranger),
    });
    expectFailure(
      await clients.yarn(["install", "--no-immutable"], { cwd: strangerDir }),
      "@acme/lib@npm:^1.0.0",
      "404",
    );
    const anonDir = await makeProject(clients, "yarn-anon", {
      manifest: APP,
      yarnrc: yarnrc(packr.url),
    });
    expectFailure(
      await clients.yarn(["install", "--no-immutable"], { cwd: anonDir }),
      "Invalid authentication (as an anonymous user)",
    );
  });
});
