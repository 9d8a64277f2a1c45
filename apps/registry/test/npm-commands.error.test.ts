import { deflateSync, gzipSync } from "node:zlib";
import { publishBody, tokenContext } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

// biome-ignore lint/suspicious/noExplicitAny: packuments are free-form JSON, read deep in assertions
type Doc = Record<string, any>;

describe("npm commands beyond publish: bad input gets a clear 4xx", () => {
  let reg: TestRegistry;
  let alice: string;

  beforeAll(async () => {
    reg = await createTestRegistry();
    alice = (await tokenContext(reg.runtime.deps, { user: "alice", role: "maintainer" })).token;
    await client(reg.app, alice).put("/err-pkg", publishBody("err-pkg", "1.0.0"));
    await client(reg.app, alice).put("/err-pkg", publishBody("err-pkg", "1.1.0"));
  });
  afterAll(async () => reg.close());

  const doc = async (path: string): Promise<Doc> =>
    (await (await client(reg.app, alice).get(`${path}?write=true`)).json()) as Doc;

  it("dist-tags: bad bodies, range-like tags, latest, unknown tags and versions, unknown sub-paths", async () => {
    const api = client(reg.app, alice);
    const base = "/-/package/err-pkg/dist-tags";
    await expectError(await api.put(`${base}/beta`, "not json"), 400, "VALIDATION");
    await expectError(await api.put(`${base}/beta`, ""), 400, "VALIDATION");
    await expectError(await api.put(`${base}/beta`, { version: "1.0.0" }), 400, "VALIDATION");
    await expectError(await api.put(`${base}/beta`, '"^1.0.0"'), 400, "VALIDATION");
    const ranged = await expectError(await api.put(`${base}/1.x`, '"1.0.0"'), 400, "VALIDATION");
    expect(ranged.error).toMatch(/version range/);
    const latest = await expectError(await api.delete(`${base}/latest`), 400, "VALIDATION");
    expect(latest.error).toMatch(/cannot be removed, only moved/);
    await expectError(await api.delete(`${base}/nope`), 404, "NOT_FOUND");
    await expectError(await api.put(`${base}/beta`, '"9.9.9"'), 404, "NOT_FOUND");
    await expectError(await api.put(`${base}`, '"1.0.0"'), 404, "NOT_FOUND");
    await expectError(await api.get("/-/package/err-pkg/maintainers-of"), 404, "NOT_FOUND");
    await expectError(await api.put("/-/package/err-pkg/visibility", {}), 404, "NOT_FOUND");
    await expectError(await api.get(`${base}/beta/extra`), 404, "NOT_FOUND");
    await expectError(
      await api.get("/-/package/bad%01name/dist-tags"),
      400,
      "INVALID_PACKAGE_NAME",
    );
    await expectError(await api.get("/-/package/%E0%A4%A/dist-tags"), 400, "INVALID_PACKAGE_NAME");
  });

  it("deprecate: unknown versions 404, non-string messages 400; a star body with more keys is a malformed publish", async () => {
    const api = client(reg.app, alice);
    await expectError(
      await api.put("/err-pkg", { _id: "err-pkg", versions: { "9.9.9": { deprecated: "x" } } }),
      404,
      "NOT_FOUND",
    );
    await expectError(
      await api.put("/err-pkg", { versions: { "1.0.0": { deprecated: 5 } } }),
      400,
      "VALIDATION",
    );
    const notStar = await expectError(
      await api.put("/err-pkg", { _id: "err-pkg", _rev: "1-x", users: { alice: true }, name: "x" }),
      400,
      "VALIDATION",
    );
    expect(notStar.error).toMatch(/Invalid publish body/);
  });

  it("the _rev writes: a stale revision is 409, a body of neither kind 400, wrong methods 404", async () => {
    const api = client(reg.app, alice);
    const read = await doc("/err-pkg");
    delete read.versions["1.1.0"];
    const stale = await expectError(
      await api.put("/err-pkg/-rev/1-0123456789abcdef", read),
      409,
      "CONFLICT",
    );
    expect(stale.error).toMatch(/changed since you read it/);
    expect(stale).toMatchObject({ rev: read._rev });
    await expectError(await api.delete("/err-pkg/-rev/1-stale"), 409, "CONFLICT");
    await expectError(
      await api.put(`/err-pkg/-rev/${read._rev}`, { _id: "err-pkg" }),
      400,
      "VALIDATION",
    );
    await expectError(await api.put(`/err-pkg/-rev/${read._rev}`, "{"), 400, "VALIDATION");
    await expectError(await api.delete("/err-pkg"), 404, "NOT_FOUND");
    await expectError(await api.delete("/err-pkg/1.0.0"), 404, "NOT_FOUND");
    await expectError(await api.get(`/err-pkg/-rev/${read._rev}`), 404, "NOT_FOUND");
    await expectError(
      await api.delete(`/err-pkg/-/err-pkg-1.1.0.tgz/-rev/${read._rev}`),
      409,
      "CONFLICT",
    );
    await expectError(
      await api.delete(`/err-pkg/-/err-pkg-7.7.7.tgz/-rev/${read._rev}`),
      404,
      "NOT_FOUND",
    );
    expect(Object.keys((await doc("/err-pkg")).versions)).toEqual(["1.0.0", "1.1.0"]);
  });

  it("unpublish after 72 hours is a 403 that says why and suggests npm deprecate", async () => {
    const api = client(reg.app, alice);
    await api.put("/aged-pkg", publishBody("aged-pkg", "1.0.0"));
    await api.put("/aged-pkg", publishBody("aged-pkg", "1.0.1"));
    const read = await doc("/aged-pkg");
    delete read.versions["1.0.1"];
    const deps = reg.runtime.deps;
    const realNow = deps.now;
    deps.now = () => new Date(Date.now() + 73 * 3600 * 1000);
    try {
      const err = await expectError(
        await api.put(`/aged-pkg/-rev/${read._rev}`, read),
        403,
        "FORBIDDEN",
      );
      expect(err.error).toMatch(/more than 72 hours ago/);
      expect(err.error).toContain("npm deprecate aged-pkg@1.0.1");
      await expectError(await api.delete(`/aged-pkg/-rev/${read._rev}`), 403, "FORBIDDEN");
    } finally {
      deps.now = realNow;
    }
    expect(Object.keys((await doc("/aged-pkg")).versions)).toEqual(["1.0.0", "1.0.1"]);
  });

  it("owners: unknown users 404, an empty list 400", async () => {
    const api = client(reg.app, alice);
    const read = await doc("/err-pkg");
    const ghost = await expectError(
      await api.put(`/err-pkg/-rev/${read._rev}`, {
        _id: "err-pkg",
        _rev: read._rev,
        maintainers: [{ name: "alice" }, { name: "ghost" }],
      }),
      404,
      "NOT_FOUND",
    );
    expect(ghost.error).toContain('"ghost"');
    await expectError(
      await api.put(`/err-pkg/-rev/${read._rev}`, { _id: "err-pkg", maintainers: [] }),
      400,
      "VALIDATION",
    );
    await expectError(
      await client(reg.app, alice).get("/-/user/org.couchdb.user:ghost"),
      404,
      "NOT_FOUND",
    );
  });

  it("logout: a value that is no token is a 400", async () => {
    const api = client(reg.app, alice);
    await expectError(await api.delete("/-/user/token/garbage"), 400, "VALIDATION");
    await expectError(await api.delete(`/-/user/token/${"a".repeat(9000)}`), 400, "VALIDATION");
    expect((await api.get("/-/whoami")).status).toBe(200);
  });

  it("audit: malformed, undecodable, unsupported and oversized bodies are 4xx, never 5xx", async () => {
    const post = (path: string, body: RequestInit["body"], headers: Record<string, string> = {}) =>
      reg.app.request(path, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
    const bulk = "/-/npm/v1/security/advisories/bulk";
    const quick = "/-/npm/v1/security/audits/quick";
    await expectError(await post(bulk, "{nope"), 400, "VALIDATION");
    await expectError(await post(bulk, ""), 400, "VALIDATION");
    await expectError(await post(bulk, '["a"]'), 400, "VALIDATION");
    await expectError(await post(bulk, "{}", { "content-encoding": "gzip" }), 400, "VALIDATION");
    await expectError(
      await post(bulk, gzipSync("{nope"), { "content-encoding": "gzip" }),
      400,
      "VALIDATION",
    );
    await expectError(await post(bulk, "{}", { "content-encoding": "zstd" }), 400, "VALIDATION");
    expect((await post(bulk, deflateSync("{}"), { "content-encoding": "deflate" })).status).toBe(
      200,
    );
    // A few KB of gzip that inflates past the limit.
    const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024, 32));
    expect(bomb.byteLength).toBeLessThan(100 * 1024);
    const err = await expectError(
      await post(bulk, bomb, { "content-encoding": "gzip" }),
      413,
      "PAYLOAD_TOO_LARGE",
    );
    expect(err.error).toMatch(/at most 16 MB/);
    await expectError(await post(quick, "[]"), 400, "VALIDATION");
    await expectError(await post(quick, '{"dependencies": 1}'), 400, "VALIDATION");
    await expectError(
      await client(reg.app).get("/-/npm/v1/security/advisories/bulk"),
      404,
      "NOT_FOUND",
    );
  });
});
