/**
 * The npm command surface beyond publish and install, driven through the real clients: dist-tags
 * (npm, pnpm, yarn), deprecate/undeprecate and the install warning, unpublish of a version (and
 * the refused republish) and of a whole package (and npm view's message), owners, logout, and
 * npm/pnpm audit. Fixtures are PUT over HTTP; the commands under test run the clients. Groups run
 * concurrently, each on its own packages.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadConfig, publishPackage } from "@packr/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createRuntime } from "../src/runtime.ts";
import { type RegistryProcess, seedTokens, startRegistryProcess } from "../test/harness.ts";
import {
  buildTarball,
  Clients,
  describeRun,
  escapeName,
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

vi.setConfig({ testTimeout: 120_000 });

let registry: RegistryProcess;
let clients: Clients;
let alice = "";
let bobToken = "";
let leaver = "";

beforeAll(async () => {
  clients = await Clients.create("commands");
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-e2e-commands-data-"));
  // People's tokens (owner changes refuse CI tokens); seeded before the process owns the database.
  [alice = "", bobToken = "", leaver = ""] = await seedTokens(dataDir, [
    { user: "alice", role: "maintainer", kind: "personal" },
    { user: "bob", role: "maintainer", kind: "personal" },
    { user: "leaver", role: "maintainer", kind: "login" },
  ]);
  await publishBackdated(dataDir, "aged-e2e", ["1.0.0", "1.0.1"], alice, 96);
  registry = await startRegistryProcess({ dataDir });
});

/**
 * The 72-hour rule needs versions published days ago. The registry process reads the real clock,
 * so they are published before it starts, through core with an injected clock, into its data dir.
 */
async function publishBackdated(
  dataDir: string,
  name: string,
  versions: string[],
  token: string,
  hoursAgo: number,
): Promise<void> {
  const runtime = await createRuntime(
    loadConfig({ PACKR_DATA_DIR: dataDir, PACKR_LOG_LEVEL: "silent", PACKR_UPLINK_URL: "" }),
  );
  try {
    const at = new Date(Date.now() - hoursAgo * 3600 * 1000);
    const ctx = {
      deps: { ...runtime.deps, now: () => at },
      actor: await runtime.deps.tokens.verify(token),
      requestId: "backdate",
    };
    for (const version of versions) {
      const manifest = { name, version, main: "index.js" };
      const tarball = await buildTarball(manifest, { "index.js": "module.exports = 1;\n" });
      const body = publishBody({ registryUrl: "", manifest, tarball, access: "public" });
      await publishPackage({ ctx, input: { name, body } });
    }
  } finally {
    await runtime.close();
  }
}

afterAll(async () => {
  await stopRegistry(registry);
  await clients?.cleanup();
});

/** PUT real tarballs of `name` at each version, as alice. */
async function fixture(name: string, versions: string[], extra: Record<string, unknown> = {}) {
  for (const version of versions) {
    const manifest = { name, version, main: "index.js", license: "MIT", ...extra };
    const tarball = await buildTarball(manifest, {
      "index.js": `module.exports = ${JSON.stringify(version)};\n`,
    });
    const res = await putPackage(
      registry.url,
      alice,
      name,
      publishBody({ registryUrl: registry.url, manifest, tarball, access: "public" }),
    );
    expect(res.status, res.text).toBe(201);
  }
}

/** An empty project directory whose .npmrc carries `token`. */
const workDir = (label: string, token = alice) =>
  makeProject(clients, label, {
    manifest: { name: `work-${label}`, version: "0.0.0", private: true },
    npmrc: npmrc(registry.url, token),
  });

const tagsOf = async (name: string) =>
  (await getJson(registry.url, `/-/package/${escapeName(name)}/dist-tags`, alice)).json;

