/**
 * npm search, star/unstar/stars, access, npm view of the new fields, the deprecation notice, and
 * npm outdated/update, driven through the real npm 11 (and pnpm 10 / yarn 4 where they have the
 * command) against the registry as a process. Fixtures are PUT over HTTP as alice.
 */
import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
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
  describeRun,
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

vi.setConfig({ testTimeout: 180_000 });

let registry: RegistryProcess;
let clients: Clients;
let alice = "";
let bob = "";
let reader = "";

beforeAll(async () => {
  clients = await Clients.create("surface");
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-e2e-surface-data-"));
  [alice = "", bob = "", reader = ""] = await seedTokens(dataDir, [
    { user: "alice", role: "maintainer", kind: "personal" },
    { user: "bob", role: "maintainer", kind: "personal" },
    { user: "rita", role: "ci-readonly", kind: "ci" },
  ]);
  // @acme is alice's org; rita (a CI reader) reads its restricted packages as a reader in it.
  await seedOrgRoles(dataDir, [
    { org: "acme", user: "alice", role: "admin" },
    { org: "acme", user: "rita", role: "reader" },
  ]);
  registry = await startRegistryProcess({ dataDir });
  const corpus: Array<[string, Record<string, unknown>, ("public" | "restricted")?]> = [
    ["express", { description: "Fast web framework", keywords: ["web", "framework"] }],
    ["express-session", { description: "Session middleware for express", keywords: ["session"] }],
    ["middleware", { description: "Compose functions", keywords: ["compose"] }],
    ["helmet", { description: "Security headers", keywords: ["middleware", "security"] }],
    [
      "quiet-lib",
      { description: "Quiet things", readme: "# quiet-lib\n\nAlso works as middleware." },
    ],
    ["@acme/express-internal", { description: "Internal express helpers" }, "restricted"],
  ];
  for (const [name, extra, access] of corpus) await fixture(name, "1.0.0", extra, access);
}, 240_000);

afterAll(async () => {
  await stopRegistry(registry);
  await clients?.cleanup();
});

async function fixture(
  name: string,
  version: string,
  extra: Record<string, unknown> = {},
  access: "public" | "restricted" = "public",
) {
  const manifest = {
    name,
    version,
    main: "index.js",
    license: "MIT",
    readme: `# ${name}`,
    ...extra,
  };
  const tarball = await buildTarball(manifest, {
    "index.js": `module.exports = ${JSON.stringify(version)};\n`,
  });
  const res = await putPackage(
    registry.url,
    alice,
    name,
    publishBody({ registryUrl: registry.url, manifest, tarball, access }),
  );
  expect(res.status, res.text).toBe(201);
}

const workDir = (label: string, token?: string) =>
  makeProject(clients, label, {
    manifest: { name: `work-${label}`, version: "0.0.0", private: true },
    npmrc: npmrc(registry.url, token),
  });

/** `npm search --json` → the names in the order the registry ranked them. */
function searchNames(r: { stdout: string }): string[] {
  return (JSON.parse(r.stdout) as Array<{ name: string }>).map((p) => p.name);
}

