/**
 * Every change of someone's org role, org or team membership, or a team's grants announces their
 * user ids on ACCESS_CHANGED at commit, so every instance drops what it cached for them. Seen from
 * a second connection to the same PostgreSQL database, as another instance would see it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_CHANGED } from "../src/auth/user-access.ts";
import type { ServiceContext } from "../src/context.ts";
import { type DatabaseHandle, openDatabase } from "../src/db/client.ts";
import { createOrg } from "../src/orgs/create-org.ts";
import { deleteOrg } from "../src/orgs/delete-org.ts";
import { addOrgMember, removeOrgMember, setOrgMemberRole } from "../src/orgs/org-members.ts";
import { addTeamMember, removeTeamMember } from "../src/orgs/team-members.ts";
import { grantTeamPackage, revokeTeamPackage } from "../src/orgs/team-packages.ts";
import { createTeam, deleteTeam } from "../src/orgs/teams.ts";
import { unpublishPackage } from "../src/packages/unpublish-package.ts";
import {
  createScratchDatabase,
  createTestDeps,
  type TestDeps,
  tokenContext,
} from "../src/testing/index.ts";
import { publish, readDoc } from "./helpers.ts";

const base = process.env.DATABASE_URL;

describe.skipIf(!base)("org changes announce access changes (PostgreSQL)", () => {
  let scratch: { url: string; drop(): Promise<void> };
  let deps: TestDeps;
  let other: DatabaseHandle;
  let alice: ServiceContext;
  const ids: Record<string, string> = {};
  const heard: string[] = [];

  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /**
   * Run a change and return the user names announced for it. Notifications of earlier changes
   * are drained first (they arrive asynchronously); the change's own arrive shortly after commit.
   */
  async function announced(change: () => Promise<unknown>): Promise<string[]> {
    await pause(150);
    heard.length = 0;
    await change();
    await pause(150);
    const names = Object.fromEntries(Object.entries(ids).map(([n, id]) => [id, n]));
    return heard
      .flatMap((p) => p.split(","))
      .map((id) => names[id] ?? id)
      .sort();
  }

  beforeAll(async () => {
    scratch = await createScratchDatabase(base as string);
    deps = await createTestDeps("postgres", scratch.url);
    other = await openDatabase({ driver: "postgres", url: scratch.url, maxConnections: 2 });
    await other.listen(ACCESS_CHANGED, { onNotify: (p) => heard.push(p), onListening: () => {} });
    alice = await tokenContext(deps, { user: "alice", role: "maintainer" });
    for (const name of ["alice", "bob", "carol"]) {
      const ctx =
        name === "alice" ? alice : await tokenContext(deps, { user: name, role: "maintainer" });
      ids[name] = (ctx.actor as { userId: string }).userId;
    }
  });
  afterAll(async () => {
    await other?.close();
    await deps?.close();
    await scratch?.drop();
  });

  it("announces each member whose access changed, and nobody else", async () => {
    expect(await announced(() => createOrg({ ctx: alice, input: { name: "acme" } }))).toEqual([
      "alice",
    ]);
    const org = "acme";
    expect(
      await announced(() =>
        addOrgMember({ ctx: alice, input: { org, user: "bob", role: "reader" } }),
      ),
    ).toEqual(["bob"]);
    await addOrgMember({ ctx: alice, input: { org, user: "carol", role: "reader" } });
    expect(
      await announced(() =>
        setOrgMemberRole({ ctx: alice, input: { org, user: "bob", role: "maintainer" } }),
      ),
    ).toEqual(["bob"]);
    // Creating an empty team changes nobody's access.
    expect(await announced(() => createTeam({ ctx: alice, input: { org, team: "web" } }))).toEqual(
      [],
    );
    expect(
      await announced(() =>
        addTeamMember({ ctx: alice, input: { org, team: "web", user: "bob" } }),
      ),
    ).toEqual(["bob"]);
    await addTeamMember({ ctx: alice, input: { org, team: "web", user: "carol" } });
    await publish(alice, "@acme/ui", ["1.0.0"]);
    // A grant reaches every member of the team.
    expect(
      await announced(() =>
        grantTeamPackage({
          ctx: alice,
          input: { org, team: "web", package: "@acme/ui", permission: "read-write" },
        }),
      ),
    ).toEqual(["bob", "carol"]);
    expect(
      await announced(() =>
        revokeTeamPackage({ ctx: alice, input: { org, team: "web", package: "@acme/ui" } }),
      ),
    ).toEqual(["bob", "carol"]);
    expect(
      await announced(() =>
        removeTeamMember({ ctx: alice, input: { org, team: "web", user: "carol" } }),
      ),
    ).toEqual(["carol"]);
    expect(await announced(() => deleteTeam({ ctx: alice, input: { org, team: "web" } }))).toEqual([
      "bob",
    ]);
    expect(
      await announced(() => removeOrgMember({ ctx: alice, input: { org, user: "carol" } })),
    ).toEqual(["carol"]);
    await unpublishPackage({
      ctx: alice,
      input: { name: "@acme/ui", rev: (await readDoc(alice, "@acme/ui"))._rev },
    });
    expect(await announced(() => deleteOrg({ ctx: alice, input: { org } }))).toEqual([
      "alice",
      "bob",
    ]);
  });

  it("announces nothing for a refused change", async () => {
    await createOrg({ ctx: alice, input: { name: "solo" } });
    expect(
      await announced(() =>
        removeOrgMember({ ctx: alice, input: { org: "solo", user: "alice" } }).catch(() => {}),
      ),
    ).toEqual([]);
  });
});
