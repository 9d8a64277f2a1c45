/**
 * org, team and access: the built CLI against the registry as a process. One org is run the way a
 * company would (create, add people, teams, grants, undo), with the human tables and the `--json`
 * documents (checked against @packr/agent's schemas); the refusals (a maintainer managing members,
 * an unknown user, the last admin, a grant outside the org, no token, a bad token) with their
 * sentences and exit codes; and arguments refused before any request.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  OrgDetails,
  OrgList,
  OrgMemberList,
  OrgMemberResponse,
  OrgResponse,
  TeamList,
  TeamMemberList,
  TeamPackageList,
  TeamPackageResponse,
  TeamResponse,
} from "@packr/agent/schemas";
import { publishBody } from "@packr/core/testing";
import { escapeName, loginToken, npmrc, stopRegistry } from "@packr/registry/e2e/clients";
import {
  type RegistryProcess,
  seedTokens,
  startRegistryProcess,
} from "@packr/registry/test/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliSandbox, cli, fails, jsonError, ok } from "./cli-harness.ts";

let registry: RegistryProcess;
let box: CliSandbox;
/** HOMEs whose ~/.npmrc holds each person's token. */
const homes: Record<"admin" | "alice" | "bob" | "carol" | "nobody", string> = {
  admin: "",
  alice: "",
  bob: "",
  carol: "",
  nobody: "",
};
let aliceToken: string;

beforeAll(async () => {
  box = await CliSandbox.create("orgs");
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-cli-reg-"));
  const tokens = (await seedTokens(dataDir, [
    { user: "alice", role: "maintainer", kind: "personal" },
    { user: "bob", role: "maintainer", kind: "personal" },
    { user: "carol", role: "maintainer", kind: "personal" },
  ])) as [string, string, string];
  aliceToken = tokens[0];
  registry = await startRegistryProcess({ dataDir });
  for (const [i, who] of (["alice", "bob", "carol"] as const).entries()) {
    homes[who] = await box.home(who);
    await writeFile(path.join(homes[who], ".npmrc"), npmrc(registry.url, tokens[i]));
  }
  homes.admin = await box.home("admin");
  await writeFile(
    path.join(homes.admin, ".npmrc"),
    npmrc(registry.url, await loginToken(registry.url, "admin", registry.adminPassword)),
  );
  homes.nobody = await box.home("nobody");
  await writeFile(path.join(homes.nobody, ".npmrc"), npmrc(registry.url));
});

afterAll(async () => {
  await stopRegistry(registry);
  await box?.cleanup();
});

/** packr-cli as one person, against the test registry (named by their ~/.npmrc). */
const as = (who: keyof typeof homes, args: string[]) => cli(args, { home: homes[who] });

async function publish(name: string, token: string): Promise<void> {
  const res = await fetch(`${registry.url}/${escapeName(name)}`, {
    method: "PUT",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(publishBody(name, "1.0.0", { access: "restricted" })),
  });
  expect(res.status, await res.text()).toBe(201);
}

