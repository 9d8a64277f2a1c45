import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client } from "./http.ts";
import { createUplinkPair, tarballBytes, type UplinkPair } from "./uplink-fixture.ts";

// biome-ignore lint/suspicious/noExplicitAny: packuments are free-form JSON, read deep in assertions
type Doc = Record<string, any>;
const CORGI = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";

describe("uplink: public packages through Packr", () => {
  let pair: UplinkPair;

  beforeAll(async () => {
    pair = await createUplinkPair();
    await pair.publishUpstream("left-pad", "1.0.0");
    await pair.publishUpstream("left-pad", "1.1.0");
    await pair.publishUpstream("@types/thing", "2.0.0");
  });
  afterAll(async () => pair.close());

  it("serves the full document with Packr's tarball URLs, ETag and no-cache; a matching If-None-Match is a 304 without the uplink", async () => {
    const res = await client(pair.reg.app).get("/left-pad", { accept: "application/json" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("warning")).toBeNull();
    const etag = res.headers.get("etag") ?? "";
    expect(etag).toMatch(/^W\/"u\.f\./);
    const doc = (await res.json()) as Doc;
    expect(doc.versions["1.1.0"].dist.tarball).toBe(
      "http://registry.test/left-pad/-/left-pad-1.1.0.tgz",
    );
    const keys = (await (await client(pair.reg.app).get("/-/npm/v1/keys")).json()) as Doc;
    expect(doc.versions["1.1.0"].dist.signatures[0].keyid).toBe(keys.keys[0].keyid);

    const asked = pair.askedAbout("left-pad").length;
    const again = await client(pair.reg.app).get("/left-pad", { "if-none-match": etag });
    expect(again.status).toBe(304);
    expect(pair.askedAbout("left-pad").length).toBe(asked);
  });

  it("serves the abbreviated document to pnpm's Accept, gzipped when asked", async () => {
    const res = await client(pair.reg.app).get("/left-pad", {
      accept: CORGI,
      "accept-encoding": "gzip",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/vnd.npm.install-v1+json");
    expect(res.headers.get("content-encoding")).toBe("gzip");
    const doc = JSON.parse(gunzipSync(Buffer.from(await res.arrayBuffer())).toString()) as Doc;
    expect(doc.readme).toBeUndefined();
    expect(Object.keys(doc.versions)).toEqual(["1.0.0", "1.1.0"]);
  });

  it("serves tarballs at npm's and yarn's paths, fetched once, immutable", async () => {
    const first = await client(pair.reg.app).get("/@types/thing/-/thing-2.0.0.tgz");
    expect(first.status).toBe(200);
    expect(first.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(Buffer.from(await first.arrayBuffer())).toEqual(tarballBytes("@types/thing", "2.0.0"));
    const fetched = pair.upstream.requests.filter((r) => r.path.endsWith("thing-2.0.0.tgz")).length;
    const yarn = await client(pair.reg.app).get("/@types%2fthing/-/thing-2.0.0.tgz");
    expect(Buffer.from(await yarn.arrayBuffer())).toEqual(tarballBytes("@types/thing", "2.0.0"));
    expect(pair.upstream.requests.filter((r) => r.path.endsWith("thing-2.0.0.tgz")).length).toBe(
      fetched,
    );
    const head = await client(pair.reg.app).head("/left-pad/-/left-pad-1.0.0.tgz");
    expect(head.status).toBe(200);
  });

  it("answers GET /<name>/<version|tag> for a proxied package", async () => {
    const res = await client(pair.reg.app).get("/left-pad/latest");
    expect(res.status).toBe(200);
    expect(((await res.json()) as Doc).version).toBe("1.1.0");
  });

  it("forwards npm's bulk audit and pnpm's quick audit to the uplink's advisory service", async () => {
    const before = pair.upstream.requests.length;
    const bulk = await client(pair.reg.app).post("/-/npm/v1/security/advisories/bulk", {
      "left-pad": ["1.0.0"],
    });
    expect(bulk.status).toBe(200);
    expect(bulk.headers.get("warning")).toBeNull();
    expect(await bulk.json()).toEqual({});
    const quick = await client(pair.reg.app).post("/-/npm/v1/security/audits/quick", {
      dependencies: { "left-pad": { version: "1.0.0", integrity: "sha512-x" } },
    });
    expect(quick.status).toBe(200);
    expect(((await quick.json()) as Doc).metadata.totalDependencies).toBe(1);
    const forwarded = pair.upstream.requests
      .slice(before)
      .filter((r) => r.path === "/-/npm/v1/security/advisories/bulk");
    expect(forwarded).toHaveLength(2);
  });
});
