import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceContext } from "../src/context.ts";
import { auditEvents, versions } from "../src/db/schema/index.ts";
import { getDistTags } from "../src/packages/get-dist-tags.ts";
import { getPackument } from "../src/packages/get-packument.ts";
import { removeDistTag } from "../src/packages/remove-dist-tag.ts";
import { setDistTag } from "../src/packages/set-dist-tag.ts";
import {
  createTestDeps,
  setOrgRole,
  type TestDeps,
  testDrivers,
  tokenContext,
} from "../src/testing/index.ts";
import { anonymous, failure, publish, readDoc } from "./helpers.ts";

describe.each(testDrivers())("dist-tags on %s", (driver) => {
  let deps: TestDeps;
  let alice: ServiceContext;
  let bob: ServiceContext;

  beforeAll(async () => {
    deps = await createTestDeps(driver);
    alice = await tokenContext(deps, { user: "alice", role: "maintainer" });
    bob = await tokenContext(deps, { user: "bob", role: "maintainer" });
    await publish(alice, "tagged", ["1.0.0", "1.1.0", "2.0.0-rc.1"], {});
    await publish(alice, "@acme/tagged", ["1.0.0"], { access: "restricted" });
  });
  afterAll(async () => deps.close());

  it("lists, adds, moves and removes tags, and the packument follows at once", async () => {
    expect(await getDistTags({ ctx: anonymous(deps), input: { name: "tagged" } })).toEqual({
      latest: "2.0.0-rc.1",
    });
    const before = await getPackument({ ctx: alice, input: { name: "tagged", abbreviated: true } });
    expect(
      await setDistTag({ ctx: alice, input: { name: "tagged", tag: "beta", body: "2.0.0-rc.1" } }),
    ).toEqual({ beta: "2.0.0-rc.1", latest: "2.0.0-rc.1" });
    await setDistTag({ ctx: alice, input: { name: "tagged", tag: "latest", body: "1.1.0" } });
    const after = await getPackument({ ctx: alice, input: { name: "tagged", abbreviated: true } });
    expect(after.etag).not.toBe(before.etag);
    expect((await readDoc(alice, "tagged", true))["dist-tags"]).toEqual({
      latest: "1.1.0",
      beta: "2.0.0-rc.1",
    });
    expect(await removeDistTag({ ctx: alice, input: { name: "tagged", tag: "beta" } })).toEqual({
      latest: "1.1.0",
    });
    expect((await readDoc(alice, "tagged"))["dist-tags"]).toEqual({ latest: "1.1.0" });
    const audit = await deps.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.action, "package.dist_tag.set"));
    expect(audit.map((a) => a.data.tag)).toEqual(["beta", "latest"]);
  });

  it("setting a tag to where it already points changes nothing", async () => {
    const before = await getPackument({ ctx: alice, input: { name: "tagged", abbreviated: true } });
    await setDistTag({ ctx: alice, input: { name: "tagged", tag: "latest", body: "1.1.0" } });
    const after = await getPackument({ ctx: alice, input: { name: "tagged", abbreviated: true } });
    expect(after.etag).toBe(before.etag);
  });

  it("refuses to remove latest, unknown tags, unknown and unpublished versions", async () => {
    const latest = await failure(
      removeDistTag({ ctx: alice, input: { name: "tagged", tag: "latest" } }),
    );
    expect(latest.code).toBe("VALIDATION");
    expect(latest.message).toMatch(/cannot be removed, only moved/);
    expect(
      (await failure(removeDistTag({ ctx: alice, input: { name: "tagged", tag: "nope" } }))).code,
    ).toBe("NOT_FOUND");
    const unknown = await failure(
      setDistTag({ ctx: alice, input: { name: "tagged", tag: "x1", body: "9.9.9" } }),
    );
    expect(unknown.code).toBe("NOT_FOUND");
    expect(unknown.message).toMatch(/no version 9.9.9/);
    await publish(alice, "tagged-tomb", ["1.0.0", "1.0.1"]);
    await deps.db
      .update(versions)
      .set({ unpublishedAt: new Date() })
      .where(eq(versions.version, "1.0.1"));
    const tomb = await failure(
      setDistTag({ ctx: alice, input: { name: "tagged-tomb", tag: "old", body: "1.0.1" } }),
    );
    expect(tomb.message).toMatch(/was unpublished/);
    expect(
      (
        await failure(
          setDistTag({ ctx: alice, input: { name: "no-such", tag: "x1", body: "1.0.0" } }),
        )
      ).code,
    ).toBe("NOT_FOUND");
  });

  it("refuses tags that read as versions or ranges, and bodies that are not a version string", async () => {
    for (const tag of ["1.0.0", "1", "x", "^2", "-lead", "has space", "a".repeat(65)]) {
      const err = await failure(
        setDistTag({ ctx: alice, input: { name: "tagged", tag, body: "1.0.0" } }),
      );
      expect(err.code, tag).toBe("VALIDATION");
    }
    for (const body of [{ version: "1.0.0" }, 1, null, "v1.0.0", "^1.0.0", ""]) {
      const err = await failure(
        setDistTag({ ctx: alice, input: { name: "tagged", tag: "ok", body } }),
      );
      expect(err.code, JSON.stringify(body)).toBe("VALIDATION");
    }
  });

  it("lets only maintainers with a publishing token in scope change tags", async () => {
    const input = { name: "tagged", tag: "evil", body: "1.0.0" };
    expect((await failure(setDistTag({ ctx: anonymous(deps), input }))).code).toBe("UNAUTHORIZED");
    const reader = await tokenContext(deps, { user: "ci", role: "ci-readonly", kind: "ci" });
    const ro = await failure(setDistTag({ ctx: reader, input }));
    expect(ro.code).toBe("FORBIDDEN");
    expect(ro.message).toMatch(/lacks the "publish" permission/);
    const notMine = await failure(setDistTag({ ctx: bob, input }));
    expect(notMine.code).toBe("FORBIDDEN");
    expect(notMine.message).toMatch(/not a maintainer/);
    expect(
      (await failure(removeDistTag({ ctx: bob, input: { name: "tagged", tag: "latest" } }))).code,
    ).toBe("VALIDATION");
    const scoped = await tokenContext(deps, {
      user: "alice",
      role: "maintainer",
      scopes: ["@other"],
    });
    expect((await failure(setDistTag({ ctx: scoped, input }))).code).toBe("SCOPE_FORBIDDEN");
    expect(await getDistTags({ ctx: alice, input: { name: "tagged" } })).not.toHaveProperty("evil");
  });

  it("reads a restricted package's tags only with read access", async () => {
    expect(
      (await failure(getDistTags({ ctx: anonymous(deps), input: { name: "@acme/tagged" } }))).code,
    ).toBe("UNAUTHORIZED");
    // bob is in no org that owns @acme: the same 404 as for a package that does not exist.
    const hidden = await failure(getDistTags({ ctx: bob, input: { name: "@acme/tagged" } }));
    expect([hidden.code, hidden.message]).toEqual([
      "NOT_FOUND",
      "Package @acme/tagged is not in this registry.",
    ]);
    await setOrgRole(deps, { org: "acme", user: "bob", role: "reader" });
    expect(await getDistTags({ ctx: bob, input: { name: "@acme/tagged" } })).toEqual({
      latest: "1.0.0",
    });
    expect(
      (await failure(getDistTags({ ctx: alice, input: { name: "@acme/missing" } }))).code,
    ).toBe("NOT_FOUND");
  });
});