describe("packr-cli org", () => {
  it("creates an org, lists and shows it, as a table and as the API's JSON", async () => {
    const created = ok(
      await as("alice", ["org", "create", "@acme", "--display-name", "Acme Inc."]),
    );
    expect(created.stdout).toContain("Created org @acme (Acme Inc.); you are its admin.");

    const json = OrgResponse.parse(
      ok(await as("alice", ["org", "create", "beta", "--json"])).json(),
    );
    expect(json.org).toMatchObject({ name: "beta", role: "admin", displayName: null });

    const ls = ok(await as("alice", ["org", "ls"])).stdout.split("\n");
    expect(ls[0]).toMatch(/^ORG\s+DISPLAY NAME\s+YOUR ROLE\s+CREATED$/);
    expect(ls.find((l) => l.startsWith("@acme "))).toMatch(/^@acme\s+Acme Inc\.\s+admin\s+\d{4}-/);
    const mine = OrgList.parse(ok(await as("alice", ["org", "list", "--json"])).json());
    expect(mine.orgs.map((o) => [o.name, o.role]).sort()).toEqual([
      ["acme", "admin"],
      ["beta", "admin"],
    ]);
    // A platform admin sees every org with --all, with no role where not a member.
    const all = OrgList.parse(ok(await as("admin", ["org", "ls", "--all", "--json"])).json());
    expect(all.orgs.map((o) => [o.name, o.role])).toEqual([
      ["acme", null],
      ["beta", null],
    ]);
    expect(ok(await as("admin", ["org", "ls"])).stdout).toContain("not a member of any org");
    // Bob belongs to nothing yet.
    expect(ok(await as("bob", ["org", "ls"])).stdout).toContain("You are not a member of any org.");

    await publish("@acme/ui", aliceToken);
    const show = ok(await as("alice", ["org", "show", "acme"])).stdout;
    expect(show).toContain("@acme  Acme Inc.");
    expect(show).toMatch(/your role\s+admin/);
    expect(show).toMatch(/members\s+1/);
    expect(show).toMatch(/packages\s+1/);
    expect(show).toMatch(/@acme\/ui\s+1\.0\.0\s+restricted/);
    const shown = ok(await as("alice", ["org", "show", "@acme", "--json"])).json() as {
      org: unknown;
      packages: { name: string }[];
    };
    expect(OrgDetails.parse(shown.org)).toMatchObject({ name: "acme", memberCount: 1 });
    expect(shown.packages.map((p) => p.name)).toEqual(["@acme/ui"]);
  });

  it("adds members with a role, changes and removes them", async () => {
    expect(ok(await as("alice", ["org", "add", "acme", "bob", "--role", "reader"])).stdout).toBe(
      "Added bob to @acme as reader.\n",
    );
    // Default role, npm's spelling of the org.
    const carol = OrgMemberResponse.parse(
      ok(await as("alice", ["org", "add", "@acme", "carol", "--json"])).json(),
    );
    expect(carol.member).toMatchObject({ user: "carol", role: "maintainer" });

    const table = ok(await as("alice", ["org", "members", "acme"])).stdout.split("\n");
    expect(table[0]).toMatch(/^USER\s+ROLE\s+ADDED$/);
    expect(table.find((l) => l.startsWith("bob "))).toMatch(/^bob\s+reader\s+\d{4}-/);

    // npm's "owner" is Packr's admin.
    expect(ok(await as("alice", ["org", "role", "acme", "bob", "owner"])).stdout).toBe(
      "bob is now admin in @acme.\n",
    );
    ok(await as("alice", ["org", "role", "acme", "bob", "reader"]));
    const members = OrgMemberList.parse(
      ok(await as("alice", ["org", "members", "acme", "--json"])).json(),
    );
    expect(members.members.map((m) => [m.user, m.role]).sort()).toEqual([
      ["alice", "admin"],
      ["bob", "reader"],
      ["carol", "maintainer"],
    ]);
    // Bob now sees the org, with his role.
    expect(OrgList.parse(ok(await as("bob", ["org", "ls", "--json"])).json()).orgs).toEqual([
      expect.objectContaining({ name: "acme", role: "reader" }),
    ]);

    expect(ok(await as("alice", ["org", "rm", "acme", "carol"])).stdout).toBe(
      "Removed carol from @acme.\n",
    );
    expect(ok(await as("alice", ["org", "remove", "acme", "bob", "--json"])).json()).toEqual({
      ok: true,
    });
    ok(await as("alice", ["org", "add", "acme", "bob", "--role", "reader"]));
  });

  it("shows the registry's refusals with their exit codes", async () => {
    // A reader managing members: refused by the registry (403 → exit 3), its sentence printed.
    const denied = fails(await as("bob", ["org", "add", "acme", "carol"]), 3);
    expect(denied.stderr).toMatch(/^error .*acme/m);
    const deniedJson = jsonError(await as("bob", ["org", "add", "acme", "carol", "--json"]));
    expect(deniedJson).toMatchObject({ code: "FORBIDDEN", status: 403, exitCode: 3 });
    expect(deniedJson.error).toBe(denied.stderr.trim().replace(/^error /, ""));
    expect(deniedJson.error).toContain("bob is a reader in @acme");

    // A user who does not exist: 404 naming them (exit 4).
    fails(await as("alice", ["org", "add", "acme", "nosuchuser"]), 4, "nosuchuser");
    // The last admin cannot step down: 409 (exit 1).
    const last = jsonError(await as("alice", ["org", "role", "acme", "alice", "reader", "--json"]));
    expect(last).toMatchObject({ code: "CONFLICT", status: 409, exitCode: 1 });
    expect(last.error).toMatch(/admin/);
    // The same slug in another letter case.
    expect(jsonError(await as("bob", ["org", "create", "ACME", "--json"]))).toMatchObject({
      code: "CONFLICT",
      status: 409,
      exitCode: 1,
    });
    // An org that does not exist.
    fails(await as("alice", ["org", "show", "no-such-org"]), 4);

    // No token at all: refused before any request, with the way to get one.
    fails(await as("nobody", ["org", "ls"]), 3, "packr-cli login");
    // A token the registry refuses: its 401 sentence, then how to get a working token.
    fails(
      await as("nobody", ["org", "ls", "--token", "not-a-token"]),
      3,
      `Run packr-cli login --registry ${registry.url}/`,
    );
  });
});

