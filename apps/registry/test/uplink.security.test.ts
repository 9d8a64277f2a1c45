import { publishBody, tokenContext } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, expectError } from "./http.ts";
import { createUplinkPair, type UplinkPair } from "./uplink-fixture.ts";

describe("uplink: the dependency-confusion guard", () => {
  let pair: UplinkPair;
  let maintainer: string;

  beforeAll(async () => {
    pair = await createUplinkPair();
    maintainer = (await tokenContext(pair.reg.runtime.deps, { user: "mia", role: "maintainer" }))
      .token;
    // Packr's own packages first: @acme is Packr's scope, internal-tool a local name.
    for (const [name, version] of [
      ["@acme/app", "1.0.0"],
      ["internal-tool", "1.0.0"],
    ] as const) {
      const res = await client(pair.reg.app, maintainer).put(
        `/${name.replace("/", "%2f")}`,
        publishBody(name, version),
      );
      expect(res.status).toBe(201);
    }
    // Then an attacker publishes the same names, and more of the scope, upstream.
    await pair.publishUpstream("@acme/x", "99.0.0");
    await pair.publishUpstream("@acme/app", "99.0.0");
    await pair.publishUpstream("internal-tool", "99.0.0");
    await pair.publishUpstream("@corp/secret", "99.0.0");
  });
  afterAll(async () => pair.close());

  it("never looks up a name in a scope Packr owns: 404 with a token, 401 without, uplink not asked", async () => {
    await expectError(await client(pair.reg.app, maintainer).get("/@acme%2fx"), 404, "NOT_FOUND");
    await expectError(await client(pair.reg.app).get("/@acme%2fx"), 401, "UNAUTHORIZED");
    await expectError(
      await client(pair.reg.app, maintainer).get("/@acme/x/-/x-99.0.0.tgz"),
      404,
      "NOT_FOUND",
    );
    expect(pair.askedAbout("@acme/x")).toEqual([]);
  });

  it("serves the local package, never the uplink's, for a name Packr has", async () => {
    const before = pair.askedAbout("internal-tool").length;
    for (const name of ["@acme/app", "internal-tool"]) {
      const res = await client(pair.reg.app, maintainer).get(`/${name.replace("/", "%2f")}`);
      expect(Object.keys(((await res.json()) as { versions: object }).versions)).toEqual(["1.0.0"]);
      const tgz = await client(pair.reg.app, maintainer).get(
        `/${name}/-/${name.split("/").at(-1)}-99.0.0.tgz`,
      );
      await expectError(tgz, 404, "NOT_FOUND");
    }
    expect(pair.askedAbout("internal-tool").length).toBe(before);
  });

  it("never looks up a configured private scope, even before it holds a package", async () => {
    await expectError(
      await client(pair.reg.app, maintainer).get("/@corp%2fsecret"),
      404,
      "NOT_FOUND",
    );
    expect(pair.askedAbout("@corp/secret")).toEqual([]);
  });

  it("never sends the caller's credentials or private names upstream", async () => {
    await client(pair.reg.app, maintainer).get("/@types%2fnone");
    await client(pair.reg.app, maintainer).post("/-/npm/v1/security/advisories/bulk", {
      "@acme/app": ["1.0.0"],
      "internal-tool": ["1.0.0"],
    });
    expect(pair.upstream.requests.every((r) => r.headers.get("authorization") === null)).toBe(true);
    // Only private names in the query: nothing is forwarded at all.
    expect(
      pair.upstream.requests.filter((r) => r.path === "/-/npm/v1/security/advisories/bulk"),
    ).toEqual([]);
  });

  it("refuses hostile names before asking the uplink", async () => {
    const before = pair.upstream.requests.length;
    for (const path of [
      "/..%2f..%2fetc%2fpasswd",
      "/@x%2f%2e%2e",
      "/@acme%2f..%2f..",
      "/a%00b",
      "/a%0ab",
    ]) {
      const res = await client(pair.reg.app).get(path);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    expect(pair.upstream.requests.length).toBe(before);
  });

  it("an attacker's upstream package under a new name cannot be published over by a maintainer", async () => {
    await pair.publishUpstream("typosquat-target", "1.0.0");
    const res = await client(pair.reg.app, maintainer).put(
      "/typosquat-target",
      publishBody("typosquat-target", "1.0.1"),
    );
    await expectError(res, 409, "CONFLICT");
  });
});
