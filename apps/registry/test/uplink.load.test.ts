import { createHash, randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { tarballKey } from "@packr/core";
import { makeTarballSync, publishBody } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromPeer } from "./harness.ts";
import { client, expectError } from "./http.ts";
import { createUplinkPair, type UplinkPair } from "./uplink-fixture.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const MB = 1024 * 1024;
const sri = (b: Buffer) => `sha512-${createHash("sha512").update(b).digest("base64")}`;

/** What the registry under test holds in JS memory: heap plus Buffers/ArrayBuffers. */
const held = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

describe("uplink: heavy work is bounded (issue 16)", () => {
  let pair: UplinkPair;
  // Real tarballs (the registry compares their package.json with the manifest sent).
  const tgz = (name: string, version: string, content: Uint8Array | string) =>
    makeTarballSync({ name, version }, { "blob.bin": content });
  const big = tgz("big-tarball", "1.0.0", randomBytes(50 * MB));
  const corruptMe = tgz("corrupt-me", "1.0.0", "the real bytes of corrupt-me");

  const publish = async (name: string, version: string, bytes: Buffer, manifest = {}) => {
    const res = await client(pair.upstream.registry.app, pair.upstreamToken).put(
      `/${name.replace("/", "%2f")}`,
      publishBody(name, version, { bytes, access: "public", manifest }),
    );
    if (res.status !== 201) throw new Error(`upstream publish: ${res.status} ${await res.text()}`);
  };

  beforeAll(async () => {
    // A 20 MB document takes more than the fixture's 500 ms from an in-process uplink.
    pair = await createUplinkPair({ PACKR_UPLINK_TIMEOUT: "30s" });
    await publish("big-tarball", "1.0.0", big);
    await publish("corrupt-me", "1.0.0", corruptMe);
    await publish("popular", "1.0.0", tgz("popular", "1.0.0", randomBytes(256 * 1024)));
    // A 20 MB document: one version carries 20 MB of manifest, the one asked for is small.
    await publish("huge-doc", "1.0.0", tgz("huge-doc", "1.0.0", "old"), {
      blob: "lorem ipsum ".repeat(1.75 * MB),
    });
    await publish("huge-doc", "1.0.1", tgz("huge-doc", "1.0.1", "new"));
  }, 120_000);
  afterAll(async () => pair.close());

  it("streams a 50 MB tarball through to the blob store: served intact, JS memory grows far less than its size", async () => {
    gc();
    const baseline = held();
    let peak = baseline;
    // Collected before each sample: live memory, not chunks already dropped and not yet swept.
    const sampler = setInterval(() => {
      gc();
      peak = Math.max(peak, held());
    }, 250);
    const hash = createHash("sha512");
    let size = 0;
    try {
      const res = await client(pair.reg.app).get("/big-tarball/-/big-tarball-1.0.0.tgz");
      expect(res.status).toBe(200);
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        size += chunk.byteLength;
      }
    } finally {
      clearInterval(sampler);
    }
    expect(size).toBe(big.byteLength);
    expect(`sha512-${hash.digest("base64")}`).toBe(sri(big));
    const growth = peak - baseline;
    console.log(
      `50 MB tarball through the uplink: peak live JS heap+buffers growth ${(growth / MB).toFixed(1)} MB`,
    );
    // Holding the tarball whole (as before) keeps at least 50 MB live, 100 MB with the chunk list.
    // The uplink runs in this process too, so its stream buffers count here as well.
    expect(growth).toBeLessThan(30 * MB);
    // Stored under its content address, so the next GET needs no uplink.
    const key = tarballKey(createHash("sha512").update(big).digest("hex"));
    expect(await pair.reg.runtime.deps.blobStore.exists(key)).toBe(true);
    const asked = pair.askedAbout("big-tarball").length;
    const again = await client(pair.reg.app).get("/big-tarball/-/big-tarball-1.0.0.tgz");
    expect(again.status).toBe(200);
    await again.body?.cancel();
    expect(pair.askedAbout("big-tarball").length).toBe(asked);
  }, 120_000);

  it("refuses an uplink tarball that does not match its document's integrity: 502, nothing stored, nothing left in tmp", async () => {
    const spooled = async () =>
      (await readdir(tmpdir())).filter((f) => f.startsWith("packr-uplink-")).sort();
    const tmpBefore = await spooled();
    const real = corruptMe;
    const realKey = tarballKey(createHash("sha512").update(real).digest("hex"));
    // The uplink's storage now serves other bytes under the document's integrity.
    // Same length (the upstream serves the row's size), one byte changed.
    const forged = Buffer.from(real);
    forged[forged.length - 1] = (forged[forged.length - 1] ?? 0) ^ 0xff;
    await pair.upstream.registry.runtime.deps.blobStore.put(realKey, forged);
    const forgedKey = tarballKey(createHash("sha512").update(forged).digest("hex"));

    const res = await client(pair.reg.app).get("/corrupt-me/-/corrupt-me-1.0.0.tgz");
    const body = await expectError(res, 502, "BAD_GATEWAY");
    expect(body.error).toMatch(/does not match the integrity/);
    const store = pair.reg.runtime.deps.blobStore;
    expect(await store.exists(forgedKey)).toBe(false);
    expect(await store.exists(realKey)).toBe(false);
    // Asked again, it is refused again (never served from a half-kept copy).
    await expectError(
      await client(pair.reg.app).get("/corrupt-me/-/corrupt-me-1.0.0.tgz"),
      502,
      "BAD_GATEWAY",
    );
    expect(await spooled()).toEqual(tmpBefore);
  });

  it("20 concurrent GETs of an uncached tarball make one uplink fetch", async () => {
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => client(pair.reg.app).get("/popular/-/popular-1.0.0.tgz")),
    );
    const bodies = await Promise.all(
      responses.map(async (r) => [r.status, await r.arrayBuffer()] as const),
    );
    const want = sri(
      Buffer.from(
        await (
          await client(pair.upstream.registry.app).get("/popular/-/popular-1.0.0.tgz")
        ).arrayBuffer(),
      ),
    );
    for (const [status, bytes] of bodies) {
      expect(status).toBe(200);
      expect(sri(Buffer.from(bytes))).toBe(want);
    }
    const fetches = pair.upstream.requests.filter((r) => r.path === "/popular/-/popular-1.0.0.tgz");
    expect(fetches).toHaveLength(1);
  });

  it("a version GET on a proxied 20 MB document does not re-parse it: one rewrite (on the worker thread) for 100 GETs", async () => {
    const deps = pair.reg.runtime.deps;
    const rewriter = deps.documentRewriter;
    expect(rewriter).toBeDefined();
    let rewrites = 0;
    deps.documentRewriter = async (request) => {
      rewrites += 1;
      return (rewriter as NonNullable<typeof rewriter>)(request);
    };
    try {
      const first = await client(pair.reg.app).get("/huge-doc/1.0.1");
      if (first.status !== 200) throw new Error(await first.text());
      const manifest = (await first.json()) as { version: string; dist: { tarball: string } };
      expect(manifest.version).toBe("1.0.1");
      expect(manifest.dist.tarball).toBe("http://registry.test/huge-doc/-/huge-doc-1.0.1.tgz");
      expect(rewrites).toBe(1);

      const started = performance.now();
      for (let i = 0; i < 99; i++) {
        const spec = ["1.0.1", "latest", "^1.0.0"][i % 3] as string;
        const res = await client(pair.reg.app).get(`/huge-doc/${encodeURIComponent(spec)}`);
        expect(res.status).toBe(200);
        expect(((await res.json()) as { version: string }).version).toBe("1.0.1");
      }
      const ms = performance.now() - started;
      console.log(`99 version GETs of a 20 MB proxied document: ${ms.toFixed(0)} ms`);
      expect(rewrites).toBe(1);
      // Before, each GET rebuilt the 20 MB document (the 99 took about a minute here).
      expect(ms).toBeLessThan(10_000);
      // The big version is served whole from the same index.
      const old = await client(pair.reg.app).get("/huge-doc/1.0.0");
      expect(((await old.json()) as { blob: string }).blob.length).toBe(12 * 1.75 * MB);
      await expectError(await client(pair.reg.app).get("/huge-doc/9.9.9"), 404, "NOT_FOUND");
    } finally {
      deps.documentRewriter = rewriter;
    }
  }, 60_000);

  it("rate-limits anonymous uplink misses per address: 429 with Retry-After; cached packages, other addresses and token holders go on", async () => {
    // Requests as if from these client addresses (the socket peer; no proxy is trusted here).
    const from = (ip: string) => client(fromPeer(pair.reg.app, ip));
    // A cached package first, so we can show cached reads are not counted.
    expect((await from("203.0.113.7").get("/popular")).status).toBe(200);
    const before = pair.upstream.requests.length;
    for (let i = 0; i < 59; i++) {
      const res = await from("203.0.113.7").get(`/not-there-${i}`);
      await expectError(res, 404, "NOT_FOUND");
    }
    const limited = await from("203.0.113.7").get("/not-there-x");
    expect(limited.headers.get("retry-after")).toBe("60");
    await expectError(limited, 429, "RATE_LIMITED");
    const tgz = await from("203.0.113.7").get("/not-there-y/-/not-there-y-1.0.0.tgz");
    await expectError(tgz, 429, "RATE_LIMITED");
    // Refused before the uplink was asked.
    expect(pair.upstream.requests.length - before).toBe(59);
    // What is cached is still served to that address.
    expect((await from("203.0.113.7").get("/popular")).status).toBe(200);
    // Another address has its own budget.
    await expectError(await from("198.51.100.1").get("/not-there-z"), 404, "NOT_FOUND");
    // A token holder from the limited address is not limited the same way.
    for (let i = 0; i < 5; i++) {
      await expectError(
        await client(fromPeer(pair.reg.app, "203.0.113.7"), pair.token).get(`/not-there-t${i}`),
        404,
        "NOT_FOUND",
      );
    }
  });
});
