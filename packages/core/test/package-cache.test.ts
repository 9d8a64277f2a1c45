import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setPackageAccess } from "../src/access/set-package-access.ts";
import type { ServiceContext } from "../src/context.ts";
import { getPackument } from "../src/packages/get-packument.ts";
import { getTarball } from "../src/packages/get-tarball.ts";
import { PackageCache } from "../src/packages/package-cache.ts";
import { publishPackage } from "../src/packages/publish-package.ts";
import {
  createScratchDatabase,
  createTestDeps,
  publishBody,
  type TestDeps,
  tokenContext,
} from "../src/testing/index.ts";
import { anonymous } from "./helpers.ts";

const versionsOf = async (ctx: ServiceContext, name: string): Promise<string[]> => {
  const doc = await getPackument({ ctx, input: { name, abbreviated: true } });
  return Object.keys(JSON.parse(Buffer.from((await doc.load()).plain).toString()).versions);
};

/** Let notifications already sent reach their listener. */
async function settle(deps: TestDeps): Promise<void> {
  await deps.db.execute(sql`select 1`);
  await new Promise((r) => setTimeout(r, 50));
}

describe("package cache on one instance", () => {
  let deps: TestDeps;
  beforeAll(async () => {
    deps = await createTestDeps("pglite");
  });
  afterAll(async () => deps.close());

  it("serves reads from the cache and sees its own writes at once", async () => {
    const ctx = await tokenContext(deps, { user: "a", role: "maintainer" });
    await publishPackage({ ctx, input: { name: "cached", body: publishBody("cached", "1.0.0") } });
    // Read-your-writes: the publishing instance drops its entry before answering.
    expect(await versionsOf(ctx, "cached")).toEqual(["1.0.0"]);
    // The publish's own NOTIFY arrives a moment later and drops the entry once more; then reads cache.
    await settle(deps);
    await versionsOf(ctx, "cached");
    expect(deps.packageCache.getMeta("cached")).toMatchObject({ rev: 1, access: "public" });
    await publishPackage({ ctx, input: { name: "cached", body: publishBody("cached", "1.1.0") } });
    expect(await versionsOf(ctx, "cached")).toEqual(["1.0.0", "1.1.0"]);
    await settle(deps);
    await versionsOf(ctx, "cached");
    await getTarball({ ctx, input: { name: "cached", filename: "cached-1.1.0.tgz" } });
    expect(deps.packageCache.getTarball("cached", "1.1.0")).toMatchObject({
      size: expect.any(Number),
    });
  });

  it("caches absence, and a first publish replaces it", async () => {
    const ctx = await tokenContext(deps, { user: "a", role: "maintainer" });
    await expect(
      getPackument({ ctx, input: { name: "later", abbreviated: false } }),
    ).rejects.toThrow(/not in this registry/);
    expect(deps.packageCache.getMeta("later")).toBeNull();
    await publishPackage({ ctx, input: { name: "later", body: publishBody("later", "1.0.0") } });
    expect(await versionsOf(ctx, "later")).toEqual(["1.0.0"]);
  });

  it("never grows with made-up tarball names: misses are not cached, non-semver names not looked up", async () => {
    const ctx = await tokenContext(deps, { user: "a", role: "maintainer" });
    await publishPackage({ ctx, input: { name: "probed", body: publishBody("probed", "1.0.0") } });
    await settle(deps);
    await versionsOf(ctx, "probed");
    await getTarball({ ctx, input: { name: "probed", filename: "probed-1.0.0.tgz" } });
    const before = deps.packageCache.size;
    const probes = [
      ...Array.from({ length: 300 }, (_, i) => `probed-9.9.${i}.tgz`),
      ...Array.from({ length: 300 }, (_, i) => `probed-${"x".repeat(i)}.tgz`),
      "probed-1.0.0-.tgz",
      "probed-01.0.0.tgz",
    ];
    for (const filename of probes) {
      await expect(getTarball({ ctx, input: { name: "probed", filename } })).rejects.toMatchObject({
        code: "NOT_FOUND",
      });
    }
    expect(deps.packageCache.size).toEqual(before);
    // The real version is still served from the cache.
    expect(deps.packageCache.getTarball("probed", "1.0.0")).toBeDefined();
  });

  it("stays within its byte budget, evicting the least recently cached packages", () => {
    const cache = new PackageCache(64 * 1024);
    cache.resume();
    for (let i = 0; i < 2_000; i++) {
      const meta = {
        id: `${i}`,
        access: "public" as const,
        rev: 1,
        modifiedAt: new Date(),
        deprecated: null,
      };
      cache.setMeta(`pkg-${i}`, meta);
      cache.setTarball(`pkg-${i}`, "1.0.0", {
        key: "k".repeat(140),
        size: 1,
        integrity: "i".repeat(95),
      });
    }
    expect(cache.size.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(cache.getMeta("pkg-1999")).toBeDefined();
    expect(cache.getMeta("pkg-0")).toBeUndefined();
  });
});

describe.skipIf(!process.env.DATABASE_URL)("package cache across instances on PostgreSQL", () => {
  let shared: { url: string; drop(): Promise<void> };
  let a: TestDeps;
  let b: TestDeps;
  beforeAll(async () => {
    shared = await createScratchDatabase(process.env.DATABASE_URL ?? "");
    a = await createTestDeps("postgres", shared.url);
    b = await createTestDeps("postgres", shared.url);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await shared.drop();
  });

  it("shows a publish on instance A to instance B within milliseconds, through NOTIFY", async () => {
    const onA = await tokenContext(a, { user: "a", role: "maintainer" });
    const onB: ServiceContext = { ...onA, deps: b };
    await publishPackage({
      ctx: onA,
      input: { name: "shared", body: publishBody("shared", "1.0.0") },
    });
    expect(await versionsOf(onB, "shared")).toEqual(["1.0.0"]);
    expect(b.packageCache.getMeta("shared")).toMatchObject({ rev: 1 });

    await publishPackage({
      ctx: onA,
      input: { name: "shared", body: publishBody("shared", "1.1.0") },
    });
    const started = Date.now();
    while (b.packageCache.getMeta("shared") !== undefined && Date.now() - started < 2_000) {
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await versionsOf(onB, "shared")).toEqual(["1.0.0", "1.1.0"]);
  });

  it("stops trusting its cache while the LISTEN connection is down, and catches up when it is back", async () => {
    const onA = await tokenContext(a, { user: "a", role: "maintainer" });
    const onB: ServiceContext = { ...onA, deps: b };
    const anonB = anonymous(b);
    await publishPackage({
      ctx: onA,
      input: { name: "@acme/flip", body: publishBody("@acme/flip", "1.0.0", { access: "public" }) },
    });
    await settle(b);
    await versionsOf(anonB, "@acme/flip");
    expect(b.packageCache.getMeta("@acme/flip")).toMatchObject({ access: "public" });

    const url = new URL(shared.url);
    const dbName = url.pathname.slice(1);
    const admin = postgres(process.env.DATABASE_URL ?? "", { max: 1, onnotice: () => {} });
    try {
      // No new connection may reach the database, then the LISTEN connections are cut: the
      // listeners cannot come back until connections are allowed again.
      await admin.unsafe(`alter database ${dbName} allow_connections false`);
      await admin`select pg_terminate_backend(pid) from pg_stat_activity
                  where datname = ${dbName} and application_name = 'packr-listen'`;
      const cut = Date.now();
      while (b.packageCache.getMeta("@acme/flip") !== undefined && Date.now() - cut < 2_000) {
        await new Promise((r) => setTimeout(r, 5));
      }
      // Made private on A while B hears nothing: B must not serve its cached "public".
      await setPackageAccess({
        ctx: onA,
        input: { name: "@acme/flip", body: { access: "restricted" } },
      });
      await expect(versionsOf(anonB, "@acme/flip")).rejects.toMatchObject({ status: 401 });
      expect(b.packageCache.getMeta("@acme/flip")).toBeUndefined();
    } finally {
      await admin.unsafe(`alter database ${dbName} allow_connections true`);
      await admin.end();
    }
    // Back within the backoff (at most 5 s): B caches again and hears A's next change.
    const back = Date.now();
    for (;;) {
      await versionsOf(onB, "@acme/flip");
      if (b.packageCache.getMeta("@acme/flip") !== undefined) break;
      expect(Date.now() - back).toBeLessThan(10_000);
      await new Promise((r) => setTimeout(r, 100));
    }
    await setPackageAccess({ ctx: onA, input: { name: "@acme/flip", body: { access: "public" } } });
    const heard = Date.now();
    while (b.packageCache.getMeta("@acme/flip") !== undefined && Date.now() - heard < 2_000) {
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await versionsOf(anonB, "@acme/flip")).toEqual(["1.0.0"]);
  });
});
