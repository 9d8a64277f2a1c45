import { sha512Hex, tarballKey } from "@packr/core";
import { makeTarballSync, publishBody } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, createTestRegistry, type TestRegistry } from "./harness.ts";
import { client } from "./http.ts";

describe("the registry's blob sweeper (PACKR_BLOB_SWEEP_GRACE, PACKR_BLOB_SWEEP_INTERVAL)", () => {
  let reg: TestRegistry;

  beforeAll(async () => {
    reg = await createTestRegistry({
      PACKR_RUN_JOBS: "true",
      PACKR_BLOB_SWEEP_GRACE: "0",
      PACKR_BLOB_SWEEP_INTERVAL: "100ms",
    });
  });
  afterAll(async () => reg.close());

  it("runs on its interval: an orphan goes, a published tarball stays", async () => {
    const admin = await reg.login("admin", ADMIN_PASSWORD);
    const published = makeTarballSync({ name: "swept", version: "1.0.0" });
    const res = await client(reg.app, admin).put(
      "/swept",
      publishBody("swept", "1.0.0", { bytes: published }),
    );
    expect(res.status).toBe(201);
    const store = reg.runtime.deps.blobStore;
    const orphan = tarballKey(sha512Hex(Buffer.from("orphan bytes")));
    await store.put(orphan, Buffer.from("orphan bytes"));
    const deadline = Date.now() + 10_000;
    while ((await store.exists(orphan)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await store.exists(orphan)).toBe(false);
    expect(await store.exists(tarballKey(sha512Hex(published)))).toBe(true);
    const tgz = await client(reg.app, admin).get("/swept/-/swept-1.0.0.tgz");
    expect(Buffer.from(await tgz.arrayBuffer()).equals(published)).toBe(true);
  });
});
