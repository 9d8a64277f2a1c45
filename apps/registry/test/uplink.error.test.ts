import { publishBody, tokenContext } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, expectError } from "./http.ts";
import { createUplinkPair, type UplinkPair } from "./uplink-fixture.ts";

describe("uplink: when the uplink fails, and what stays read-only", () => {
  let pair: UplinkPair;

  beforeAll(async () => {
    pair = await createUplinkPair({ PACKR_UPLINK_MAX_AGE: "0s" });
    for (const name of ["cached-one", "never-read", "public-name"]) {
      await pair.publishUpstream(name, "1.0.0");
    }
  });
  afterAll(async () => pair.close());

  it("a name the uplink does not have is a 404", async () => {
    await expectError(await client(pair.reg.app).get("/no-such-pkg"), 404, "NOT_FOUND");
  });

  it("revalidates every time with max age 0, and serves the cached copy with a Warning when the uplink is down", async () => {
    const first = await client(pair.reg.app).get("/cached-one");
    expect(first.status).toBe(200);
    const asked = pair.askedAbout("cached-one").length;
    const second = await client(pair.reg.app).get("/cached-one");
    expect(second.status).toBe(200);
    // Asked again, with the uplink's ETag, and told nothing changed.
    const revalidation = pair.askedAbout("cached-one").slice(asked);
    expect(revalidation).toHaveLength(1);
    expect(revalidation[0]?.headers.get("if-none-match")).toMatch(/^W\//);
    expect(second.headers.get("etag")).toBe(first.headers.get("etag"));

    await pair.upstream.stop();
    try {
      const stale = await client(pair.reg.app).get("/cached-one");
      expect(stale.status).toBe(200);
      expect(stale.headers.get("warning")).toBe('110 - "Response is stale"');
      expect(stale.headers.get("npm-notice")).toContain("cached copy of cached-one");
      expect(((await stale.json()) as { name: string }).name).toBe("cached-one");

      // Nothing cached: 503 with Retry-After, never a 404 a lockfile install would misread.
      const missing = await client(pair.reg.app).get("/never-read");
      expect(missing.headers.get("retry-after")).toBe("30");
      await expectError(missing, 503, "UNAVAILABLE");
      const tgz = await client(pair.reg.app).get("/never-read/-/never-read-1.0.0.tgz");
      await expectError(tgz, 503, "UNAVAILABLE");

      // Audits still answer, empty, with a warning.
      const audit = await client(pair.reg.app).post("/-/npm/v1/security/advisories/bulk", {
        "cached-one": ["1.0.0"],
      });
      expect(audit.status).toBe(200);
      expect(await audit.json()).toEqual({});
      expect(audit.headers.get("warning")).toMatch(/^199 - "/);
    } finally {
      await pair.upstream.start();
    }
  });

  it("serves stale when the uplink is slower than PACKR_UPLINK_TIMEOUT", async () => {
    await client(pair.reg.app).get("/public-name");
    pair.upstream.delayMs = 2_000;
    try {
      const started = Date.now();
      const res = await client(pair.reg.app).get("/public-name");
      expect(res.status).toBe(200);
      expect(res.headers.get("warning")).toContain("stale");
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      pair.upstream.delayMs = 0;
    }
  });

  it("a proxied package is read-only: publishing over it is a 409 that says why; other writes are 404", async () => {
    // A maintainer may not publish over it (an administrator may fork it deliberately: core tests).
    const maintainer = (
      await tokenContext(pair.reg.runtime.deps, { user: "mia", role: "maintainer" })
    ).token;
    const publish = await client(pair.reg.app, maintainer).put(
      "/public-name",
      publishBody("public-name", "2.0.0"),
    );
    const body = await expectError(publish, 409, "CONFLICT");
    expect(body.error).toContain("public package on this registry's uplink");
    const deprecate = await client(pair.reg.app, maintainer).put("/public-name", {
      _id: "public-name",
      name: "public-name",
      versions: { "1.0.0": { name: "public-name", version: "1.0.0", deprecated: "x" } },
    });
    await expectError(deprecate, 404, "NOT_FOUND");
    const tag = await client(pair.reg.app, maintainer).put(
      "/-/package/public-name/dist-tags/beta",
      '"1.0.0"',
    );
    await expectError(tag, 404, "NOT_FOUND");
  });
});
