/**
 * npm's own `org`, `team` and `access grant|revoke|list` commands, run with the real npm 11
 * against a registry process, unmodified: an org admin adds and removes members and teams,
 * grants a team a package and revokes it, and lists packages and collaborators; refusals show as
 * the sentences the registry wrote. The org itself is created before the process starts (npm has
 * no command for that: the dashboard or packr-cli creates orgs).
 */
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createOrg, loadConfig } from "@packr/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createRuntime } from "../src/runtime.ts";
import { type RegistryProcess, seedTokens, startRegistryProcess } from "../test/harness.ts";
import {
  buildTarball,
  Clients,
  describeRun,
  expectFailure,
  expectSuccess,
  makeProject,
  npmrc,
  publishBody,
  putPackage,
  stopRegistry,
} from "./clients.ts";

vi.setConfig({ testTimeout: 120_000 });

let registry: RegistryProcess;
let clients: Clients;
let alice = "";
let bob = "";
let carol = "";
let aliceCi = "";
let dave = "";

beforeAll(async () => {
  clients = await Clients.create("orgs");
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-e2e-orgs-data-"));
  [alice = "", bob = "", carol = "", aliceCi = "", dave = ""] = await seedTokens(dataDir, [
    { user: "alice", role: "maintainer", kind: "personal" },
    { user: "bob", role: "maintainer", kind: "personal" },
    { user: "carol", role: "maintainer", kind: "personal" },
    { user: "alice", role: "ci-readonly", kind: "ci" },
    { user: "dave", role: "maintainer", kind: "personal" },
  ]);
  await seedOrg(dataDir, "acme", alice);
  registry = await startRegistryProcess({ dataDir });
  for (const name of ["@acme/widget", "@acme/gadget"]) await publish(name, alice);
  await publish("loose-e2e", alice, "public");
});

afterAll(async () => {
  await stopRegistry(registry);
  await clients?.cleanup();
});

/** Create the org `name` with the token's user as its admin, before the process owns the data. */
async function seedOrg(dataDir: string, name: string, token: string): Promise<void> {
  const runtime = await createRuntime(
    loadConfig({ PACKR_DATA_DIR: dataDir, PACKR_LOG_LEVEL: "silent", PACKR_UPLINK_URL: "" }),
  );
  try {
    const ctx = {
      deps: runtime.deps,
      actor: await runtime.deps.tokens.verify(token),
      requestId: "seed",
    };
    await createOrg({ ctx, input: { name } });
  } finally {
    await runtime.close();
  }
}

async function publish(
  name: string,
  token: string,
  access: "restricted" | "public" = "restricted",
) {
  const manifest = { name, version: "1.0.0", main: "index.js", license: "MIT" };
  const tarball = await buildTarball(manifest, { "index.js": "module.exports = 1;\n" });
  const res = await putPackage(
    registry.url,
    token,
    name,
    publishBody({ registryUrl: registry.url, manifest, tarball, access }),
  );
  expect(res.status, res.text).toBe(201);
}

/** An empty project directory whose .npmrc carries `token`. */
const workDir = (label: string, token: string) =>
  makeProject(clients, label, {
    manifest: { name: `work-${label}`, version: "0.0.0", private: true },
    npmrc: npmrc(registry.url, token),
  });

const npm = async (args: string[], token = alice) =>
  clients.npm(args, { cwd: await workDir(args.slice(0, 2).join("-"), token) });

/** stdout lines, trimmed, without npm's notices. */
const lines = (out: string) =>
  out
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("npm "));

