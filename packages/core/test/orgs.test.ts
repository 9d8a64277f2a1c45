/**
 * Organizations and teams, the core verbs: who may create and manage them, the rules they keep
 * (free npm-scope slugs, an admin always left, team members are org members, grants stay inside
 * the scope) and the audit row and outbox event every change writes in its transaction.
 */
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceContext } from "../src/context.ts";
import { auditEvents, outbox, packages } from "../src/db/schema/index.ts";
import { createOrg } from "../src/orgs/create-org.ts";
import { deleteOrg } from "../src/orgs/delete-org.ts";
import { getOrg, listMyOrgs, listOrgs } from "../src/orgs/list-orgs.ts";
import {
  addOrgMember,
  listOrgMembers,
  removeOrgMember,
  setOrgMemberRole,
} from "../src/orgs/org-members.ts";
import { listPublicOrgPackages } from "../src/orgs/org-packages.ts";
import { addTeamMember, listTeamMembers, removeTeamMember } from "../src/orgs/team-members.ts";
import {
  grantTeamPackage,
  listTeamPackages,
  revokeTeamPackage,
} from "../src/orgs/team-packages.ts";
import { createTeam, deleteTeam, listTeams } from "../src/orgs/teams.ts";
import { updateOrg } from "../src/orgs/update-org.ts";
import { unpublishPackage } from "../src/packages/unpublish-package.ts";
import { createTestDeps, type TestDeps, testDrivers, tokenContext } from "../src/testing/index.ts";
import { anonymous, failure, publish, readDoc } from "./helpers.ts";