describe.concurrent("npm search, star, access, view, outdated and update", () => {
  it("npm search ranks exact, prefix, keyword, description, readme; typos still find the name", async () => {
    const cwd = await workDir("search", alice);
    const ranked = expectSuccess(await clients.npm(["search", "--json", "middleware"], { cwd }));
    expect(searchNames(ranked), describeRun(ranked)).toEqual([
      "middleware",
      "helmet",
      "express-session",
      "quiet-lib",
    ]);
    const typo = expectSuccess(await clients.npm(["search", "--json", "exprss"], { cwd }));
    expect(searchNames(typo)[0], describeRun(typo)).toBe("express");
    const prefix = expectSuccess(await clients.npm(["search", "--json", "expres"], { cwd }));
    expect(searchNames(prefix)[0], describeRun(prefix)).toBe("express");
    // Text output: npm prints the version, date, publisher and maintainers it got.
    const text = expectSuccess(await clients.npm(["search", "helmet"], { cwd }));
    expect(text.stdout, describeRun(text)).toContain("helmet");
    expect(text.stdout, describeRun(text)).toContain("Security headers");
    expect(text.stdout, describeRun(text)).toMatch(
      /Version 1\.0\.0 published \d{4}-\d\d-\d\d by alice/,
    );
    expect(text.stdout, describeRun(text)).toContain("Maintainers: alice");
    const paged = expectSuccess(
      await clients.npm(["search", "--json", "--searchlimit", "2", "middleware"], { cwd }),
    );
    expect(searchNames(paged), describeRun(paged)).toEqual(["middleware", "helmet"]);
    const qualified = expectSuccess(
      await clients.npm(["search", "--json", "keywords:security"], { cwd }),
    );
    expect(searchNames(qualified), describeRun(qualified)).toEqual(["helmet"]);
  });

  it("npm search shows restricted packages only to callers who may read them; pnpm search too", async () => {
    const anon = await workDir("search-anon");
    const a = expectSuccess(await clients.npm(["search", "--json", "express"], { cwd: anon }));
    expect(searchNames(a), describeRun(a)).toEqual(["express", "express-session"]);
    const ci = await workDir("search-ci", reader);
    const r = expectSuccess(await clients.npm(["search", "--json", "express"], { cwd: ci }));
    expect(searchNames(r), describeRun(r)).toContain("@acme/express-internal");
    const p = expectSuccess(await clients.pnpm(["search", "--json", "express"], { cwd: anon }));
    expect(p.stdout, describeRun(p)).toContain('"express-session"');
    expect(p.stdout, describeRun(p)).not.toContain("@acme/express-internal");
  });

  it("npm star / stars / unstar, users in npm view and yarn npm info; pnpm stars", async () => {
    const cwd = await workDir("star", bob);
    const star = expectSuccess(await clients.npm(["star", "helmet"], { cwd }));
    expect(star.stdout, describeRun(star)).toContain("helmet");
    const stars = expectSuccess(await clients.npm(["stars"], { cwd }));
    expect(stars.stdout.trim(), describeRun(stars)).toBe("helmet");
    const pnpmStars = expectSuccess(await clients.pnpm(["stars", "bob"], { cwd }));
    expect(pnpmStars.stdout, describeRun(pnpmStars)).toContain("helmet");
    const view = expectSuccess(await clients.npm(["view", "helmet", "users", "--json"], { cwd }));
    expect(JSON.parse(view.stdout), describeRun(view)).toEqual({ bob: true });
    const yarnDir = await makeProject(clients, "star-yarn", {
      manifest: { name: "work-yarn", version: "0.0.0", private: true },
      yarnrc: yarnrc(registry.url, bob),
      files: { "yarn.lock": "" },
    });
    const info = expectSuccess(
      await clients.yarn(["npm", "info", "helmet", "--fields", "users,keywords", "--json"], {
        cwd: yarnDir,
      }),
    );
    expect(JSON.parse(info.stdout), describeRun(info)).toMatchObject({
      users: { bob: true },
      keywords: ["middleware", "security"],
    });
    const unstar = expectSuccess(await clients.npm(["unstar", "helmet"], { cwd }));
    expect(unstar.stdout, describeRun(unstar)).toContain("helmet");
    const none = await clients.npm(["stars"], { cwd });
    expect(none.stdout.trim(), describeRun(none)).toBe("");
    const doc = (await getJson(registry.url, "/helmet")).json as { users?: unknown };
    expect(doc.users).toBeUndefined();
    // Without a token npm refuses before asking (the registry's 401 is covered by the HTTP tests).
    expectFailure(
      await clients.npm(["star", "helmet"], { cwd: await workDir("star-anon") }),
      "ENEEDAUTH",
    );
  });

  it("npm access get / set status, list packages and collaborators; grant to a team that does not exist is a 404", async () => {
    const name = "@acme/access-e2e";
    await fixture(name, "1.0.0", {}, "public");
    const cwd = await workDir("access", alice);
    const get = expectSuccess(await clients.npm(["access", "get", "status", name], { cwd }));
    expect(get.stdout.trim(), describeRun(get)).toBe(`${name}: public`);
    const set = expectSuccess(
      await clients.npm(["access", "set", "status=private", name], { cwd }),
    );
    expect(set.stdout.trim(), describeRun(set)).toBe(`${name}: private`);
    // At once: an anonymous install of it is refused now.
    expect((await getJson(registry.url, `/${name.replace("/", "%2f")}`)).status).toBe(401);
    expectSuccess(await clients.npm(["access", "set", "status=public", name], { cwd }));
    expect((await getJson(registry.url, `/${name.replace("/", "%2f")}`)).status).toBe(200);
    const pnpmGet = expectSuccess(await clients.pnpm(["access", "get", "status", name], { cwd }));
    expect(pnpmGet.stdout, describeRun(pnpmGet)).toContain(`${name}: public`);

    const mine = expectSuccess(await clients.npm(["access", "list", "packages"], { cwd }));
    expect(mine.stdout, describeRun(mine)).toContain("helmet: read-write");
    expect(mine.stdout, describeRun(mine)).toContain(`${name}: read-write`);
    const scope = expectSuccess(
      await clients.npm(["access", "list", "packages", "@acme", "--json"], { cwd }),
    );
    expect(JSON.parse(scope.stdout), describeRun(scope)).toMatchObject({
      "@acme/access-e2e": "read-write",
      "@acme/express-internal": "read-write",
    });
    const collab = expectSuccess(
      await clients.npm(["access", "list", "collaborators", name], { cwd }),
    );
    // alice made @acme by her first publish (its admin); rita reads it as an org reader.
    expect(collab.stdout.trim(), describeRun(collab)).toBe("alice: read-write\nrita: read-only");

    const bobDir = await workDir("access-bob", bob);
    expectFailure(
      await clients.npm(["access", "set", "status=private", name], { cwd: bobDir }),
      "E403",
      "bob is not a member of @acme; changing the access of @acme/access-e2e needs maintainer or admin",
    );
    // There is no team acme:devs (npm-orgs.e2e.test.ts covers the teams of a real org).
    for (const args of [
      ["access", "grant", "read-only", "acme:devs", name],
      ["access", "revoke", "acme:devs", name],
    ]) {
      const r = expectFailure(
        await clients.npm(args, { cwd }),
        "E404",
        "/-/team/acme/devs/package",
      );
      expect(r.output, describeRun(r)).toMatch(/There is no (org @acme|team acme:devs)/);
    }
  });

  it("a package deprecated as a whole brings an npm notice; npm view shows it deprecated", async () => {
    const name = "old-news";
    await fixture(name, "1.0.0");
    const cwd = await workDir("notice", alice);
    expectSuccess(await clients.npm(["deprecate", name, "use new-news"], { cwd }));
    const view = expectSuccess(await clients.npm(["view", name], { cwd }));
    expect(view.output, describeRun(view)).toContain(
      "npm notice old-news is deprecated: use new-news",
    );
    expect(view.output, describeRun(view)).toContain("DEPRECATED");
  });

  it("npm outdated and npm update against Packr", async () => {
    const name = "moving-dep";
    await fixture(name, "1.0.0");
    const cwd = await makeProject(clients, "outdated", {
      manifest: {
        name: "outdated-app",
        version: "1.0.0",
        private: true,
        dependencies: { [name]: "^1.0.0" },
      },
      npmrc: npmrc(registry.url, alice),
    });
    expectSuccess(await clients.npm(["install"], { cwd }));
    await fixture(name, "1.1.0");
    await fixture(name, "2.0.0");
    const outdated = await clients.npm(["outdated", "--json"], { cwd });
    // npm outdated exits 1 when something is outdated.
    expect(outdated.code, describeRun(outdated)).toBe(1);
    expect(JSON.parse(outdated.stdout)[name], describeRun(outdated)).toMatchObject({
      current: "1.0.0",
      wanted: "1.1.0",
      latest: "2.0.0",
    });
    expectSuccess(await clients.npm(["update"], { cwd }));
    const installed = JSON.parse(
      await readFile(path.join(cwd, "node_modules", name, "package.json"), "utf8"),
    );
    expect(installed.version).toBe("1.1.0");
    const after = await clients.npm(["outdated", "--json"], { cwd });
    expect(JSON.parse(after.stdout)[name], describeRun(after)).toMatchObject({
      current: "1.1.0",
      wanted: "1.1.0",
      latest: "2.0.0",
    });
  });
});