describe("npm org, team and access against Packr, with the real npm 11", () => {
  it("npm org set / ls / rm: npm's roles map onto Packr's, ls shows Packr's", async () => {
    const ls = expectSuccess(await npm(["org", "ls", "acme"]));
    expect(lines(ls.stdout), describeRun(ls)).toEqual(["alice - admin"]);

    const add = expectSuccess(await npm(["org", "set", "acme", "bob"]));
    expect(add.stdout, describeRun(add)).toContain(
      "Added bob as maintainer to acme. You now have 2 members in this org.",
    );
    const owner = expectSuccess(await npm(["org", "set", "@acme", "carol", "owner"]));
    expect(owner.stdout, describeRun(owner)).toContain("Added carol as admin to acme.");
    const demote = expectSuccess(await npm(["org", "set", "acme", "carol", "developer"]));
    expect(demote.stdout, describeRun(demote)).toContain("Added carol as maintainer to acme.");
    const admin = expectSuccess(await npm(["org", "set", "acme", "bob", "admin"]));
    expect(admin.stdout, describeRun(admin)).toContain("Added bob as admin to acme.");
    expectSuccess(await npm(["org", "set", "acme", "bob", "developer"]));

    const all = expectSuccess(await npm(["org", "ls", "acme", "--json"]));
    expect(JSON.parse(all.stdout), describeRun(all)).toEqual({
      alice: "admin",
      bob: "maintainer",
      carol: "maintainer",
    });
    const one = expectSuccess(await npm(["org", "ls", "acme", "bob"]));
    expect(lines(one.stdout), describeRun(one)).toEqual(["bob - maintainer"]);

    const rm = expectSuccess(await npm(["org", "rm", "acme", "carol"]));
    expect(rm.stdout, describeRun(rm)).toContain(
      "Successfully removed carol from acme. You now have 2 members in this org.",
    );
  });

  it("npm org refusals are sentences: unknown user or org, a non-admin, a CI token, the last admin", async () => {
    expectFailure(await npm(["org", "set", "acme", "ghost-user"]), "404", "ghost-user");
    const noOrg = expectFailure(await npm(["org", "set", "nosuchorg", "bob"]), "404");
    expect(noOrg.output, describeRun(noOrg)).toMatch(/nosuchorg/);
    expect(noOrg.output, describeRun(noOrg)).toMatch(/packr-cli|dashboard/);
    // bob is a maintainer of acme: members are an admin's business.
    expectFailure(await npm(["org", "set", "acme", "carol"], bob), "403", "admin");
    // carol is not a member at all.
    expectFailure(await npm(["org", "rm", "acme", "bob"], carol));
    // alice's read-only CI token manages nothing.
    expectFailure(await npm(["org", "set", "acme", "carol"], aliceCi), "403");
    expectFailure(await npm(["org", "rm", "acme", "alice"]), "409", "admin");
    // npm itself refuses any role but its three, before it sends anything.
    expectFailure(await npm(["org", "set", "acme", "bob", "reader"]), "developer");
    const ls = expectSuccess(await npm(["org", "ls", "acme", "--json"]));
    expect(JSON.parse(ls.stdout)).toEqual({ alice: "admin", bob: "maintainer" });
  });

  it("npm team create / ls / add / rm / destroy", async () => {
    const create = expectSuccess(await npm(["team", "create", "acme:frontend"]));
    expect(create.stdout, describeRun(create)).toContain("+@acme:frontend");
    expectSuccess(await npm(["team", "create", "@acme:backend"]));
    const teams = expectSuccess(await npm(["team", "ls", "acme"]));
    expect(lines(teams.stdout), describeRun(teams)).toEqual([
      "@acme has 2 teams:",
      "@acme:backend",
      "@acme:frontend",
    ]);
    const add = expectSuccess(await npm(["team", "add", "acme:frontend", "bob"]));
    expect(add.stdout, describeRun(add)).toContain("bob added to @acme:frontend");
    expectSuccess(await npm(["team", "add", "acme:frontend", "alice"]));
    const users = expectSuccess(await npm(["team", "ls", "acme:frontend"]));
    expect(lines(users.stdout), describeRun(users)).toEqual([
      "@acme:frontend has 2 users:",
      "alice",
      "bob",
    ]);
    const rm = expectSuccess(await npm(["team", "rm", "acme:frontend", "alice"]));
    expect(rm.stdout, describeRun(rm)).toContain("alice removed from @acme:frontend");
    const json = expectSuccess(await npm(["team", "ls", "acme:frontend", "--json"]));
    expect(JSON.parse(json.stdout)).toEqual(["bob"]);

    const destroy = expectSuccess(await npm(["team", "destroy", "acme:backend"]));
    expect(destroy.stdout, describeRun(destroy)).toContain("-@acme:backend");
    const after = expectSuccess(await npm(["team", "ls", "acme", "--json"]));
    expect(JSON.parse(after.stdout)).toEqual(["acme:frontend"]);

    // Refusals: a team member outside the org, a team that does not exist, a maintainer managing.
    expectFailure(await npm(["team", "add", "acme:frontend", "carol"]), "carol");
    expectFailure(await npm(["team", "add", "acme:nosuchteam", "bob"]), "404", "nosuchteam");
    expectFailure(await npm(["team", "create", "acme:rogue"], bob), "403");
    expectFailure(await npm(["team", "create", "acme:frontend"]), "409");
  });

  it("npm access grant / revoke / list packages for a team, and collaborators reflect it", async () => {
    const grant = expectSuccess(
      await npm(["access", "grant", "read-only", "acme:frontend", "@acme/widget"]),
    );
    expect(grant.code).toBe(0);
    expectSuccess(await npm(["access", "grant", "read-write", "acme:frontend", "@acme/gadget"]));
    const team = expectSuccess(await npm(["access", "list", "packages", "acme:frontend"]));
    expect(lines(team.stdout), describeRun(team)).toEqual([
      "@acme/gadget: read-write",
      "@acme/widget: read-only",
    ]);
    // Raising a grant replaces it.
    expectSuccess(await npm(["access", "grant", "read-write", "acme:frontend", "@acme/widget"]));
    const raised = expectSuccess(
      await npm(["access", "list", "packages", "acme:frontend", "--json"]),
    );
    expect(JSON.parse(raised.stdout)).toEqual({
      "@acme/gadget": "read-write",
      "@acme/widget": "read-write",
    });

    // dave is a reader of acme (Packr's own role: npm cannot send it, so it goes over HTTP); the
    // team's read-write grant raises him on @acme/widget only.
    const reader = await fetch(`${registry.url}/-/org/acme/user`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${alice}` },
      body: JSON.stringify({ user: "dave", role: "reader" }),
    });
    expect(reader.status, await reader.clone().text()).toBe(200);
    expect(await reader.json()).toEqual({
      org: { name: "acme", size: 3 },
      user: "dave",
      role: "reader",
    });
    expectSuccess(await npm(["team", "add", "acme:frontend", "dave"]));
    const collab = expectSuccess(await npm(["access", "list", "collaborators", "@acme/widget"]));
    expect(lines(collab.stdout), describeRun(collab)).toEqual([
      "alice: read-write",
      "bob: read-write",
      "dave: read-write",
    ]);

    const revoke = expectSuccess(await npm(["access", "revoke", "acme:frontend", "@acme/widget"]));
    expect(revoke.code).toBe(0);
    const left = expectSuccess(
      await npm(["access", "list", "packages", "acme:frontend", "--json"]),
    );
    expect(JSON.parse(left.stdout)).toEqual({ "@acme/gadget": "read-write" });
    const readOnly = expectSuccess(
      await npm(["access", "list", "collaborators", "@acme/widget", "dave"]),
    );
    expect(lines(readOnly.stdout), describeRun(readOnly)).toEqual(["dave: read-only"]);
    // The reader himself sees the list too.
    const daves = expectSuccess(
      await npm(["access", "list", "collaborators", "@acme/gadget", "--json"], dave),
    );
    expect(JSON.parse(daves.stdout)).toMatchObject({ dave: "read-write" });
    // npm access list packages with no argument: dave's own, through his org role and team.
    const mine = expectSuccess(await npm(["access", "list", "packages", "--json"], dave));
    expect(JSON.parse(mine.stdout), describeRun(mine)).toEqual({
      "@acme/gadget": "read-write",
      "@acme/widget": "read-only",
    });

    // A grant never reaches outside the org's scope; unknown teams and packages are 404s.
    expectFailure(
      await npm(["access", "grant", "read-only", "acme:frontend", "loose-e2e"]),
      "403",
      "@acme",
    );
    expectFailure(
      await npm(["access", "grant", "read-only", "acme:nosuchteam", "@acme/widget"]),
      "404",
      "nosuchteam",
    );
    expectFailure(
      await npm(["access", "grant", "read-only", "acme:frontend", "@acme/nothing-here"]),
      "404",
    );
    // bob maintains in acme but does not manage access.
    expectFailure(
      await npm(["access", "grant", "read-write", "acme:frontend", "@acme/widget"], bob),
      "403",
    );
  });

  it("npm access list packages for an org and a user, and collaborators with org roles", async () => {
    const org = expectSuccess(await npm(["access", "list", "packages", "acme", "--json"]));
    expect(JSON.parse(org.stdout), describeRun(org)).toMatchObject({
      "@acme/gadget": "read-write",
      "@acme/widget": "read-write",
    });
    const user = expectSuccess(await npm(["access", "list", "packages", "alice", "--json"]));
    expect(JSON.parse(user.stdout), describeRun(user)).toMatchObject({
      "loose-e2e": "read-write",
    });
    const collab = expectSuccess(
      await npm(["access", "list", "collaborators", "@acme/gadget", "--json"]),
    );
    expect(JSON.parse(collab.stdout), describeRun(collab)).toEqual({
      alice: "read-write",
      bob: "read-write",
      dave: "read-write",
    });
    // Leaving the org leaves its teams and the grants they carried.
    expectSuccess(await npm(["org", "rm", "acme", "dave"]));
    const after = expectSuccess(
      await npm(["access", "list", "collaborators", "@acme/gadget", "--json"]),
    );
    expect(JSON.parse(after.stdout), describeRun(after)).toEqual({
      alice: "read-write",
      bob: "read-write",
    });
    const team = expectSuccess(await npm(["team", "ls", "acme:frontend", "--json"]));
    expect(JSON.parse(team.stdout)).toEqual(["bob"]);
  });
});