describe("packr-cli team and access", () => {
  it("creates a team, adds a member, grants and revokes a package, deletes the team", async () => {
    const created = ok(
      await as("alice", ["team", "create", "acme:frontend", "--description", "Web app"]),
    );
    expect(created.stdout).toContain("Created team acme:frontend.");
    const json = TeamResponse.parse(
      ok(await as("alice", ["team", "create", "@acme:ops", "--json"])).json(),
    );
    expect(json.team).toMatchObject({ name: "ops", description: null, memberCount: 0 });

    expect(ok(await as("alice", ["team", "add", "acme:frontend", "bob"])).stdout).toBe(
      "Added bob to acme:frontend.\n",
    );
    const teams = ok(await as("alice", ["team", "ls", "acme"])).stdout.split("\n");
    expect(teams[0]).toMatch(/^TEAM\s+MEMBERS\s+PACKAGES\s+CREATED\s+DESCRIPTION$/);
    expect(teams.find((l) => l.startsWith("acme:frontend "))).toMatch(
      /^acme:frontend\s+1\s+0\s+\d{4}-\d\d-\d\d\s+Web app$/,
    );
    expect(
      TeamList.parse(ok(await as("alice", ["team", "ls", "@acme", "--json"])).json())
        .teams.map((t) => t.name)
        .sort(),
    ).toEqual(["frontend", "ops"]);
    const members = TeamMemberList.parse(
      ok(await as("alice", ["team", "ls", "acme:frontend", "--json"])).json(),
    );
    expect(members.members.map((m) => m.user)).toEqual(["bob"]);
    expect(ok(await as("alice", ["team", "ls", "acme:ops"])).stdout).toContain(
      "Team acme:ops has no members.",
    );

    expect(
      ok(await as("alice", ["access", "grant", "read-write", "acme:frontend", "@acme/ui"])).stdout,
    ).toBe("Granted read-write on @acme/ui to acme:frontend.\n");
    // Without <pkg>: the package of the project in the current directory, as npm access does.
    const project = await box.dir("project", {
      "package.json": JSON.stringify({ name: "@acme/ui", version: "1.0.0" }),
    });
    const again = TeamPackageResponse.parse(
      ok(
        await cli(["access", "grant", "read-only", "acme:frontend", "--json"], {
          home: homes.alice,
          cwd: project,
        }),
      ).json(),
    );
    expect(again.package).toEqual({ name: "@acme/ui", permission: "read-only" });
    const grants = TeamPackageList.parse(
      ok(await as("alice", ["access", "ls", "acme:frontend", "--json"])).json(),
    );
    expect(grants.packages).toEqual([{ name: "@acme/ui", permission: "read-only" }]);
    expect(ok(await as("alice", ["access", "ls", "acme:frontend"])).stdout).toMatch(
      /^PACKAGE\s+PERMISSION\n@acme\/ui\s+read-only\n$/,
    );

    // A grant never reaches outside the org's scope; a reader team member cannot grant.
    await publish("@beta/other", aliceToken);
    const outside = jsonError(
      await as("alice", ["access", "grant", "read-only", "acme:frontend", "@beta/other", "--json"]),
    );
    expect(outside).toMatchObject({ code: "FORBIDDEN", status: 403, exitCode: 3 });
    expect(outside.error).toContain("@beta/other is outside @acme");
    fails(await as("bob", ["access", "revoke", "acme:frontend", "@acme/ui"]), 3);

    expect(ok(await as("alice", ["access", "revoke", "acme:frontend", "@acme/ui"])).stdout).toBe(
      "Revoked acme:frontend's access to @acme/ui.\n",
    );
    expect(ok(await as("alice", ["access", "ls", "acme:frontend"])).stdout).toContain(
      "has access to no packages yet",
    );
    expect(ok(await as("alice", ["team", "rm", "acme:frontend", "bob"])).stdout).toBe(
      "Removed bob from acme:frontend.\n",
    );
    expect(ok(await as("alice", ["team", "delete", "acme:frontend"])).stdout).toBe(
      "Deleted team acme:frontend.\n",
    );
    expect(ok(await as("alice", ["team", "destroy", "acme:ops", "--json"])).json()).toEqual({
      ok: true,
    });
    fails(await as("alice", ["team", "ls", "acme:frontend"]), 4);
  });

  it("refuses bad arguments before any request (exit 2)", async () => {
    fails(
      await as("alice", ["team", "create", "acme"]),
      2,
      'error <org:team> names a team as org:team, such as acme:frontend; got "acme" with no ":team".',
    );
    expect(jsonError(await as("alice", ["team", "add", "acme", "bob", "--json"]))).toMatchObject({
      code: "USAGE",
      status: null,
      exitCode: 2,
    });
    fails(await as("alice", ["org", "show", "acme:frontend"]), 2, "names a team (org:team)");
    fails(await as("alice", ["org", "add", "acme", "bob", "--role", "god"]), 2, "--role must be");
    fails(await as("alice", ["org", "role", "acme", "bob"]), 2, "missing required argument");
    fails(
      await as("alice", ["access", "grant", "write", "acme:frontend", "@acme/ui"]),
      2,
      "read-only or read-write",
    );
    fails(await as("alice", ["access", "grant", "read-only", "acme:frontend"]), 2, "package.json");
    fails(await as("alice", ["org", "create", "a/b"]), 2, "must be an org such as @acme");
    // Even without a token, a usage error is a usage error.
    fails(await as("nobody", ["team", "delete", "acme"]), 2, 'with no ":team"');
  });

  it("lists the commands in help", async () => {
    const help = ok(await as("alice", ["--help"])).stdout;
    for (const c of ["org", "team", "access"]) expect(help).toMatch(new RegExp(`^  ${c} `, "m"));
    const commands = {
      org: ["create", "ls", "show", "members", "add", "remove", "role"],
      team: ["create", "delete", "ls", "add", "remove"],
      access: ["grant", "revoke", "ls"],
    };
    for (const [group, subs] of Object.entries(commands)) {
      for (const command of [[group], ...subs.map((sub) => [group, sub])]) {
        const r = ok(await as("nobody", [...command, "--help"]));
        expect(r.stdout, command.join(" ")).toContain("Examples:\n  $ packr-cli");
        expect(r.stdout).not.toContain("\x1b[");
      }
    }
    const team = ok(await as("alice", ["team", "--help"])).stdout;
    expect(team).toContain("create [options] <org:team>");
    expect(team).toContain("packr-cli team ls acme:frontend");
  });
});
