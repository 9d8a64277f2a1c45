import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listCollaborators, listOrgPackages, listUserPackages } from "../src/access/list-access.ts";
import { getPackageVisibility } from "../src/access/package-visibility.ts";
import { setPackageAccess } from "../src/access/set-package-access.ts";
import type { ServiceContext } from "../src/context.ts";
import { auditEvents, orgs } from "../src/db/schema/index.ts";
import { newId } from "../src/ids.ts";
import { getPackument } from "../src/packages/get-packument.ts";
import { searchPackages } from "../src/search/search-packages.ts";
import { starPackage } from "../src/stars/star-package.ts";
import { starredByUser } from "../src/stars/starred-by-user.ts";
import { createTestDeps, type TestDeps, testDrivers, tokenContext } from "../src/testing/index.ts";
import { anonymous, failure, publish, readDoc } from "./helpers.ts";

describe.each(testDrivers())("stars and access on %s", (driver) => {
  let deps: TestDeps;
  let alice: ServiceContext;
  let bob: ServiceContext;
  let ciReader: ServiceContext;
  let ciPublisher: ServiceContext;
  let otherScope: ServiceContext;
  let anon: ServiceContext;

  beforeAll(async () => {
    deps = await createTestDeps(driver);
    alice = await tokenContext(deps, { user: "alice", role: "maintainer" });
    bob = await tokenContext(deps, { user: "bob", role: "maintainer" });
    ciReader = await tokenContext(deps, { user: "alice", role: "ci-readonly", kind: "ci" });
    ciPublisher = await tokenContext(deps, { user: "alice", role: "ci-publish", kind: "ci" });
    otherScope = await tokenContext(deps, {
      user: "alice",
      role: "maintainer",
      scopes: ["@other"],
    });
    anon = anonymous(deps);
    await publish(alice, "starry", ["1.0.0"]);
    await publish(alice, "@acme/secret", ["1.0.0"]);
    await publish(alice, "@acme/open", ["1.0.0"], { access: "public" });
    await publish(bob, "bobs-lib", ["1.0.0"]);
  });
  afterAll(async () => deps.close());

  const star = (ctx: ServiceContext, name: string, users: Record<string, unknown>) =>
    starPackage({ ctx, input: { name, body: { _id: name, _rev: "1-x", users } } });

  it("npm star adds only the caller's star; users shows in the full packument, modified stays", async () => {
    const before = await readDoc(alice, "starry");
    const result = await star(alice, "starry", { alice: true });
    expect(result).toMatchObject({ ok: true, id: "starry", starred: true });
    const after = await readDoc(alice, "starry");
    expect(after.users).toEqual({ alice: true });
    expect(after._rev).not.toBe(before._rev);
    expect(after.time.modified).toBe(before.time.modified);
    expect(after.versions).toEqual(before.versions);
    expect(after["dist-tags"]).toEqual(before["dist-tags"]);
    expect(after.maintainers).toEqual(before.maintainers);
    expect((await readDoc(alice, "starry", true)).users).toBeUndefined();
    // Starring again changes nothing.
    const again = await star(alice, "starry", { alice: true });
    expect(again.rev).toBe(after._rev);
    const audit = await deps.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.action, "package.star"));
    expect(audit).toHaveLength(1);
  });

  it("entries for other users are ignored: nobody stars or unstars for someone else", async () => {
    await star(bob, "starry", { alice: true, bob: true, mallory: true });
    expect((await readDoc(alice, "starry")).users).toEqual({ alice: true, bob: true });
    // bob "unstars" alice by leaving her out: only bob's own entry counts, and it is there.
    await star(bob, "starry", { bob: true });
    expect((await readDoc(alice, "starry")).users).toEqual({ alice: true, bob: true });
    // unstar: bob's entry removed.
    const r = await star(bob, "starry", { alice: true });
    expect(r.starred).toBe(false);
    expect((await readDoc(alice, "starry")).users).toEqual({ alice: true });
    const hit = (await searchPackages({ ctx: anon, input: { text: "starry" } })).objects[0];
    expect(hit?.score.detail.popularity).toBeGreaterThan(0);
  });

  it("npm stars lists starred packages, restricted ones only for readers", async () => {
    await star(alice, "@acme/secret", { alice: true });
    expect(await starredByUser({ ctx: alice, input: { key: '"alice"' } })).toEqual({
      rows: [
        { key: "alice", value: "@acme/secret" },
        { key: "alice", value: "starry" },
      ],
    });
    expect(await starredByUser({ ctx: anon, input: { key: '"alice"' } })).toEqual({
      rows: [{ key: "alice", value: "starry" }],
    });
    expect(await starredByUser({ ctx: anon, input: { key: '"nobody"' } })).toEqual({ rows: [] });
    for (const key of [undefined, "alice", '""', "{}", '["alice"]', `"${"x".repeat(300)}"`]) {
      expect((await failure(starredByUser({ ctx: anon, input: { key } }))).code).toBe("VALIDATION");
    }
  });

  it("star refuses anonymous callers, unreadable or missing packages, and other bodies", async () => {
    expect((await failure(star(anon, "starry", { anonymous: true }))).code).toBe("UNAUTHORIZED");
    expect((await failure(star(alice, "no-such-pkg", { alice: true }))).code).toBe("NOT_FOUND");
    for (const body of [
      { _id: "starry", users: { alice: true }, versions: {} },
      { _id: "starry", users: { alice: true }, maintainers: [] },
      { _id: "other", users: { alice: true } },
      { _id: "starry", users: ["alice"] },
      "users",
      null,
    ]) {
      const err = await failure(starPackage({ ctx: alice, input: { name: "starry", body } }));
      expect(err.code).toBe("VALIDATION");
    }
    expect((await failure(star(alice, "../etc", { alice: true }))).code).toBe(
      "INVALID_PACKAGE_NAME",
    );
  });

  it("npm access get status answers {public}", async () => {
    expect(await getPackageVisibility({ ctx: anon, input: { name: "starry" } })).toEqual({
      public: true,
    });
    expect(await getPackageVisibility({ ctx: ciReader, input: { name: "@acme/secret" } })).toEqual({
      public: false,
    });
    expect(
      (await failure(getPackageVisibility({ ctx: anon, input: { name: "@acme/secret" } }))).code,
    ).toBe("UNAUTHORIZED");
    expect(
      (await failure(getPackageVisibility({ ctx: anon, input: { name: "@acme/none" } }))).code,
    ).toBe("UNAUTHORIZED");
    expect(
      (await failure(getPackageVisibility({ ctx: alice, input: { name: "nope" } }))).code,
    ).toBe("NOT_FOUND");
  });

  it("npm access set status takes effect on the very next read, and only maintainers who may publish may", async () => {
    const set = (ctx: ServiceContext, name: string, access: string) =>
      setPackageAccess({ ctx, input: { name, body: { access } } });
    // Warm every cache first: the change must not be served stale.
    await getPackument({ ctx: anon, input: { name: "@acme/open", abbreviated: false } });
    expect(await set(alice, "@acme/open", "private")).toEqual({
      ok: true,
      id: "@acme/open",
      access: "restricted",
    });
    expect(
      (
        await failure(
          getPackument({ ctx: anon, input: { name: "@acme/open", abbreviated: false } }),
        )
      ).code,
    ).toBe("UNAUTHORIZED");
    expect((await readDoc(ciReader, "@acme/open")).name).toBe("@acme/open");
    await set(alice, "@acme/open", "public");
    expect((await readDoc(anon, "@acme/open")).name).toBe("@acme/open");
    // Neither CI token of the org's admin may (a pipeline never decides who reads a package);
    // nor another scope, a non-member, anonymous.
    const ciPublic = await failure(set(ciPublisher, "@acme/secret", "public"));
    expect([ciPublic.code, ciPublic.message]).toEqual([
      "FORBIDDEN",
      "A ci-publish token cannot change the access of @acme/secret. Use a maintainer's own token (npm login) to do it.",
    ]);
    expect((await readDoc(ciReader, "@acme/secret")).name).toBe("@acme/secret");
    expect(
      (
        await failure(
          getPackument({ ctx: anon, input: { name: "@acme/secret", abbreviated: false } }),
        )
      ).code,
    ).toBe("UNAUTHORIZED");
    expect((await failure(set(ciReader, "@acme/open", "private"))).code).toBe("FORBIDDEN");
    expect((await failure(set(otherScope, "@acme/open", "private"))).code).toBe("SCOPE_FORBIDDEN");
    const stranger = await failure(set(bob, "@acme/open", "private"));
    expect([stranger.code, stranger.message]).toEqual([
      "FORBIDDEN",
      "bob is not a member of @acme; changing the access of @acme/open needs maintainer or admin — ask an admin of acme to add you.",
    ]);
    expect((await failure(set(anon, "@acme/open", "private"))).code).toBe("UNAUTHORIZED");
    expect((await failure(set(alice, "@acme/none", "private"))).code).toBe("NOT_FOUND");
    for (const body of [{ access: "secret" }, {}, null, { publish_requires_tfa: true }]) {
      const err = await failure(
        setPackageAccess({ ctx: alice, input: { name: "@acme/open", body } }),
      );
      expect(err.code).toBe("VALIDATION");
    }
    expect((await readDoc(anon, "@acme/open")).name).toBe("@acme/open");
  });

  it("npm access list packages and collaborators", async () => {
    expect(await listCollaborators({ ctx: anon, input: { name: "starry" } })).toEqual({
      alice: "write",
    });
    expect(await listCollaborators({ ctx: anon, input: { name: "starry", user: "bob" } })).toEqual(
      {},
    );
    expect(
      (await failure(listCollaborators({ ctx: anon, input: { name: "@acme/secret" } }))).code,
    ).toBe("UNAUTHORIZED");
    expect(await listOrgPackages({ ctx: alice, input: { org: "acme" } })).toEqual({
      "@acme/open": "write",
      "@acme/secret": "write",
    });
    expect(await listOrgPackages({ ctx: ciReader, input: { org: "@acme" } })).toEqual({
      "@acme/open": "read",
      "@acme/secret": "read",
    });
    // bob is in no org owning @acme: its restricted packages are not his to see.
    expect(await listOrgPackages({ ctx: bob, input: { org: "acme" } })).toEqual({
      "@acme/open": "read",
    });
    expect(
      (await failure(listCollaborators({ ctx: bob, input: { name: "@acme/secret" } }))).code,
    ).toBe("NOT_FOUND");
    expect(await listUserPackages({ ctx: bob, input: { user: "alice" } })).toEqual({
      "@acme/open": "write",
      starry: "write",
    });
    expect(await listOrgPackages({ ctx: anon, input: { org: "acme" } })).toEqual({
      "@acme/open": "read",
    });
    // No org and no visible package: 404, so npm falls back to the user listing.
    expect((await failure(listOrgPackages({ ctx: alice, input: { org: "alice" } }))).code).toBe(
      "NOT_FOUND",
    );
    await deps.db.insert(orgs).values({ id: newId("org"), name: "emptyorg" });
    expect(await listOrgPackages({ ctx: alice, input: { org: "emptyorg" } })).toEqual({});
    expect(await listUserPackages({ ctx: alice, input: { user: "alice" } })).toEqual({
      "@acme/open": "write",
      "@acme/secret": "write",
      starry: "write",
    });
    expect(await listUserPackages({ ctx: anon, input: { user: "alice" } })).toEqual({
      "@acme/open": "write",
      starry: "write",
    });
    expect((await failure(listUserPackages({ ctx: anon, input: { user: "nobody" } }))).code).toBe(
      "NOT_FOUND",
    );
    for (const org of ["", "../x", "a b", "x".repeat(300), "'; drop table packages; --"]) {
      expect((await failure(listOrgPackages({ ctx: alice, input: { org } }))).code).toBe(
        "VALIDATION",
      );
    }
  });
});
