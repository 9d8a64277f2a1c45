import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps, ServiceContext } from "../src/context.ts";
import { uplinkTarballs } from "../src/db/schema/index.ts";
import { publishPackage } from "../src/packages/publish-package.ts";
import { holdBlob } from "../src/storage/blob-references.ts";
import { sha512Hex, tarballKey } from "../src/storage/blob-store.ts";
import { sweepOrphanBlobs } from "../src/storage/blob-sweeper.ts";
import { S3BlobStore } from "../src/storage/s3-blob-store.ts";
import {
  createTestDeps,
  type LocalS3,
  makeTarballSync,
  publishBody,
  startLocalS3,
  type TestDeps,
  testDrivers,
  tokenContext,
} from "../src/testing/index.ts";

const HOUR = 3_600_000;
const GRACE = HOUR;
const keyOf = (bytes: Buffer) => tarballKey(sha512Hex(bytes));

/** A sweep as it would run `ms` from now (blobs keep their real write times). */
const sweepAt = (deps: Deps, ms: number) =>
  sweepOrphanBlobs(
    { db: deps.db, blobStore: deps.blobStore, now: () => new Date(Date.now() + ms) },
    { graceMs: GRACE },
  );

const cases = testDrivers().flatMap((driver) =>
  (["fs", "s3"] as const).map((store) => [`${driver}, ${store} store`, driver, store] as const),
);

describe.each(cases)("blob sweeper on %s", (_label, driver, store) => {
  let base: TestDeps;
  let s3: LocalS3 | undefined;
  let deps: Deps;
  let alice: ServiceContext;

  beforeAll(async () => {
    base = await createTestDeps(driver);
    if (store === "s3") s3 = await startLocalS3("packr-sweep");
    deps = s3 ? { ...base, blobStore: new S3BlobStore(s3.config) } : base;
    alice = { ...(await tokenContext(base, { user: "alice", role: "maintainer" })), deps };
  });
  afterAll(async () => {
    await base.close();
    await s3?.close();
  });

  it("removes what a publish that died in its transaction left, after the grace period only", async () => {
    const bytes = makeTarballSync({ name: "crashed", version: "1.0.0" });
    // The transaction fails (a crash, a lost connection) after the blob was written.
    const crashing = new Proxy(deps.db, {
      get(target, prop, receiver) {
        if (prop === "transaction") return async () => Promise.reject(new Error("crash"));
        return Reflect.get(target, prop, receiver);
      },
    });
    await expect(
      publishPackage({
        ctx: { ...alice, deps: { ...deps, db: crashing } },
        input: { name: "crashed", body: publishBody("crashed", "1.0.0", { bytes }) },
      }),
    ).rejects.toThrow("crash");
    const key = keyOf(bytes);
    expect(await deps.blobStore.exists(key)).toBe(true);

    const early = await sweepAt(deps, GRACE / 2);
    expect(early.deleted).not.toContain(key);
    expect(await deps.blobStore.exists(key)).toBe(true);

    const late = await sweepAt(deps, GRACE + 60_000);
    expect(late.deleted).toContain(key);
    expect(await deps.blobStore.exists(key)).toBe(false);
  });

  it("removes a blob written through the store that no row ever referenced", async () => {
    const key = keyOf(Buffer.from("stray"));
    await deps.blobStore.put(key, Buffer.from("stray"));
    expect((await sweepAt(deps, 0)).deleted).not.toContain(key);
    expect((await sweepAt(deps, 2 * GRACE)).deleted).toContain(key);
    expect(await deps.blobStore.exists(key)).toBe(false);
  });

  it("never removes a blob a published version references, however old", async () => {
    const bytes = makeTarballSync({ name: "kept", version: "1.0.0" });
    await publishPackage({
      ctx: alice,
      input: { name: "kept", body: publishBody("kept", "1.0.0", { bytes }) },
    });
    const key = keyOf(bytes);
    const swept = await sweepAt(deps, 365 * 24 * HOUR);
    expect(swept.examined).toBeGreaterThan(0);
    expect(swept.deleted).not.toContain(key);
    expect(await deps.blobStore.exists(key)).toBe(true);
  });

  it("never removes a blob the uplink cache references", async () => {
    const bytes = Buffer.from("a cached uplink tarball");
    const key = keyOf(bytes);
    await deps.blobStore.put(key, bytes);
    await deps.db.insert(uplinkTarballs).values({
      name: "left-pad",
      version: "1.3.0",
      tarballKey: key,
      size: bytes.byteLength,
      integrity: "sha512-x",
    });
    expect((await sweepAt(deps, 365 * 24 * HOUR)).deleted).not.toContain(key);
    expect(await deps.blobStore.exists(key)).toBe(true);
  });

  it("a publish whose blob a sweep took puts it back before its row commits", async () => {
    const bytes = Buffer.from("bytes a sweep deleted mid-publish");
    const key = keyOf(bytes);
    await deps.blobStore.put(key, bytes);
    await deps.blobStore.delete(key);
    await deps.db.transaction(async (tx) => holdBlob(tx, deps.blobStore, key, bytes));
    expect(await deps.blobStore.exists(key)).toBe(true);
  });
});