describe.each(testDrivers())("orgs and teams on %s", (driver) => {
  let deps: TestDeps;
  let alice: ServiceContext; // creates @acme: its first admin
  let bob: ServiceContext; // becomes a reader, then maintainer
  let carol: ServiceContext; // never a member
  let dave: ServiceContext; // a second admin
  let root: ServiceContext; // platform admin
  let aliceCiRead: ServiceContext;
  let aliceCiPublish: ServiceContext;
  let aliceSession: ServiceContext;

  /** The audit rows of one action, oldest first. */
  const audits = (action: string) =>
    deps.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.action, action))
      .orderBy(auditEvents.createdAt);
  /** The outbox events of one type (webhook deliveries to be), oldest first. */
  const events = async (type: string) =>
    (
      await deps.db
        .select({ payload: outbox.payload })
        .from(outbox)
        .where(sql`${outbox.payload}->>'type' = ${type}`)
        .orderBy(outbox.id)
    ).map((r) => r.payload as Record<string, unknown> & { data: Record<string, unknown> });

  beforeAll(async () => {
    deps = await createTestDeps(driver);
    alice = await tokenContext(deps, { user: "alice", role: "maintainer" });
    bob = await tokenContext(deps, { user: "bob", role: "maintainer" });
    carol = await tokenContext(deps, { user: "carol", role: "maintainer" });
    dave = await tokenContext(deps, { user: "dave", role: "maintainer" });
    root = await tokenContext(deps, { user: "root", role: "admin", isAdmin: true });
    aliceCiRead = await tokenContext(deps, { user: "alice", role: "ci-readonly", kind: "ci" });
    aliceCiPublish = await tokenContext(deps, { user: "alice", role: "ci-publish", kind: "ci" });
    const a = alice.actor as { userId: string };
    aliceSession = {
      deps,
      requestId: "t",
      actor: {
        type: "session",
        sessionId: "ses_test",
        userId: a.userId,
        userName: "alice",
        userEmail: null,
        isAdmin: false,
      },
    };
  });
  afterAll(async () => deps.close());

  describe("creating orgs", () => {
    it("makes the creator its first admin, folds @ and letter case, and records it", async () => {
      const org = await createOrg({
        ctx: alice,
        input: { name: "@Acme", displayName: "  Acme Inc.  " },
      });
      expect(org).toMatchObject({ name: "acme", displayName: "Acme Inc.", role: "admin" });
      expect(await listMyOrgs({ ctx: alice })).toMatchObject([{ name: "acme", role: "admin" }]);
      expect(await listOrgs({ ctx: alice })).toMatchObject([{ name: "acme", role: "admin" }]);
      expect(await listMyOrgs({ ctx: bob })).toEqual([]);
      expect(await getOrg({ ctx: alice, input: { org: "acme" } })).toMatchObject({
        name: "acme",
        role: "admin",
        memberCount: 1,
        teamCount: 0,
        packageCount: 0,
      });
      const [audit] = await audits("org.created");
      expect(audit).toMatchObject({ orgId: org.id, actorName: "alice", targetId: org.id });
      expect(await events("org.created")).toMatchObject([{ orgId: org.id, data: { org: "acme" } }]);
    });

    it("refuses a second org of the same name in any letter case", async () => {
      for (const name of ["acme", "ACME", "@AcMe"]) {
        const err = await failure(createOrg({ ctx: bob, input: { name } }));
        expect(err.code).toBe("CONFLICT");
        expect(err.message).toContain("@acme already exists");
      }
    });

    it("refuses slugs that are not npm scopes", async () => {
      for (const name of [
        "",
        "../x",
        "a/b",
        "a b",
        ".x",
        "_x",
        "x\u0000",
        "%00",
        "ac%2Fme",
        "x".repeat(300),
        "ünïcode",
      ]) {
        const err = await failure(createOrg({ ctx: bob, input: { name } }));
        expect(err.code, name).toBe("VALIDATION");
        expect(err.message).toContain("not a valid org name");
      }
    });

    it("refuses another user's name, and a scope holding someone else's packages", async () => {
      const taken = await failure(createOrg({ ctx: alice, input: { name: "Bob" } }));
      expect(taken.code).toBe("CONFLICT");
      expect(taken.message).toContain("scope of the user bob");
      // Bob may make an org of his own name: it is his scope.
      await createOrg({ ctx: bob, input: { name: "bob" } });

      await publish(carol, "@carolscope/lib", ["1.0.0"]);
      const foreign = await failure(createOrg({ ctx: alice, input: { name: "carolscope" } }));
      expect(foreign.code).toBe("FORBIDDEN");
      expect(foreign.message).toContain("@carolscope/lib");
      // Carol maintains everything in it: she may.
      await publish(carol, "@carols/lib", ["1.0.0"]);
      await createOrg({ ctx: carol, input: { name: "carols" } });
      const [pkg] = await deps.db
        .select({ orgId: packages.orgId })
        .from(packages)
        .where(eq(packages.name, "@carols/lib"));
      expect(pkg?.orgId).toMatch(/^org_/);
    });

    it("lets a platform admin claim a scope that holds other people's packages", async () => {
      const org = await createOrg({ ctx: root, input: { name: "carolscope" } });
      const [pkg] = await deps.db
        .select({ orgId: packages.orgId })
        .from(packages)
        .where(eq(packages.name, "@carolscope/lib"));
      expect(pkg?.orgId).toBe(org.id);
      // Platform admins list every org, with their role where they have one.
      const all = await listOrgs({ ctx: root });
      expect(all.map((o) => [o.name, o.role])).toEqual([
        ["acme", null],
        ["bob", null],
        ["carols", null],
        ["carolscope", "admin"],
      ]);
    });

    it("refuses callers that are not a person with a maintainer or admin role", async () => {
      expect((await failure(createOrg({ ctx: anonymous(deps), input: { name: "x1" } }))).code).toBe(
        "UNAUTHORIZED",
      );
      for (const ctx of [aliceCiRead, aliceCiPublish]) {
        const err = await failure(createOrg({ ctx, input: { name: "x1" } }));
        expect(err.code).toBe("FORBIDDEN");
        expect(err.message).toMatch(/ci-(readonly|publish) token cannot/);
      }
      const scoped = await tokenContext(deps, {
        user: "alice",
        role: "maintainer",
        scopes: ["@y"],
      });
      expect((await failure(createOrg({ ctx: scoped, input: { name: "x1" } }))).code).toBe(
        "SCOPE_FORBIDDEN",
      );
      // A dashboard session is a person.
      await createOrg({ ctx: aliceSession, input: { name: "x1" } });
      await deleteOrg({ ctx: aliceSession, input: { org: "x1" } });
    });
  });

  describe("members", () => {
    it("adds existing users with a role; 404 names an unknown user; 409 for a member", async () => {
      expect(
        await addOrgMember({ ctx: alice, input: { org: "acme", user: "bob", role: "reader" } }),
      ).toMatchObject({ user: "bob", role: "reader" });
      const unknown = await failure(
        addOrgMember({ ctx: alice, input: { org: "acme", user: "nobody", role: "reader" } }),
      );
      expect(unknown.code).toBe("NOT_FOUND");
      expect(unknown.message).toContain("nobody");
      const again = await failure(
        addOrgMember({ ctx: alice, input: { org: "acme", user: "bob", role: "admin" } }),
      );
      expect(again.code).toBe("CONFLICT");
      const badRole = await failure(
        addOrgMember({ ctx: alice, input: { org: "acme", user: "dave", role: "owner" } }),
      );
      expect(badRole.code).toBe("VALIDATION");
      expect(await listOrgMembers({ ctx: bob, input: { org: "acme" } })).toMatchObject([
        { user: "alice", role: "admin" },
        { user: "bob", role: "reader" },
      ]);
      expect(await audits("org.member.added")).toMatchObject([
        { action: "org.member.added", data: { org: "acme", user: "bob", role: "reader" } },
      ]);
      expect(await events("org.member.added")).toMatchObject([
        { data: { org: "acme", user: "bob", role: "reader" } },
      ]);
    });

    it("lets members look but only admins manage; non-members see nothing", async () => {
      expect(await getOrg({ ctx: bob, input: { org: "ACME" } })).toMatchObject({
        role: "reader",
        memberCount: 2,
      });
      const reader = await failure(
        addOrgMember({ ctx: bob, input: { org: "acme", user: "carol", role: "reader" } }),
      );
      expect(reader.code).toBe("FORBIDDEN");
      expect(reader.message).toBe(
        "bob is a reader in @acme; to add members you need admin — ask an admin of acme.",
      );
      for (const call of [
        () => getOrg({ ctx: carol, input: { org: "acme" } }),
        () => listOrgMembers({ ctx: carol, input: { org: "acme" } }),
        () => addOrgMember({ ctx: carol, input: { org: "acme", user: "carol", role: "admin" } }),
        () => getOrg({ ctx: carol, input: { org: "no-such-org" } }),
      ]) {
        const err = await failure(call());
        expect(err.code).toBe("NOT_FOUND");
        expect(err.message).toMatch(
          /^There is no org @(acme|no-such-org) here, or you are not a member of it\.$/,
        );
      }
      // An admin's CI tokens manage nothing, though they may look.
      for (const ctx of [aliceCiRead, aliceCiPublish]) {
        expect(
          (
            await failure(
              addOrgMember({ ctx, input: { org: "acme", user: "carol", role: "reader" } }),
            )
          ).code,
        ).toBe("FORBIDDEN");
      }
      expect(await listOrgMembers({ ctx: aliceCiRead, input: { org: "acme" } })).toHaveLength(2);
      // A platform admin sees and manages any org.
      expect(await getOrg({ ctx: root, input: { org: "acme" } })).toMatchObject({ role: null });
    });

    it("changes roles, and never leaves the org without an admin", async () => {
      const demote = await failure(
        setOrgMemberRole({ ctx: alice, input: { org: "acme", user: "alice", role: "maintainer" } }),
      );
      expect(demote.code).toBe("CONFLICT");
      expect(demote.message).toContain("alice is the last admin of @acme");
      const remove = await failure(
        removeOrgMember({ ctx: alice, input: { org: "acme", user: "alice" } }),
      );
      expect(remove.code).toBe("CONFLICT");
      expect(remove.message).toContain("cannot be left without an admin");

      await setOrgMemberRole({
        ctx: alice,
        input: { org: "acme", user: "bob", role: "maintainer" },
      });
      await addOrgMember({ ctx: alice, input: { org: "acme", user: "dave", role: "admin" } });
      // With two admins, one may step down; then dave is the last and cannot.
      await setOrgMemberRole({
        ctx: dave,
        input: { org: "acme", user: "alice", role: "maintainer" },
      });
      expect(
        (await failure(removeOrgMember({ ctx: dave, input: { org: "acme", user: "dave" } }))).code,
      ).toBe("CONFLICT");
      await setOrgMemberRole({ ctx: dave, input: { org: "acme", user: "alice", role: "admin" } });
      expect(
        (
          await failure(
            setOrgMemberRole({ ctx: alice, input: { org: "acme", user: "carol", role: "reader" } }),
          )
        ).code,
      ).toBe("NOT_FOUND");
      expect((await audits("org.member.role_changed")).map((a) => a.data)).toMatchObject([
        { user: "bob", from: "reader", to: "maintainer" },
        { user: "alice", from: "admin", to: "maintainer" },
        { user: "alice", from: "maintainer", to: "admin" },
      ]);
      expect(await events("org.member.role_changed")).toHaveLength(3);
    });

    it("keeps the last-admin rule when two admins demote each other at once", async () => {
      await createOrg({ ctx: alice, input: { name: "duel" } });
      await addOrgMember({ ctx: alice, input: { org: "duel", user: "dave", role: "admin" } });
      const outcomes = await Promise.allSettled([
        setOrgMemberRole({ ctx: alice, input: { org: "duel", user: "dave", role: "reader" } }),
        setOrgMemberRole({ ctx: dave, input: { org: "duel", user: "alice", role: "reader" } }),
      ]);
      const members = await listOrgMembers({ ctx: root, input: { org: "duel" } });
      expect(members.filter((m) => m.role === "admin")).toHaveLength(1);
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
      // The loser was demoted by the winner first: under the org's lock it is no admin any more.
      const lost = outcomes.find((o) => o.status === "rejected");
      expect(lost?.status === "rejected" && lost.reason).toMatchObject({ code: "FORBIDDEN" });
    });
  });

  describe("teams", () => {
    it("creates teams with npm's names and lists them with their sizes", async () => {
      expect(
        await createTeam({
          ctx: alice,
          input: { org: "acme", team: "frontend", description: "UI people" },
        }),
      ).toMatchObject({ name: "frontend", description: "UI people", memberCount: 0 });
      await createTeam({ ctx: alice, input: { org: "acme", team: "acme:backend" } });
      for (const team of ["Frontend", "a b", "../x", "", "x".repeat(300), "other:ops", "x\u0000"]) {
        expect(
          (await failure(createTeam({ ctx: alice, input: { org: "acme", team } }))).code,
          team,
        ).toBe("VALIDATION");
      }
      expect(
        (await failure(createTeam({ ctx: alice, input: { org: "acme", team: "frontend" } }))).code,
      ).toBe("CONFLICT");
      expect(
        (await failure(createTeam({ ctx: bob, input: { org: "acme", team: "ops" } }))).code,
      ).toBe("FORBIDDEN");
      expect((await listTeams({ ctx: bob, input: { org: "acme" } })).map((t) => t.name)).toEqual([
        "backend",
        "frontend",
      ]);
      expect((await audits("team.created")).map((a) => a.data)).toMatchObject([
        { org: "acme", team: "frontend" },
        { org: "acme", team: "backend" },
      ]);
      expect(await events("team.created")).toHaveLength(2);
    });

    it("takes only org members into a team", async () => {
      const outsider = await failure(
        addTeamMember({ ctx: alice, input: { org: "acme", team: "frontend", user: "carol" } }),
      );
      expect(outsider.code).toBe("CONFLICT");
      expect(outsider.message).toContain(
        "carol is not a member of @acme; add them to the org first",
      );
      expect(
        (
          await failure(
            addTeamMember({ ctx: alice, input: { org: "acme", team: "frontend", user: "ghost" } }),
          )
        ).code,
      ).toBe("NOT_FOUND");
      expect(
        (
          await failure(
            addTeamMember({ ctx: alice, input: { org: "acme", team: "nope", user: "bob" } }),
          )
        ).message,
      ).toBe("There is no team acme:nope.");
      await addTeamMember({ ctx: alice, input: { org: "acme", team: "frontend", user: "bob" } });
      expect(
        (
          await failure(
            addTeamMember({ ctx: alice, input: { org: "acme", team: "frontend", user: "bob" } }),
          )
        ).code,
      ).toBe("CONFLICT");
      expect(
        await listTeamMembers({ ctx: bob, input: { org: "acme", team: "frontend" } }),
      ).toMatchObject([{ user: "bob" }]);
      expect(await audits("team.member.added")).toMatchObject([
        { data: { org: "acme", team: "frontend", user: "bob" } },
      ]);
      expect(await events("team.member.added")).toHaveLength(1);
    });

    it("grants packages of the org's scope only, and revokes them", async () => {
      await publish(alice, "@acme/ui", ["1.0.0"]);
      await publish(alice, "@other/ui", ["1.0.0"]);
      await publish(alice, "plain-ui", ["1.0.0"]);
      for (const pkg of ["@other/ui", "plain-ui"]) {
        const err = await failure(
          grantTeamPackage({
            ctx: alice,
            input: { org: "acme", team: "frontend", package: pkg, permission: "read-write" },
          }),
        );
        expect(err.code).toBe("FORBIDDEN");
        expect(err.message).toContain(`${pkg} is outside @acme`);
      }
      expect(
        (
          await failure(
            grantTeamPackage({
              ctx: alice,
              input: {
                org: "acme",
                team: "frontend",
                package: "@acme/none",
                permission: "read-only",
              },
            }),
          )
        ).code,
      ).toBe("NOT_FOUND");
      expect(
        (
          await failure(
            grantTeamPackage({
              ctx: alice,
              input: { org: "acme", team: "frontend", package: "@acme/ui", permission: "write" },
            }),
          )
        ).code,
      ).toBe("VALIDATION");
      expect(
        (
          await failure(
            grantTeamPackage({
              ctx: bob,
              input: {
                org: "acme",
                team: "frontend",
                package: "@acme/ui",
                permission: "read-only",
              },
            }),
          )
        ).code,
      ).toBe("FORBIDDEN");

      await grantTeamPackage({
        ctx: alice,
        input: { org: "acme", team: "frontend", package: "@acme/ui", permission: "read-only" },
      });
      expect(
        await grantTeamPackage({
          ctx: alice,
          input: {
            org: "acme",
            team: "acme:frontend",
            package: "@acme/ui",
            permission: "read-write",
          },
        }),
      ).toEqual({ name: "@acme/ui", permission: "read-write" });
      expect(
        await listTeamPackages({ ctx: bob, input: { org: "acme", team: "frontend" } }),
      ).toEqual([{ name: "@acme/ui", permission: "read-write" }]);
      expect((await listTeams({ ctx: bob, input: { org: "acme" } }))[1]).toMatchObject({
        name: "frontend",
        memberCount: 1,
        packageCount: 1,
      });
      expect((await audits("package.access.granted")).map((a) => a.data)).toMatchObject([
        { team: "frontend", package: "@acme/ui", permission: "read-only", from: null },
        { team: "frontend", package: "@acme/ui", permission: "read-write", from: "read-only" },
      ]);
      expect(await events("package.access.granted")).toMatchObject([
        { packageName: "@acme/ui" },
        { packageName: "@acme/ui" },
      ]);

      await revokeTeamPackage({
        ctx: alice,
        input: { org: "acme", team: "frontend", package: "@acme/ui" },
      });
      expect(
        (
          await failure(
            revokeTeamPackage({
              ctx: alice,
              input: { org: "acme", team: "frontend", package: "@acme/ui" },
            }),
          )
        ).code,
      ).toBe("NOT_FOUND");
      expect(
        await listTeamPackages({ ctx: bob, input: { org: "acme", team: "frontend" } }),
      ).toEqual([]);
      expect(await audits("package.access.revoked")).toMatchObject([
        { data: { package: "@acme/ui", permission: "read-write" } },
      ]);
      expect(await events("package.access.revoked")).toMatchObject([
        { packageName: "@acme/ui", orgId: expect.stringMatching(/^org_/) },
      ]);
    });

    it("removing a member from the org takes them out of its teams", async () => {
      await removeOrgMember({ ctx: alice, input: { org: "acme", user: "bob" } });
      expect(
        await listTeamMembers({ ctx: alice, input: { org: "acme", team: "frontend" } }),
      ).toEqual([]);
      expect((await failure(listTeams({ ctx: bob, input: { org: "acme" } }))).code).toBe(
        "NOT_FOUND",
      );
      expect(await audits("org.member.removed")).toMatchObject([
        { data: { user: "bob", role: "maintainer", teams: ["frontend"] } },
      ]);
      expect(await events("org.member.removed")).toHaveLength(1);
      // Back, for what follows.
      await addOrgMember({ ctx: alice, input: { org: "acme", user: "bob", role: "reader" } });
      await addTeamMember({ ctx: alice, input: { org: "acme", team: "backend", user: "bob" } });
      await removeTeamMember({ ctx: alice, input: { org: "acme", team: "backend", user: "bob" } });
      expect(
        (
          await failure(
            removeTeamMember({ ctx: alice, input: { org: "acme", team: "backend", user: "bob" } }),
          )
        ).code,
      ).toBe("NOT_FOUND");
      expect(await audits("team.member.removed")).toMatchObject([
        { data: { team: "backend", user: "bob" } },
      ]);
      expect(await events("team.member.removed")).toHaveLength(1);
    });

    it("deletes teams with their grants", async () => {
      await grantTeamPackage({
        ctx: alice,
        input: { org: "acme", team: "backend", package: "@acme/ui", permission: "read-only" },
      });
      await deleteTeam({ ctx: alice, input: { org: "acme", team: "backend" } });
      expect((await listTeams({ ctx: alice, input: { org: "acme" } })).map((t) => t.name)).toEqual([
        "frontend",
      ]);
      expect(
        (await failure(deleteTeam({ ctx: alice, input: { org: "acme", team: "backend" } }))).code,
      ).toBe("NOT_FOUND");
      expect(await audits("team.deleted")).toMatchObject([{ data: { team: "backend" } }]);
      expect(await events("team.deleted")).toHaveLength(1);
    });
  });

  describe("the org's packages and its end", () => {
    it("shows public packages to everyone and restricted ones to members", async () => {
      await publish(alice, "@acme/public-lib", ["1.0.0", "1.1.0"], { access: "public" });
      // @acme/ui was published restricted (PACKR_SCOPED_DEFAULT_ACCESS=restricted).
      const everyone = await listPublicOrgPackages({
        ctx: anonymous(deps),
        input: { org: "acme" },
      });
      expect(everyone).toMatchObject({
        org: { name: "acme", displayName: "Acme Inc." },
        packages: [{ name: "@acme/public-lib", access: "public", latest: "1.1.0" }],
      });
      expect(
        (await listPublicOrgPackages({ ctx: carol, input: { org: "acme" } })).packages,
      ).toHaveLength(1);
      for (const ctx of [bob, aliceCiRead, root]) {
        expect(
          (await listPublicOrgPackages({ ctx, input: { org: "@ACME" } })).packages.map(
            (p) => p.name,
          ),
        ).toEqual(["@acme/public-lib", "@acme/ui"]);
      }
      expect((await getOrg({ ctx: alice, input: { org: "acme" } })).packageCount).toBe(2);
      expect(
        (await failure(listPublicOrgPackages({ ctx: carol, input: { org: "nope" } }))).code,
      ).toBe("NOT_FOUND");
      expect(
        (await failure(listPublicOrgPackages({ ctx: carol, input: { org: "../x" } }))).code,
      ).toBe("VALIDATION");
    });

    it("changes the display name (admins only)", async () => {
      expect(
        (await failure(updateOrg({ ctx: bob, input: { org: "acme", displayName: "Nope" } }))).code,
      ).toBe("FORBIDDEN");
      expect(
        await updateOrg({ ctx: alice, input: { org: "acme", displayName: "ACME Corp" } }),
      ).toMatchObject({ name: "acme", displayName: "ACME Corp", role: "admin" });
      expect(
        (
          await failure(
            updateOrg({ ctx: alice, input: { org: "acme", displayName: "x".repeat(101) } }),
          )
        ).code,
      ).toBe("VALIDATION");
      expect(await audits("org.updated")).toMatchObject([
        { data: { from: { displayName: "Acme Inc." }, to: { displayName: "ACME Corp" } } },
      ]);
      expect(await events("org.updated")).toHaveLength(1);
    });

    it("refuses to delete an org while it owns packages (409), then deletes it", async () => {
      const err = await failure(deleteOrg({ ctx: alice, input: { org: "acme" } }));
      expect(err.code).toBe("CONFLICT");
      expect(err.message).toBe(
        "@acme still owns 2 packages (@acme/public-lib, @acme/ui); unpublish them before deleting the org.",
      );
      expect((await failure(deleteOrg({ ctx: bob, input: { org: "acme" } }))).code).toBe(
        "FORBIDDEN",
      );
      for (const name of ["@acme/public-lib", "@acme/ui"]) {
        const doc = await readDoc(alice, name);
        await unpublishPackage({ ctx: alice, input: { name, rev: doc._rev } });
      }
      await deleteOrg({ ctx: alice, input: { org: "acme" } });
      expect((await listMyOrgs({ ctx: bob })).map((o) => o.name)).toEqual(["bob"]);
      expect((await failure(getOrg({ ctx: alice, input: { org: "acme" } }))).code).toBe(
        "NOT_FOUND",
      );
      expect((await audits("org.deleted")).at(-1)).toMatchObject({
        data: { org: "acme" },
        actorName: "alice",
      });
      expect((await events("org.deleted")).map((e) => e.data.org)).toEqual(["x1", "acme"]);
      const left = await deps.db
        .select()
        .from(auditEvents)
        .where(and(eq(auditEvents.action, "org.created"), eq(auditEvents.actorName, "alice")));
      expect(left.length).toBeGreaterThan(0);
    });
  });
});
