import { randomBytes } from "node:crypto";
import { schema } from "@packr/core";
import { makeTarball, publishBody, tokenContext } from "@packr/core/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, expectError } from "./http.ts";
import { createUplinkPair, type UplinkPair } from "./uplink-fixture.ts";

/**
 * Tarball blobs are content-addressed, so the same bytes are one blob however many users they
 * have: local versions of any package and rows of the uplink tarball cache. Deleting a blob for
 * one of them must never take it from another.
 *
 * To share bytes across names, the upstream package is "manifest-confused": its tarball's own
 * package.json names another package (npmjs does not compare the two, so such tarballs exist
 * there). The upstream here is a Packr, which refuses that at publish, so the package is
 * published upstream under the name its tarball carries and then renamed in the upstream's
 * database — the state npmjs can be in.
 *
 * The tarballs are over 1 MB so no GET is answered from the process's in-memory tarball cache:
 * every answer reads the blob store.
 */
describe("shared tarball blobs", () => {
  let pair: UplinkPair;
  let eve: string;

  beforeAll(async () => {
    pair = await createUplinkPair({ PACKR_UPLINK_MAX_AGE: "1s" });
    eve = (await tokenContext(pair.reg.runtime.deps, { user: "eve", role: "maintainer" })).token;
  });
  afterAll(async () => pair?.close());

  /** A real tarball whose package.json says `name@version`, with 1.2 MB of incompressible bytes. */
  const bigTarball = (name: string, version: string) =>
    makeTarball({ name, version }, { "blob.bin": randomBytes(1_200_000) });

  /** Upstream: `upstreamName@1.0.0` whose tarball's package.json names `carried@1.0.0`. */
  async function publishConfusedUpstream(upstreamName: string, carried: string, bytes: Buffer) {
    const res = await client(pair.upstream.registry.app, pair.upstreamToken).put(
      `/${carried}`,
      publishBody(carried, "1.0.0", { bytes, access: "public" }),
    );
    expect(res.status, await res.text()).toBe(201);
    await renameUpstream(carried, upstreamName);
  }

  /** Rename a package in the upstream's database (and its process cache, which is by name). */
  async function renameUpstream(from: string, to: string) {
    const { db, packageCache } = pair.upstream.registry.runtime.deps;
    await db.update(schema.packages).set({ name: to }).where(eq(schema.packages.name, from));
    packageCache.invalidate(from);
    packageCache.invalidate(to);
  }

  async function unpublishLocal(name: string, token: string) {
    const api = client(pair.reg.app, token);
    const doc = (await (await api.get(`/${name}`)).json()) as { _rev: string };
    const res = await api.delete(`/${name}/-rev/${doc._rev}`);
    expect(res.status, await res.text()).toBe(200);
    // npm's step 5: delete the tarball too.
    const del = await api.delete(`/${name}/-/${name}-1.0.0.tgz/-rev/${doc._rev}`);
    expect(del.status, await del.text()).toBe(200);
  }

  const bytesOf = async (res: Response) => Buffer.from(await res.arrayBuffer());

  it("unpublishing a local package does not delete the blob of a cached uplink tarball with the same bytes", async () => {
    const bytes = await bigTarball("eve-copy", "1.0.0");
    await publishConfusedUpstream("public-lib", "eve-copy", bytes);

    // A CI install fetches the public package through this registry: its tarball is cached.
    const anon = client(pair.reg.app);
    const first = await anon.get("/public-lib/-/public-lib-1.0.0.tgz");
    expect(first.status).toBe(200);
    expect((await bytesOf(first)).equals(bytes)).toBe(true);

    // Eve publishes the exact same bytes under the name they carry, then unpublishes it.
    const pub = await client(pair.reg.app, eve).put(
      "/eve-copy",
      publishBody("eve-copy", "1.0.0", { bytes }),
    );
    expect(pub.status, await pub.text()).toBe(201);
    await unpublishLocal("eve-copy", eve);
    await expectError(await anon.get("/eve-copy/-/eve-copy-1.0.0.tgz"), 404, "NOT_FOUND");

    // The public package is still served from the cache, byte for byte, and the uplink was not
    // asked for the tarball again.
    const tarballAsks = () =>
      pair.askedAbout("public-lib").filter((r) => r.path.endsWith(".tgz")).length;
    const asked = tarballAsks();
    const again = await anon.get("/public-lib/-/public-lib-1.0.0.tgz");
    expect(again.status).toBe(200);
    expect((await bytesOf(again)).equals(bytes)).toBe(true);
    expect(tarballAsks()).toBe(asked);
  });

  it("an uplink cache drop (the uplink answers 404) does not delete the blob of a local version", async () => {
    const bytes = await bigTarball("mine", "1.0.0");
    await publishConfusedUpstream("theirs", "mine", bytes);
    const pub = await client(pair.reg.app, eve).put(
      "/mine",
      publishBody("mine", "1.0.0", { bytes }),
    );
    expect(pub.status, await pub.text()).toBe(201);

    const anon = client(pair.reg.app);
    expect((await anon.get("/theirs/-/theirs-1.0.0.tgz")).status).toBe(200);

    // The upstream package goes away; past the cached document's max age this registry sees the
    // 404 and drops its cached document and tarball rows.
    // (An unpublished package still has a document, so the name is moved away to get a 404.)
    await renameUpstream("theirs", "theirs-moved");
    await new Promise((r) => setTimeout(r, 1100));
    await expectError(await anon.get("/theirs"), 404, "NOT_FOUND");
    await expectError(await anon.get("/theirs/-/theirs-1.0.0.tgz"), 404, "NOT_FOUND");
    const rows = await pair.reg.runtime.deps.db
      .select()
      .from(schema.uplinkTarballs)
      .where(eq(schema.uplinkTarballs.name, "theirs"));
    expect(rows).toEqual([]);

    // The local version still installs.
    const mine = await anon.get("/mine/-/mine-1.0.0.tgz");
    expect(mine.status).toBe(200);
    expect((await bytesOf(mine)).equals(bytes)).toBe(true);
  });

  it("a blob no one uses any more is deleted by the unpublish", async () => {
    const bytes = await bigTarball("lonely", "1.0.0");
    const pub = await client(pair.reg.app, eve).put(
      "/lonely",
      publishBody("lonely", "1.0.0", { bytes }),
    );
    expect(pub.status, await pub.text()).toBe(201);
    await unpublishLocal("lonely", eve);
    const keys = await pair.reg.runtime.deps.db
      .select({ key: schema.versions.tarballKey })
      .from(schema.versions)
      .innerJoin(schema.packages, eq(schema.packages.id, schema.versions.packageId))
      .where(eq(schema.packages.name, "lonely"));
    expect(keys).toHaveLength(1);
    expect(await pair.reg.runtime.deps.blobStore.exists(keys[0]?.key ?? "")).toBe(false);
  });
});
