import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceContext } from "../src/context.ts";
import { auditEvents, packages, versions } from "../src/db/schema/index.ts";
import { deleteTarball } from "../src/packages/delete-tarball.ts";
import { getTarball } from "../src/packages/get-tarball.ts";
import { publishPackage } from "../src/packages/publish-package.ts";
import { unpublishPackage } from "../src/packages/unpublish-package.ts";
import { unpublishVersions } from "../src/packages/unpublish-versions.ts";
import {
  createTestDeps,
  publishBody,
  type TestDeps,
  testDrivers,
  tokenContext,
} from "../src/testing/index.ts";
import { anonymous, type Doc, failure, later, publish, readDoc } from "./helpers.ts";

/** npm unpublish <pkg>@<v>, step 3: the document read, minus the version, tags edited client-side. */
async function withoutVersion(ctx: ServiceContext, name: string, version: string): Promise<Doc> {
  const doc = await readDoc(ctx, name);
  delete doc.versions[version];
  for (const [tag, v] of Object.entries(doc["dist-tags"])) {
    if (v === version) delete doc["dist-tags"][tag];
  }
  return doc;
}

async function keyOf(deps: TestDeps, name: string, version: string): Promise<string> {
  const [row] = await deps.db
    .select({ key: versions.tarballKey })
    .from(versions)
    .innerJoin(packages, eq(packages.id, versions.packageId))
    .where(and(eq(packages.name, name), eq(versions.version, version)));
  if (!row) throw new Error(`no ${name}@${version}`);
  return row.key;
}

