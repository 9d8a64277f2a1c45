import { eq, sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packages, usageMetrics } from "../src/db/schema/index.ts";
import { publishPackage } from "../src/packages/publish-package.ts";
import {
  createScratchDatabase,
  createTestDeps,
  publishBody,
  type TestDeps,
  tokenContext,
} from "../src/testing/index.ts";

const today = () => new Date().toISOString().slice(0, 10);

// A second connection holds the counted row locked, so a flush is caught mid-write: that needs a
// server (PGlite has one connection).
describe.skipIf(!process.env.DATABASE_URL)("download counter on PostgreSQL", () => {
  let db: { url: string; drop(): Promise<void> };
  let deps: TestDeps;
  let packageId: string;
  beforeAll(async () => {
    db = await createScratchDatabase(process.env.DATABASE_URL ?? "");
    deps = await createTestDeps("postgres", db.url);
    const ctx = await tokenContext(deps, { user: "a", role: "maintainer" });
    await publishPackage({ ctx, input: { name: "dl", body: publishBody("dl", "1.0.0") } });
    const [row] = await deps.db
      .select({ id: packages.id })
      .from(packages)
      .where(eq(packages.name, "dl"));
    packageId = String(row?.id);
  });
  afterAll(async () => {
    await deps.close();
    await db.drop();
  });

  const total = async () => {
    const [row] = await deps.db
      .select({ n: sql<number>`coalesce(sum(${usageMetrics.downloads}), 0)::int` })
      .from(usageMetrics)
      .where(eq(usageMetrics.packageId, packageId));
    return Number(row?.n ?? 0) + deps.downloads.pendingFor(packageId, today(), today());
  };

  it("keeps counting a batch while it is being written: a read never sees fewer downloads", async () => {
    deps.downloads.record(packageId, "1.0.0");
    await deps.downloads.flush();
    const locker = postgres(db.url, { max: 1, onnotice: () => {} });
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const locked = new Promise<void>((ready) => {
      void locker.begin(async (tx) => {
        await tx`select 1 from usage_metrics where package_id = ${packageId} for update`;
        ready();
        await held;
      });
    });
    await locked;
    for (let i = 0; i < 3; i++) deps.downloads.record(packageId, "1.0.0");
    const flushing = deps.downloads.flush();
    await new Promise((r) => setTimeout(r, 200)); // the upsert is now waiting on the lock
    expect(await total()).toBe(4);
    release();
    await flushing;
    expect(await total()).toBe(4);
    await locker.end();
  });
});
