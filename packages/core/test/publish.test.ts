import { verify } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceContext } from "../src/context.ts";
import { auditEvents, versions } from "../src/db/schema/index.ts";
import { changeOwners } from "../src/packages/change-owners.ts";
import { getPackument } from "../src/packages/get-packument.ts";
import { getTarball } from "../src/packages/get-tarball.ts";
import { getVersionManifest } from "../src/packages/get-version.ts";
import { publishPackage } from "../src/packages/publish-package.ts";
import {
  createTestDeps,
  makeTarballSync,
  publishBody,
  setOrgRole,
  type TestDeps,
  testDrivers,
  tokenContext,
} from "../src/testing/index.ts";
import { anonymous, failure, readDoc } from "./helpers.ts";

describe.each(testDrivers())("publish on %s", (driver) => {
  let deps: TestDeps;
  let alice: ServiceContext;
  let bob: ServiceContext;

  beforeAll(async () => {
    deps = await createTestDeps(driver);
    alice = await tokenContext(deps, { user: "alice", role: "maintainer" });
    bob = await tokenContext(deps, { user: "bob", role: "maintainer" });
  });
  afterAll(async () => deps.close());

  it("publishes a scoped package as restricted, with latest, maintainers, time and an audit row", async () => {
    const result = await publishPackage({
      ctx: alice,
      input: { name: "@acme/widget", body: publishBody("@acme/widget", "1.0.0") },
    });
    expect(result).toMatchObject({ ok: true, version: "1.0.0", idempotent: false });
    const doc = await readDoc(alice, "@acme/widget");
    expect(doc["dist-tags"]).toEqual({ latest: "1.0.0" });
    expect(doc.maintainers).toEqual([{ name: "alice", email: "alice@example.test" }]);
    expect(doc.time.created).toBeTypeOf("string");
    expect(doc.time["1.0.0"]).toBeTypeOf("string");
    expect(doc.readme).toBe("# @acme/widget");
    const v = doc.versions["1.0.0"];
    expect(v._npmUser).toEqual({ name: "alice", email: "alice@example.test" });
    expect(v._resolved).toBeUndefined();
    expect(v._from).toBeUndefined();
    expect(v.dist.tarball).toBe("http://registry.test/@acme/widget/-/widget-1.0.0.tgz");
    const corgi = await readDoc(alice, "@acme/widget", true);
    expect(corgi.time["1.0.0"]).toBe(doc.time["1.0.0"]);
    // Restricted: an anonymous reader is told to authenticate.
    expect(
      (
        await failure(
          getPackument({
            ctx: anonymous(deps),
            input: { name: "@acme/widget", abbreviated: false },
          }),
        )
      ).code,
    ).toBe("UNAUTHORIZED");
    const audit = await deps.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.action, "package.publish"));
    expect(audit.some((a) => a.data.name === "@acme/widget" && a.actorName === "alice")).toBe(true);
  });

  it("signs every version for npm audit signatures, in both documents", async () => {
    await publishPackage({
      ctx: alice,
      input: { name: "signed", body: publishBody("signed", "1.0.0") },
    });
    const publicPem = `-----BEGIN PUBLIC KEY-----\n${deps.signer.key.key}\n-----END PUBLIC KEY-----`;
    for (const abbreviated of [false, true]) {
      const { dist } = (await readDoc(alice, "signed", abbreviated)).versions["1.0.0"];
      expect(dist.signatures).toHaveLength(1);
      expect(dist.signatures[0].keyid).toBe(deps.signer.key.keyid);
      const message = Buffer.from(`signed@1.0.0:${dist.integrity}`);
      expect(
        verify("sha256", message, publicPem, Buffer.from(dist.signatures[0].sig, "base64")),
      ).toBe(true);
    }
  });

  it("honours --tag, keeps latest, and --access public makes the package readable anonymously", async () => {
    await publishPackage({
      ctx: alice,
      input: { name: "@acme/open", body: publishBody("@acme/open", "1.0.0", { access: "public" }) },
    });
    await publishPackage({
      ctx: alice,
      input: {
        name: "@acme/open",
        body: publishBody("@acme/open", "2.0.0-beta.1", { tag: "beta" }),
      },
    });
    const doc = await readDoc(anonymous(deps), "@acme/open");
    expect(doc["dist-tags"]).toEqual({ latest: "1.0.0", beta: "2.0.0-beta.1" });
    const manifest = await getVersionManifest({
      ctx: anonymous(deps),
      input: { name: "@acme/open", spec: "beta" },
    });
    expect(manifest.version).toBe("2.0.0-beta.1");
    const ranged = await getVersionManifest({
      ctx: anonymous(deps),
      input: { name: "@acme/open", spec: "^1" },
    });
    expect(ranged.version).toBe("1.0.0");
  });

  it("lets only an administrator create a package under a name npm keeps for old packages", async () => {
    // punycode (a core-module name) and JSONStream (capitals) are in real trees: eslint needs punycode.
    for (const name of ["punycode", "JSONStream"]) {
      const refused = await failure(
        publishPackage({ ctx: alice, input: { name, body: publishBody(name, "1.0.0") } }),
      );
      expect(refused.code).toBe("INVALID_PACKAGE_NAME");
      expect(refused.message).toMatch(/core module|capital/);
      expect(refused.message).toMatch(/Only an administrator/);
      expect(
        (await failure(getPackument({ ctx: alice, input: { name, abbreviated: false } }))).code,
      ).toBe("NOT_FOUND");
    }
    const admin = await tokenContext(deps, { user: "root", role: "admin", isAdmin: true });
    for (const name of ["punycode", "JSONStream"]) {
      await publishPackage({ ctx: admin, input: { name, body: publishBody(name, "1.0.0") } });
      expect((await readDoc(alice, name))["dist-tags"]).toEqual({ latest: "1.0.0" });
    }
    // Once it exists, the usual maintainer rule applies: bob is not one, the admin's co-owner is.
    const notOwner = await failure(
      publishPackage({
        ctx: bob,
        input: { name: "punycode", body: publishBody("punycode", "1.1.0") },
      }),
    );
    expect(notOwner.code).toBe("FORBIDDEN");
    const doc = await readDoc(admin, "punycode");
    await changeOwners({
      ctx: admin,
      input: {
        name: "punycode",
        rev: doc._rev,
        body: {
          _id: "punycode",
          _rev: doc._rev,
          maintainers: [
            { name: "root", email: "root@example.test" },
            { name: "bob", email: "bob@example.test" },
          ],
        },
      },
    });
    await publishPackage({
      ctx: bob,
      input: { name: "punycode", body: publishBody("punycode", "1.1.0") },
    });
    expect((await readDoc(alice, "punycode"))["dist-tags"]).toEqual({ latest: "1.1.0" });
    // Names npm refuses outright stay refused, for administrators too.
    expect(
      (
        await failure(
          publishPackage({
            ctx: admin,
            input: { name: "node_modules", body: publishBody("node_modules", "1.0.0") },
          }),
        )
      ).code,
    ).toBe("INVALID_PACKAGE_NAME");
  });

  it("sets latest on the first publish even under another tag", async () => {
    await publishPackage({
      ctx: alice,
      input: { name: "first-tagged", body: publishBody("first-tagged", "0.1.0", { tag: "next" }) },
    });
    expect((await readDoc(alice, "first-tagged"))["dist-tags"]).toEqual({
      latest: "0.1.0",
      next: "0.1.0",
    });
  });

  it("treats npm's retry of the same bytes as success and different bytes as a conflict naming the version", async () => {
    const body = publishBody("retry-me", "1.0.0");
    await publishPackage({ ctx: alice, input: { name: "retry-me", body } });
    const again = await publishPackage({ ctx: alice, input: { name: "retry-me", body } });
    expect(again.idempotent).toBe(true);
    const err = await failure(
      publishPackage({
        ctx: alice,
        input: {
          name: "retry-me",
          body: publishBody("retry-me", "1.0.0", {
            bytes: makeTarballSync({ name: "retry-me", version: "1.0.0" }, { "x.txt": "other" }),
          }),
        },
      }),
    );
    expect(err.code).toBe("VERSION_EXISTS");
    expect(err.status).toBe(409);
    expect(err.message).toContain("1.0.0");
  });

  it("never reuses an unpublished version number", async () => {
    await publishPackage({
      ctx: alice,
      input: { name: "tomb", body: publishBody("tomb", "1.0.0") },
    });
    await deps.db
      .update(versions)
      .set({ unpublishedAt: new Date() })
      .where(eq(versions.version, "1.0.0"));
    const err = await failure(
      publishPackage({ ctx: alice, input: { name: "tomb", body: publishBody("tomb", "1.0.0") } }),
    );
    expect(err.code).toBe("VERSION_EXISTS");
    expect(err.message).toMatch(/unpublished/);
  });

  it("lands 20 concurrent publishes of different versions of one package", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        publishPackage({
          ctx: alice,
          input: { name: "busy", body: publishBody("busy", `1.0.${i}`) },
        }),
      ),
    );
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    const doc = await readDoc(alice, "busy");
    expect(Object.keys(doc.versions)).toHaveLength(20);
    expect(Object.keys(doc.time).filter((k) => k.startsWith("1.0."))).toHaveLength(20);
  });

  it("refuses a tarball that does not match its integrity, and stores nothing", async () => {
    const body = publishBody("tampered", "1.0.0", {
      integrity: `sha512-${Buffer.alloc(64).toString("base64")}`,
    });
    const err = await failure(publishPackage({ ctx: alice, input: { name: "tampered", body } }));
    expect(err.code).toBe("INTEGRITY_MISMATCH");
    expect(
      (await failure(getPackument({ ctx: alice, input: { name: "tampered", abbreviated: false } })))
        .code,
    ).toBe("NOT_FOUND");
  });

  it("refuses a URL name that differs from the manifest, and bad versions", async () => {
    expect(
      (
        await failure(
          publishPackage({
            ctx: alice,
            input: { name: "a-name", body: publishBody("other-name", "1.0.0") },
          }),
        )
      ).message,
    ).toMatch(/does not match/);
    expect(
      (
        await failure(
          publishPackage({
            ctx: alice,
            input: { name: "badver", body: publishBody("badver", "v1") },
          }),
        )
      ).message,
    ).toMatch(/not a valid semver/);
    expect(
      (
        await failure(
          publishPackage({ ctx: alice, input: { name: "x-body", body: { name: "x-body" } } }),
        )
      ).code,
    ).toBe("VALIDATION");
  });

  it("refuses read-only tokens, tokens scoped elsewhere, and non-maintainers", async () => {
    const reader = await tokenContext(deps, { user: "ci", role: "ci-readonly", kind: "ci" });
    const readonlyErr = await failure(
      publishPackage({
        ctx: reader,
        input: { name: "ro-pkg", body: publishBody("ro-pkg", "1.0.0") },
      }),
    );
    expect(readonlyErr.code).toBe("FORBIDDEN");
    expect(readonlyErr.message).toMatch(/lacks the "publish" permission/);

    const scoped = await tokenContext(deps, {
      user: "ci",
      role: "ci-publish",
      kind: "ci",
      scopes: ["@acme"],
    });
    const scopeErr = await failure(
      publishPackage({
        ctx: scoped,
        input: { name: "@other/x", body: publishBody("@other/x", "1.0.0") },
      }),
    );
    expect(scopeErr.code).toBe("SCOPE_FORBIDDEN");
    expect(scopeErr.message).toContain("@acme");
    expect(scopeErr.details).toEqual({ allowedScopes: ["@acme"] });
    // @acme is alice's org (her first publish claimed it): a CI token acts with its creator's
    // role there, so ci publishes once it is a maintainer of acme.
    const outsider = await failure(
      publishPackage({
        ctx: scoped,
        input: { name: "@acme/ci-made", body: publishBody("@acme/ci-made", "1.0.0") },
      }),
    );
    expect(outsider.message).toBe(
      "ci is not a member of @acme; publishing needs maintainer or admin — ask an admin of acme to add you.",
    );
    await setOrgRole(deps, { org: "acme", user: "ci", role: "maintainer" });
    await publishPackage({
      ctx: scoped,
      input: { name: "@acme/ci-made", body: publishBody("@acme/ci-made", "1.0.0") },
    });

    const notMine = await failure(
      publishPackage({
        ctx: bob,
        input: { name: "@acme/widget", body: publishBody("@acme/widget", "9.0.0") },
      }),
    );
    expect(notMine.code).toBe("FORBIDDEN");
    expect(notMine.message).toMatch(
      /bob is not a member of @acme; publishing needs maintainer or admin/,
    );

    expect(
      (
        await failure(
          publishPackage({
            ctx: anonymous(deps),
            input: { name: "anon", body: publishBody("anon", "1.0.0") },
          }),
        )
      ).code,
    ).toBe("UNAUTHORIZED");
  });

  it("serves tarballs by file name, only to readers", async () => {
    const bytes = makeTarballSync({ name: "@acme/tgz", version: "1.2.3" }, { "x.txt": "real" });
    await publishPackage({
      ctx: alice,
      input: { name: "@acme/tgz", body: publishBody("@acme/tgz", "1.2.3", { bytes }) },
    });
    const tgz = await getTarball({
      ctx: alice,
      input: { name: "@acme/tgz", filename: "tgz-1.2.3.tgz" },
    });
    if (tgz.kind !== "stream") throw new Error("fs store streams");
    expect(Buffer.from(await new Response(tgz.body).arrayBuffer())).toEqual(bytes);
    expect(
      (
        await failure(
          getTarball({
            ctx: anonymous(deps),
            input: { name: "@acme/tgz", filename: "tgz-1.2.3.tgz" },
          }),
        )
      ).code,
    ).toBe("UNAUTHORIZED");
    expect(
      (
        await failure(
          getTarball({ ctx: alice, input: { name: "@acme/tgz", filename: "tgz-9.9.9.tgz" } }),
        )
      ).code,
    ).toBe("NOT_FOUND");
    expect(
      (
        await failure(
          getTarball({ ctx: alice, input: { name: "@acme/tgz", filename: "other-1.2.3.tgz" } }),
        )
      ).code,
    ).toBe("NOT_FOUND");
  });

  it("names each document state with its own ETag, stable until the package changes", async () => {
    await publishPackage({
      ctx: alice,
      input: { name: "etagged", body: publishBody("etagged", "1.0.0") },
    });
    const get = async (abbreviated: boolean) =>
      (await getPackument({ ctx: alice, input: { name: "etagged", abbreviated } })).etag;
    const full1 = await get(false);
    expect(await get(false)).toBe(full1);
    expect(await get(true)).not.toBe(full1);
    await publishPackage({
      ctx: alice,
      input: { name: "etagged", body: publishBody("etagged", "1.1.0") },
    });
    expect(await get(false)).not.toBe(full1);
  });

  it("keeps versions in publish order with the gzip matching the plain bytes", async () => {
    for (const v of ["2.0.0", "1.0.0", "1.5.0"]) {
      await publishPackage({
        ctx: alice,
        input: { name: "ordered", body: publishBody("ordered", v) },
      });
    }
    const doc = await readDoc(alice, "ordered");
    expect(Object.keys(doc.versions)).toEqual(["2.0.0", "1.0.0", "1.5.0"]);
    expect(doc["dist-tags"].latest).toBe("1.5.0");
    const bytes = await (
      await getPackument({ ctx: alice, input: { name: "ordered", abbreviated: false } })
    ).load();
    expect(gunzipSync(bytes.gzip)).toEqual(Buffer.from(bytes.plain));
  });

  it("rebuilds documents when the public URL changes", async () => {
    await publishPackage({
      ctx: alice,
      input: { name: "moved", body: publishBody("moved", "1.0.0") },
    });
    const moved = { ...alice, deps: { ...deps, publicUrl: () => "https://new.example" } };
    const doc = await readDoc(moved, "moved");
    expect(doc.versions["1.0.0"].dist.tarball).toBe("https://new.example/moved/-/moved-1.0.0.tgz");
  });
});