describe.each(testDrivers())("unpublish on %s", (driver) => {
  let deps: TestDeps;
  let alice: ServiceContext;
  let bob: ServiceContext;
  let admin: ServiceContext;

  beforeAll(async () => {
    deps = await createTestDeps(driver);
    alice = await tokenContext(deps, { user: "alice", role: "maintainer" });
    bob = await tokenContext(deps, { user: "bob", role: "maintainer" });
    admin = await tokenContext(deps, { user: "root", role: "admin", isAdmin: true });
  });
  afterAll(async () => deps.close());

  it("unpublishes one version: a tombstone in time, tags re-pointed, tarball gone, number never reused", async () => {
    await publish(alice, "multi", ["1.0.0", "1.1.0", "2.0.0-beta.1", "1.2.0"]);
    await publishPackage({
      ctx: alice,
      input: { name: "multi", body: publishBody("multi", "1.3.0", { tag: "next" }) },
    });
    // latest=1.2.0, next=1.3.0; remove 1.2.0: latest must fall back to the highest release left.
    const key = await keyOf(deps, "multi", "1.2.0");
    const body = await withoutVersion(alice, "multi", "1.2.0");
    body["dist-tags"].latest = "2.0.0-beta.1"; // what npm's client-side sort would pick: ignored
    const result = await unpublishVersions({
      ctx: alice,
      input: { name: "multi", rev: body._rev, body },
    });
    expect(result.unpublished).toEqual(["1.2.0"]);
    const doc = await readDoc(alice, "multi");
    expect(Object.keys(doc.versions)).toEqual(["1.0.0", "1.1.0", "2.0.0-beta.1", "1.3.0"]);
    expect(doc.time["1.2.0"]).toBeTypeOf("string");
    expect(doc.time.unpublished).toBeUndefined();
    expect(doc["dist-tags"]).toEqual({ latest: "1.3.0", next: "1.3.0" });
    expect(doc._rev).toBe(result.rev);
    expect((await readDoc(alice, "multi", true)).versions["1.2.0"]).toBeUndefined();
    expect(await deps.blobStore.exists(key)).toBe(false);
    expect(
      (
        await failure(
          getTarball({ ctx: alice, input: { name: "multi", filename: "multi-1.2.0.tgz" } }),
        )
      ).code,
    ).toBe("NOT_FOUND");
    const again = await failure(
      publishPackage({ ctx: alice, input: { name: "multi", body: publishBody("multi", "1.2.0") } }),
    );
    expect(again.code).toBe("VERSION_EXISTS");
    expect(again.message).toMatch(/was unpublished.*never be reused/);
    const audit = await deps.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.action, "package.unpublish"));
    expect(audit.some((a) => a.data.name === "multi" && a.actorName === "alice")).toBe(true);

    // Step 5 of the dance: the tarball is already gone, which is still a success.
    expect(
      await deleteTarball({
        ctx: alice,
        input: { name: "multi", filename: "multi-1.2.0.tgz", rev: doc._rev },
      }),
    ).toEqual({ ok: true });
  });

  it("moves latest to the highest prerelease when no release is left", async () => {
    await publish(alice, "pre-only", ["1.0.0-rc.1", "1.0.0-rc.2", "1.0.0"]);
    const body = await withoutVersion(alice, "pre-only", "1.0.0");
    await unpublishVersions({ ctx: alice, input: { name: "pre-only", rev: body._rev, body } });
    expect((await readDoc(alice, "pre-only"))["dist-tags"]).toEqual({ latest: "1.0.0-rc.2" });
  });

  it("a body that drops nothing changes nothing, and only version keys are read from it", async () => {
    await publish(alice, "steady", ["1.0.0", "1.0.1"]);
    const body = await readDoc(alice, "steady");
    body["dist-tags"] = { latest: "1.0.0", evil: "1.0.1" };
    body.maintainers = [{ name: "mallory" }];
    body.versions["1.0.1"].dist.tarball = "https://evil.example/x.tgz";
    body.versions["7.7.7"] = body.versions["1.0.1"];
    const result = await unpublishVersions({
      ctx: alice,
      input: { name: "steady", rev: body._rev, body },
    });
    expect(result.unpublished).toEqual([]);
    const doc = await readDoc(alice, "steady");
    expect(doc._rev).toBe(body._rev);
    expect(doc["dist-tags"]).toEqual({ latest: "1.0.1" });
    expect(doc.maintainers).toEqual([{ name: "alice", email: "alice@example.test" }]);
    expect(doc.versions["1.0.1"].dist.tarball).toBe(
      "http://registry.test/steady/-/steady-1.0.1.tgz",
    );
  });

  it("refuses a stale revision with 409 and changes nothing", async () => {
    await publish(alice, "racy", ["1.0.0", "1.0.1"]);
    const body = await withoutVersion(alice, "racy", "1.0.0");
    // Someone publishes in between: applied to the new document, the diff would remove 1.0.2 too.
    await publish(alice, "racy", ["1.0.2"]);
    const err = await failure(
      unpublishVersions({ ctx: alice, input: { name: "racy", rev: body._rev, body } }),
    );
    expect(err.code).toBe("CONFLICT");
    expect(err.status).toBe(409);
    expect(err.message).toMatch(/changed since you read it/);
    expect(Object.keys((await readDoc(alice, "racy")).versions)).toEqual([
      "1.0.0",
      "1.0.1",
      "1.0.2",
    ]);
    expect(
      (await failure(unpublishPackage({ ctx: alice, input: { name: "racy", rev: "1-stale" } })))
        .code,
    ).toBe("CONFLICT");
  });

  it("refuses versions older than 72 hours with a sentence suggesting npm deprecate; admins may", async () => {
    await publish(alice, "aged", ["1.0.0", "1.0.1"]);
    const body = await withoutVersion(alice, "aged", "1.0.0");
    const err = await failure(
      unpublishVersions({ ctx: later(alice, 73), input: { name: "aged", rev: body._rev, body } }),
    );
    expect(err.code).toBe("FORBIDDEN");
    expect(err.message).toMatch(/more than 72 hours ago/);
    expect(err.message).toContain('npm deprecate aged@1.0.0 "<reason>"');
    expect(err.details).toMatchObject({ version: "1.0.0", windowHours: 72 });
    const whole = await failure(
      unpublishPackage({ ctx: later(alice, 73), input: { name: "aged", rev: body._rev } }),
    );
    expect(whole.code).toBe("FORBIDDEN");
    // Still inside the window at 71 hours.
    const inside = await unpublishVersions({
      ctx: later(alice, 71),
      input: { name: "aged", rev: body._rev, body },
    });
    expect(inside.unpublished).toEqual(["1.0.0"]);
    // An admin is not bound by the window.
    await publish(alice, "aged-admin", ["1.0.0"]);
    const doc = await readDoc(alice, "aged-admin");
    const byAdmin = await unpublishPackage({
      ctx: later(admin, 24 * 365),
      input: { name: "aged-admin", rev: doc._rev },
    });
    expect(byAdmin.unpublished).toEqual(["1.0.0"]);
  });

  it("unpublishes a whole package: time.unpublished, no versions or tags, tarballs gone, nothing reusable", async () => {
    await publish(alice, "doomed", ["1.0.0", "1.1.0"]);
    await publishPackage({
      ctx: alice,
      input: { name: "doomed", body: publishBody("doomed", "2.0.0-rc.1", { tag: "next" }) },
    });
    const keys = await Promise.all(
      ["1.0.0", "1.1.0", "2.0.0-rc.1"].map((v) => keyOf(deps, "doomed", v)),
    );
    const { _rev } = await readDoc(alice, "doomed");
    const result = await unpublishPackage({ ctx: alice, input: { name: "doomed", rev: _rev } });
    expect(result.unpublished.sort()).toEqual(["1.0.0", "1.1.0", "2.0.0-rc.1"]);
    const doc = await readDoc(anonymous(deps), "doomed");
    expect(doc.versions).toEqual({});
    expect(doc["dist-tags"]).toEqual({});
    expect(doc.time.unpublished).toMatchObject({
      time: expect.any(String),
      versions: expect.arrayContaining(["1.0.0", "1.1.0", "2.0.0-rc.1"]),
    });
    expect(doc.time["1.0.0"]).toBeTypeOf("string");
    for (const key of keys) expect(await deps.blobStore.exists(key)).toBe(false);
    expect(
      (
        await failure(
          publishPackage({
            ctx: alice,
            input: { name: "doomed", body: publishBody("doomed", "1.1.0") },
          }),
        )
      ).code,
    ).toBe("VERSION_EXISTS");
    // Unpublishing what is already gone is a success that changes nothing.
    const again = await unpublishPackage({
      ctx: alice,
      input: { name: "doomed", rev: doc._rev },
    });
    expect(again).toMatchObject({ unpublished: [], rev: doc._rev });
  });

  it("keeps a blob while another live version (of any package) has the same bytes", async () => {
    // A publish now refuses a tarball whose package.json names another package or version, so
    // identical bytes under several versions only exist in rows stored before that check (an
    // upgraded registry) — made here by pointing the rows at one blob.
    await publish(alice, "twin-a", ["1.0.0", "1.0.1"]);
    await publish(alice, "twin-b", ["3.0.0"]);
    const key = await keyOf(deps, "twin-a", "1.0.0");
    const bytes = Buffer.from(await new Response(await deps.blobStore.get(key)).arrayBuffer());
    for (const [name, version] of [
      ["twin-a", "1.0.1"],
      ["twin-b", "3.0.0"],
    ] as const) {
      const [pkg] = await deps.db.select().from(packages).where(eq(packages.name, name));
      await deps.db
        .update(versions)
        .set({ tarballKey: key })
        .where(and(eq(versions.packageId, pkg?.id ?? ""), eq(versions.version, version)));
    }
    expect(await keyOf(deps, "twin-b", "3.0.0")).toBe(key);

    const body = await withoutVersion(alice, "twin-a", "1.0.0");
    await unpublishVersions({ ctx: alice, input: { name: "twin-a", rev: body._rev, body } });
    expect(await deps.blobStore.exists(key)).toBe(true);
    const { _rev } = await readDoc(alice, "twin-a");
    await unpublishPackage({ ctx: alice, input: { name: "twin-a", rev: _rev } });
    await deleteTarball({
      ctx: alice,
      input: { name: "twin-a", filename: "twin-a-1.0.0.tgz", rev: "any" },
    });
    expect(await deps.blobStore.exists(key)).toBe(true);
    const tgz = await getTarball({
      ctx: alice,
      input: { name: "twin-b", filename: "twin-b-3.0.0.tgz" },
    });
    if (tgz.kind !== "stream") throw new Error("fs store streams");
    expect(Buffer.from(await new Response(tgz.body).arrayBuffer())).toEqual(bytes);

    const b = await readDoc(alice, "twin-b");
    await unpublishPackage({ ctx: alice, input: { name: "twin-b", rev: b._rev } });
    expect(await deps.blobStore.exists(key)).toBe(false);
  });

  it("refuses to delete a live version's tarball, and unknown tarballs", async () => {
    await publish(alice, "alive", ["1.0.0"]);
    const live = await failure(
      deleteTarball({
        ctx: alice,
        input: { name: "alive", filename: "alive-1.0.0.tgz", rev: "x" },
      }),
    );
    expect(live.code).toBe("CONFLICT");
    expect(live.message).toMatch(/still published/);
    for (const filename of ["alive-9.9.9.tgz", "other-1.0.0.tgz", "alive-1.0.0.zip"]) {
      expect(
        (await failure(deleteTarball({ ctx: alice, input: { name: "alive", filename, rev: "x" } })))
          .code,
      ).toBe("NOT_FOUND");
    }
  });

  it("needs the unpublish permission, a maintainer, the token's scope, and a readable body", async () => {
    await publish(alice, "guarded", ["1.0.0", "1.0.1"]);
    const body = await withoutVersion(alice, "guarded", "1.0.1");
    const input = { name: "guarded", rev: body._rev, body };
    expect((await failure(unpublishVersions({ ctx: anonymous(deps), input }))).code).toBe(
      "UNAUTHORIZED",
    );
    const publisher = await tokenContext(deps, { user: "alice", role: "ci-publish", kind: "ci" });
    const noPerm = await failure(unpublishVersions({ ctx: publisher, input }));
    expect(noPerm.code).toBe("FORBIDDEN");
    expect(noPerm.message).toMatch(/lacks the "unpublish" permission/);
    const reader = await tokenContext(deps, { user: "ci", role: "ci-readonly", kind: "ci" });
    expect((await failure(unpublishPackage({ ctx: reader, input }))).code).toBe("FORBIDDEN");
    expect((await failure(unpublishVersions({ ctx: bob, input }))).message).toMatch(
      /not a maintainer/,
    );
    expect((await failure(unpublishPackage({ ctx: bob, input }))).message).toMatch(
      /not a maintainer/,
    );
    expect(
      (
        await failure(
          deleteTarball({
            ctx: bob,
            input: { name: "guarded", filename: "guarded-1.0.0.tgz", rev: "x" },
          }),
        )
      ).message,
    ).toMatch(/not a maintainer/);
    const scoped = await tokenContext(deps, {
      user: "alice",
      role: "maintainer",
      scopes: ["@acme"],
    });
    expect((await failure(unpublishVersions({ ctx: scoped, input }))).code).toBe("SCOPE_FORBIDDEN");
    for (const bad of [{ versions: [] }, { _id: "other", versions: {} }, "x", null]) {
      expect(
        (await failure(unpublishVersions({ ctx: alice, input: { ...input, body: bad } }))).code,
      ).toBe("VALIDATION");
    }
    expect(
      (
        await failure(
          unpublishVersions({
            ctx: alice,
            input: { name: "nope-pkg", rev: "1-x", body: { versions: {} } },
          }),
        )
      ).code,
    ).toBe("NOT_FOUND");
    expect(Object.keys((await readDoc(alice, "guarded")).versions)).toEqual(["1.0.0", "1.0.1"]);
  });
});
