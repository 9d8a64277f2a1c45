import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  listPackageCollaborators,
  listScopePackages,
  listUserPackageAccess,
} from "../src/access/team-access.ts";
import type { ServiceContext } from "../src/context.ts";
import {
  addOrgMember,
  addTeamMember,
  createOrg,
  createTeam,
  grantTeamPackage,
} from "../src/index.ts";
import { createTestDeps, type TestDeps, testDrivers, tokenContext } from "../src/testing/index.ts";
import { anonymous, failure, publish } from "./helpers.ts";

describe.each(testDrivers())("npm's views of org and team access on %s", (driver) => {
  let deps: TestDeps;
  let alice: ServiceContext;
  let bob: ServiceContext;
  let dave: ServiceContext;
  let daveScoped: ServiceContext;
  let daveCiRead: ServiceContext;

  beforeAll(async () => {
    deps = await createTestDeps(driver);
    alice = await tokenContext(deps, { user: "alice", role: "maintainer" });
    bob = await tokenContext(deps, { user: "bob", role: "maintainer" });
    dave = await tokenContext(deps, { user: "dave", role: "maintainer" });
    daveScoped = await tokenContext(deps, { user: "dave", role: "maintainer", scopes: ["@other"] });
    daveCiRead = await tokenContext(deps, { user: "dave", role: "ci-readonly", kind: "ci" });
    await tokenContext(deps, { user: "erin", role: "maintainer" });
    await createOrg({ ctx: alice, input: { name: "acme" } });
    await publish(alice, "@acme/widget", ["1.0.0"]);
    await publish(alice, "@acme/gadget", ["1.0.0"]);
    await publish(alice, "@acme/open", ["1.0.0"], { access: "public" });
    await addOrgMember({ ctx: alice, input: { org: "acme", user: "bob", role: "maintainer" } });
    await addOrgMember({ ctx: alice, input: { org: "acme", user: "dave", role: "reader" } });
    await createTeam({ ctx: alice, input: { org: "acme", team: "frontend" } });
    await addTeamMember({ ctx: alice, input: { org: "acme", team: "frontend", user: "dave" } });
    await grantTeamPackage({
      ctx: alice,
      input: { org: "acme", team: "frontend", package: "@acme/gadget", permission: "read-write" },
    });
  });
  afterAll(async () => deps.close());

  it("collaborators: maintainers and org admins/maintainers write, readers read, team grants raise", async () => {
    expect(await listPackageCollaborators({ ctx: alice, input: { name: "@acme/widget" } })).toEqual(
      {
        alice: "write",
        bob: "write",
        dave: "read",
      },
    );
    expect(await listPackageCollaborators({ ctx: bob, input: { name: "@acme/gadget" } })).toEqual({
      alice: "write",
      bob: "write",
      dave: "write",
    });
    expect(
      await listPackageCollaborators({ ctx: alice, input: { name: "@acme/gadget", user: "dave" } }),
    ).toEqual({ dave: "write" });
    expect(
      await listPackageCollaborators({ ctx: alice, input: { name: "@acme/gadget", user: "erin" } }),
    ).toEqual({});
  });

  it("collaborators of a restricted package stay hidden from the anonymous, as the package is", async () => {
    const err = await failure(
      listPackageCollaborators({ ctx: anonymous(deps), input: { name: "@acme/widget" } }),
    );
    expect(err.status).toBeGreaterThanOrEqual(401);
    expect(err.status).toBeLessThanOrEqual(404);
    expect(
      await listPackageCollaborators({ ctx: anonymous(deps), input: { name: "@acme/open" } }),
    ).toMatchObject({ alice: "write", bob: "write", dave: "read" });
  });

  it("scope packages: org maintainers write all, a reader writes only what a team grants", async () => {
    const all = { "@acme/gadget": "write", "@acme/open": "write", "@acme/widget": "write" };
    expect(await listScopePackages({ ctx: alice, input: { org: "acme" } })).toEqual(all);
    expect(await listScopePackages({ ctx: bob, input: { org: "@acme" } })).toEqual(all);
    expect(await listScopePackages({ ctx: dave, input: { org: "acme" } })).toEqual({
      "@acme/gadget": "write",
      "@acme/open": "read",
      "@acme/widget": "read",
    });
    // A token that may not publish into @acme reads what it may.
    for (const ctx of [daveScoped, daveCiRead]) {
      const list = await listScopePackages({ ctx, input: { org: "acme" } });
      expect(Object.values(list).every((v) => v === "read")).toBe(true);
    }
  });

  it("a person's packages: maintained, through org roles and team grants; restricted ones only to themselves", async () => {
    const erin = await tokenContext(deps, { user: "erin", role: "maintainer" });
    expect(await listUserPackageAccess({ ctx: dave, input: { user: "dave" } })).toEqual({
      "@acme/gadget": "write",
      "@acme/open": "read",
      "@acme/widget": "read",
    });
    expect(await listUserPackageAccess({ ctx: bob, input: { user: "bob" } })).toEqual({
      "@acme/gadget": "write",
      "@acme/open": "write",
      "@acme/widget": "write",
    });
    // Someone else sees only the public ones of dave's memberships.
    for (const ctx of [erin, anonymous(deps)]) {
      expect(await listUserPackageAccess({ ctx, input: { user: "dave" } })).toEqual({
        "@acme/open": "read",
      });
    }
    const err = await failure(listUserPackageAccess({ ctx: erin, input: { user: "nobody" } }));
    expect(err.code).toBe("NOT_FOUND");
  });
});