describe.concurrent("npm commands", () => {
  it("npm dist-tag ls / add / rm, and latest cannot be removed", async () => {
    const name = "@acme/tag-npm";
    await fixture(name, ["1.0.0", "1.1.0"]);
    const cwd = await workDir("tag-npm");
    const ls = expectSuccess(await clients.npm(["dist-tag", "ls", name], { cwd }));
    expect(ls.stdout, describeRun(ls)).toContain("latest: 1.1.0");
    const add = expectSuccess(
      await clients.npm(["dist-tag", "add", `${name}@1.0.0`, "stable"], { cwd }),
    );
    expect(add.stdout, describeRun(add)).toContain(`+stable: ${name}@1.0.0`);
    const ls2 = expectSuccess(await clients.npm(["dist-tag", "ls", name], { cwd }));
    expect(ls2.stdout, describeRun(ls2)).toContain("stable: 1.0.0");
    const rm = expectSuccess(await clients.npm(["dist-tag", "rm", name, "stable"], { cwd }));
    expect(rm.stdout, describeRun(rm)).toContain(`-stable: ${name}@1.0.0`);
    expect(await tagsOf(name)).toEqual({ latest: "1.1.0" });
    expectFailure(
      await clients.npm(["dist-tag", "rm", name, "latest"], { cwd }),
      "cannot be removed, only moved",
    );
  });

  it("pnpm dist-tag add / ls (pnpm 10 runs npm)", async () => {
    const name = "@acme/tag-pnpm";
    await fixture(name, ["1.0.0", "2.0.0"]);
    const cwd = await workDir("tag-pnpm");
    expectSuccess(await clients.pnpm(["dist-tag", "add", `${name}@1.0.0`, "legacy"], { cwd }));
    const ls = expectSuccess(await clients.pnpm(["dist-tag", "ls", name], { cwd }));
    expect(ls.output, describeRun(ls)).toContain("legacy: 1.0.0");
    expect(await tagsOf(name)).toEqual({ latest: "2.0.0", legacy: "1.0.0" });
  });

  it("yarn npm tag list / add / remove", async () => {
    const name = "tag-yarn";
    await fixture(name, ["1.0.0", "1.1.0"]);
    const cwd = await makeProject(clients, "tag-yarn", {
      manifest: { name: "work-yarn", version: "0.0.0", private: true },
      yarnrc: yarnrc(registry.url, alice),
      files: { "yarn.lock": "" },
    });
    const add = expectSuccess(
      await clients.yarn(["npm", "tag", "add", `${name}@1.0.0`, "lts"], { cwd }),
    );
    expect(add.output, describeRun(add)).toContain("lts");
    const list = expectSuccess(await clients.yarn(["npm", "tag", "list", name], { cwd }));
    expect(list.output, describeRun(list)).toContain(`${name}@lts → 1.0.0`);
    expect(list.output, describeRun(list)).toContain(`${name}@latest → 1.1.0`);
    expectSuccess(await clients.yarn(["npm", "tag", "remove", name, "lts"], { cwd }));
    expect(await tagsOf(name)).toEqual({ latest: "1.1.0" });
  });

  it("npm deprecate a range warns on install; npm undeprecate and deprecate '' clear it", async () => {
    const name = "dep-e2e";
    await fixture(name, ["1.0.0", "1.1.0", "2.0.0"]);
    const cwd = await workDir("deprecate");
    expectSuccess(await clients.npm(["deprecate", `${name}@<2`, "use dep-e2e 2"], { cwd }));
    const install = await makeProject(clients, "dep-install", {
      manifest: { name: "dep-consumer", version: "1.0.0", private: true },
      npmrc: npmrc(registry.url, alice),
    });
    const r = expectSuccess(await clients.npm(["install", `${name}@1.1.0`], { cwd: install }));
    expect(r.output, describeRun(r)).toContain(`deprecated ${name}@1.1.0: use dep-e2e 2`);

    expectSuccess(await clients.npm(["undeprecate", `${name}@1.1.0`], { cwd }));
    expectSuccess(await clients.npm(["deprecate", `${name}@1.0.0`, ""], { cwd }));
    const doc = (await getJson(registry.url, `/${name}`)).json as {
      versions: Record<string, { deprecated?: string }>;
    };
    expect(doc.versions["1.0.0"]?.deprecated).toBeUndefined();
    expect(doc.versions["1.1.0"]?.deprecated).toBeUndefined();
    expect(doc.versions["2.0.0"]?.deprecated).toBeUndefined();
  });

  it("npm unpublish pkg@version leaves a tombstone that npm publish cannot fill again", async () => {
    const name = "unpub-one";
    await fixture(name, ["1.0.0", "1.1.0"]);
    const cwd = await workDir("unpub-one");
    const r = expectSuccess(await clients.npm(["unpublish", `${name}@1.1.0`], { cwd }));
    expect(r.stdout, describeRun(r)).toContain(`- ${name}@1.1.0`);
    const doc = (await getJson(registry.url, `/${name}`)).json as {
      versions: Record<string, unknown>;
      time: Record<string, unknown>;
      "dist-tags": Record<string, string>;
    };
    expect(Object.keys(doc.versions)).toEqual(["1.0.0"]);
    expect(doc.time["1.1.0"]).toBeTypeOf("string");
    expect(doc["dist-tags"]).toEqual({ latest: "1.0.0" });
    expect((await fetch(`${registry.url}/${name}/-/${name}-1.1.0.tgz`)).status).toBe(404);

    const again = await makeProject(clients, "republish", {
      manifest: { name, version: "1.1.0", main: "index.js" },
      files: { "index.js": "module.exports = 'again';\n" },
      npmrc: npmrc(registry.url, alice),
    });
    expectFailure(
      await clients.npm(["publish"], { cwd: again }),
      "409 Conflict",
      `${name}@1.1.0 was unpublished, and a version number can never be reused`,
    );
  });

  it("npm unpublish of a version older than 72 hours is refused, pointing at npm deprecate", async () => {
    const cwd = await workDir("unpub-aged");
    expectFailure(
      await clients.npm(["unpublish", "aged-e2e@1.0.1"], { cwd }),
      "E403",
      "more than 72 hours ago, and can no longer be unpublished",
      'npm deprecate aged-e2e@1.0.1 "<reason>"',
    );
    expectFailure(await clients.npm(["unpublish", "aged-e2e", "--force"], { cwd }), "E403");
    const doc = (await getJson(registry.url, "/aged-e2e")).json as {
      versions: Record<string, unknown>;
    };
    expect(Object.keys(doc.versions)).toEqual(["1.0.0", "1.0.1"]);
  });

  it("npm unpublish --force removes a whole package; npm view says when", async () => {
    const name = "@acme/unpub-all";
    await fixture(name, ["1.0.0", "1.0.1"]);
    const cwd = await workDir("unpub-all");
    expectFailure(
      await clients.npm(["unpublish", name], { cwd }),
      "Refusing to delete entire project",
    );
    const r = expectSuccess(await clients.npm(["unpublish", name, "--force"], { cwd }));
    expect(r.stdout, describeRun(r)).toContain(`- ${name}`);
    const view = await clients.npm(["view", name], { cwd });
    expectFailure(view, "E404", "Unpublished on ");
    expect((await fetch(`${registry.url}/${escapeName(name)}/-/unpub-all-1.0.0.tgz`)).status).toBe(
      404,
    );
  });

  it("npm owner ls / add / rm", async () => {
    const name = "owned-e2e";
    await fixture(name, ["1.0.0"]);
    const cwd = await workDir("owner");
    const ls = expectSuccess(await clients.npm(["owner", "ls", name], { cwd }));
    expect(ls.stdout, describeRun(ls)).toContain("alice <alice@example.test>");
    const add = expectSuccess(await clients.npm(["owner", "add", "bob", name], { cwd }));
    expect(add.stdout, describeRun(add)).toContain(`+ bob (${name})`);
    const ls2 = expectSuccess(await clients.npm(["owner", "ls", name], { cwd }));
    expect(ls2.stdout, describeRun(ls2)).toContain("bob <bob@example.test>");
    expectFailure(
      await clients.npm(["owner", "add", "nobody-at-all", name], { cwd }),
      "nobody-at-all",
    );
    // bob, now an owner, removes alice.
    const bobDir = await workDir("owner-bob", bobToken);
    const rm = expectSuccess(await clients.npm(["owner", "rm", "alice", name], { cwd: bobDir }));
    expect(rm.stdout, describeRun(rm)).toContain(`- alice (${name})`);
    const ls3 = expectSuccess(await clients.npm(["owner", "ls", name], { cwd }));
    expect(ls3.stdout.trim(), describeRun(ls3)).toBe("bob <bob@example.test>");
  });

  it("npm logout revokes the token: npm whoami with it fails afterwards", async () => {
    const cwd = await workDir("logout", leaver);
    const who = expectSuccess(await clients.npm(["whoami"], { cwd }));
    expect(who.stdout.trim()).toBe("leaver");
    expectSuccess(await clients.npm(["logout"], { cwd }));
    expect(await readFile(path.join(cwd, ".npmrc"), "utf8")).not.toContain("_authToken");
    // npm removed the token from .npmrc; put it back to prove the registry refuses it now.
    await writeFile(path.join(cwd, ".npmrc"), npmrc(registry.url, leaver));
    expectFailure(await clients.npm(["whoami"], { cwd }), "E401");
    expect((await getJson(registry.url, "/-/whoami", leaver)).status).toBe(401);
  });

  it("npm audit and pnpm audit succeed with no vulnerabilities", async () => {
    const name = "audited-dep";
    await fixture(name, ["1.0.0"]);
    const manifest = {
      name: "audited-app",
      version: "1.0.0",
      private: true,
      dependencies: { [name]: "^1.0.0" },
    };
    const npmDir = await makeProject(clients, "audit-npm", {
      manifest,
      npmrc: npmrc(registry.url, alice),
    });
    expectSuccess(await clients.npm(["install"], { cwd: npmDir }));
    const npmAudit = expectSuccess(await clients.npm(["audit"], { cwd: npmDir }));
    expect(npmAudit.output, describeRun(npmAudit)).toContain("found 0 vulnerabilities");

    const pnpmDir = await makeProject(clients, "audit-pnpm", {
      manifest,
      npmrc: npmrc(registry.url, alice),
    });
    const sandbox = await clients.sandbox();
    expectSuccess(await clients.pnpm(["install"], { cwd: pnpmDir, sandbox }));
    const pnpmAudit = expectSuccess(await clients.pnpm(["audit"], { cwd: pnpmDir, sandbox }));
    expect(pnpmAudit.output, describeRun(pnpmAudit)).toContain("No known vulnerabilities found");
    // Both really asked the registry: npm the gzipped bulk endpoint, pnpm the quick one.
    expect(registry.output()).toMatch(
      /"path":"\/-\/npm\/v1\/security\/advisories\/bulk","status":200/,
    );
    expect(registry.output()).toMatch(
      /"path":"\/-\/npm\/v1\/security\/audits\/quick","status":200/,
    );
  });
});
