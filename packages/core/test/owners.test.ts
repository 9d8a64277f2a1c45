import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceContext } from "../src/context.ts";
import { auditEvents } from "../src/db/schema/index.ts";
import { changeOwners } from "../src/packages/change-owners.ts";
import { publishPackage } from "../src/packages/publish-package.ts";
import {
  createTestDeps,
  publishBody,
  type TestDeps,
  testDrivers,
  tokenContext,
} from "../src/testing/index.ts";
import { getCouchUser } from "../src/users/login.ts";
import { anonymous, failure, publish, readDoc } from "./helpers.ts";

/** npm owner add/rm: `{_id, _rev, maintainers}` built from the document it read. */
async function ownersBody(ctx: ServiceContext, name: string, names: string[]) {
  const doc = await readDoc(ctx, name);
  return {
    rev: doc._rev as string,
    body: {
      _id: name,
      _rev: doc._rev,
      maintainers: names.map((n) => ({ name: n, email: `${n}@example.test` })),
    },
  };
}

describe.each(testDrivers())("owners on %s", (driver) => {
  let deps: TestDeps;
  let alice: ServiceContext;
  let bob: ServiceContext;
  let carol: ServiceContext;

  beforeAll(async () => {
    deps = await createTestDeps(driver);
    alice = await tokenContext(deps, { user: "alice", role: "maintainer" });
    bob = await tokenContext(deps, { user: "bob", role: "maintainer" });
    carol = await tokenContext(deps, { user: "carol", role: "maintainer" });
    await publish(alice, "shared", ["1.0.0"]);
  });
  afterAll(async () => deps.close());

  it("gives npm owner add the other user's name and email, to authenticated callers only", async () => {
    expect(await getCouchUser({ ctx: alice, input: { name: "bob" } })).toMatchObject({
      _id: "org.couchdb.user:bob",
      name: "bob",
      email: "bob@example.test",
    });
    const anon = await getCouchUser({ ctx: anonymous(deps), input: { name: "bob" } });
    expect(anon.name).toBe("bob");
    expect(anon).not.toHaveProperty("email");
    expect((await failure(getCouchUser({ ctx: alice, input: { name: "nobody-here" } }))).code).toBe(
      "NOT_FOUND",
    );
  });

  it("adds and removes owners; new owners may then publish, removed ones may not", async () => {
    const add = await ownersBody(alice, "shared", ["alice", "bob"]);
    const added = await changeOwners({
      ctx: alice,
      input: { name: "shared", rev: add.rev, body: add.body },
    });
    expect(added).toMatchObject({ added: ["bob"], removed: [] });
    expect(
      (await readDoc(alice, "shared")).maintainers.map((m: { name: string }) => m.name),
    ).toEqual(["alice", "bob"]);
    await publishPackage({
      ctx: bob,
      input: { name: "shared", body: publishBody("shared", "1.1.0") },
    });

    const rm = await ownersBody(bob, "shared", ["bob"]);
    const removed = await changeOwners({
      ctx: bob,
      input: { name: "shared", rev: rm.rev, body: rm.body },
    });
    expect(removed).toMatchObject({ added: [], removed: ["alice"] });
    expect((await readDoc(alice, "shared")).maintainers).toEqual([
      { name: "bob", email: "bob@example.test" },
    ]);
    const refused = await failure(
      publishPackage({
        ctx: alice,
        input: { name: "shared", body: publishBody("shared", "1.2.0") },
      }),
    );
    expect(refused.message).toMatch(/not a maintainer/);
    const audit = await deps.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.action, "package.owners.change"));
    expect(audit.map((a) => [a.data.added, a.data.removed])).toEqual([
      [["bob"], []],
      [[], ["alice"]],
    ]);
    // The same list again is no change at all.
    const same = await ownersBody(bob, "shared", ["bob"]);
    const noop = await changeOwners({
      ctx: bob,
      input: { name: "shared", rev: same.rev, body: same.body },
    });
    expect(noop.rev).toBe(same.rev);
  });

  it("refuses unknown users, an empty list, a stale revision and malformed bodies", async () => {
    await publish(carol, "solo", ["1.0.0"]);
    const unknown = await ownersBody(carol, "solo", ["carol", "ghost"]);
    const err = await failure(
      changeOwners({ ctx: carol, input: { name: "solo", rev: unknown.rev, body: unknown.body } }),
    );
    expect(err.code).toBe("NOT_FOUND");
    expect(err.message).toContain('"ghost"');
    const empty = await ownersBody(carol, "solo", []);
    const emptyErr = await failure(
      changeOwners({ ctx: carol, input: { name: "solo", rev: empty.rev, body: empty.body } }),
    );
    expect(emptyErr.code).toBe("VALIDATION");
    expect(emptyErr.message).toMatch(/at least one maintainer/);
    const stale = await ownersBody(carol, "solo", ["carol", "bob"]);
    await publish(carol, "solo", ["1.0.1"]);
    expect(
      (
        await failure(
          changeOwners({ ctx: carol, input: { name: "solo", rev: stale.rev, body: stale.body } }),
        )
      ).code,
    ).toBe("CONFLICT");
    const { _rev } = await readDoc(carol, "solo");
    for (const body of [
      { maintainers: "carol" },
      { maintainers: [{ email: "x@y" }] },
      { _id: "other", maintainers: [{ name: "carol" }] },
      { maintainers: Array.from({ length: 101 }, (_, i) => ({ name: `u${i}` })) },
    ]) {
      expect(
        (await failure(changeOwners({ ctx: carol, input: { name: "solo", rev: _rev, body } })))
          .code,
      ).toBe("VALIDATION");
    }
    expect((await readDoc(carol, "solo")).maintainers).toEqual([
      { name: "carol", email: "carol@example.test" },
    ]);
  });

  it("lets only maintainers with a person's publishing token in scope change owners", async () => {
    await publish(carol, "kept", ["1.0.0"]);
    const { rev, body } = await ownersBody(carol, "kept", ["carol", "bob"]);
    const input = { name: "kept", rev, body };
    expect((await failure(changeOwners({ ctx: anonymous(deps), input }))).code).toBe(
      "UNAUTHORIZED",
    );
    const reader = await tokenContext(deps, { user: "carol", role: "ci-readonly" });
    expect((await failure(changeOwners({ ctx: reader, input }))).code).toBe("FORBIDDEN");
    const ci = await tokenContext(deps, { user: "carol", role: "ci-publish", kind: "ci" });
    expect((await failure(changeOwners({ ctx: ci, input }))).message).toMatch(
      /CI token cannot change the owners/,
    );
    expect((await failure(changeOwners({ ctx: bob, input }))).message).toMatch(/not a maintainer/);
    const scoped = await tokenContext(deps, {
      user: "carol",
      role: "maintainer",
      scopes: ["@acme"],
    });
    expect((await failure(changeOwners({ ctx: scoped, input }))).code).toBe("SCOPE_FORBIDDEN");
    expect((await readDoc(carol, "kept")).maintainers).toHaveLength(1);
  });
});
