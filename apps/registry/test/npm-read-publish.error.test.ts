import { makeTarballSync, publishBody, tokenContext } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

describe("npm protocol: bad input gets a clear 4xx", () => {
  let reg: TestRegistry;
  let token: string;

  beforeAll(async () => {
    reg = await createTestRegistry({ PACKR_MAX_BODY_SIZE: "64kb" });
    token = await reg.login("admin", ADMIN_PASSWORD);
  });
  afterAll(async () => reg.close());

  it.each([
    // URL parsing folds `%2e%2e` into `..` and resolves it away: nothing names a package.
    ["PUT", "/%2e%2e", "does not name a package"],
    ["GET", "/@acme%2f..", "@acme/.."],
    ["GET", "/bad%01name", "control characters"],
    ["PUT", "/bad%01name", "control characters"],
    ["GET", `/${"x".repeat(300)}`, "longer than 214"],
    ["GET", "/%2e%2e%2fetc%2fpasswd", "Invalid package name"],
    ["GET", "/-/whatever/..%2f..%2fsecrets", "No such endpoint"],
  ])("%s %s → 400 naming the problem", async (method, path, words) => {
    const res =
      method === "PUT"
        ? await client(reg.app, token).put(path, publishBody("x", "1.0.0"))
        : await client(reg.app, token).get(path);
    const body = (await res.json()) as { error: string; code: string };
    expect([400, 404]).toContain(res.status);
    expect(body.error).toContain(words);
    if (res.status === 400) expect(body.code).toBe("INVALID_PACKAGE_NAME");
  });

  it("lets only an administrator create a package under a name npm keeps for old packages", async () => {
    const alice = (await tokenContext(reg.runtime.deps, { user: "alice", role: "maintainer" }))
      .token;
    for (const name of ["UPPER-case", "punycode"]) {
      const res = await client(reg.app, alice).put(`/${name}`, publishBody(name, "1.0.0"));
      const body = await expectError(res, 400, "INVALID_PACKAGE_NAME");
      expect(body.error).toMatch(/capital|core module/);
      expect(body.error).toMatch(/Only an administrator/);
    }
    // What eslint's tree needs (uri-js → punycode): the administrator imports it, everyone reads it.
    const created = await client(reg.app, token).put("/punycode", publishBody("punycode", "2.3.1"));
    expect(created.status).toBe(201);
    expect((await client(reg.app).get("/punycode")).status).toBe(200);
    // A name npm refuses for every package stays refused, for the administrator too.
    const never = await client(reg.app, token).put(
      "/node_modules",
      publishBody("node_modules", "1.0.0"),
    );
    expect((await expectError(never, 400, "INVALID_PACKAGE_NAME")).error).toMatch(
      /not a valid package name/,
    );
  });

  it("refuses bodies that are not JSON or not a publish", async () => {
    await expectError(await client(reg.app, token).put("/x-pkg", "{not json"), 400, "VALIDATION");
    await expectError(await client(reg.app, token).put("/x-pkg", ""), 400, "VALIDATION");
    await expectError(
      await client(reg.app, token).put("/x-pkg", { name: "x-pkg", versions: {} }),
      400,
      "VALIDATION",
    );
    const noAttachment = { ...publishBody("x-pkg", "1.0.0"), _attachments: {} };
    const body = await expectError(
      await client(reg.app, token).put("/x-pkg", noAttachment),
      400,
      "VALIDATION",
    );
    expect(body.error).toMatch(/tarball/);
    const twoVersions = publishBody("x-pkg", "1.0.0") as { versions: Record<string, unknown> };
    twoVersions.versions["2.0.0"] = twoVersions.versions["1.0.0"];
    await expectError(await client(reg.app, token).put("/x-pkg", twoVersions), 400, "VALIDATION");
    const badBase64 = publishBody("x-pkg", "1.0.0") as {
      _attachments: Record<string, { data: string }>;
    };
    (badBase64._attachments["x-pkg-1.0.0.tgz"] as { data: string }).data = "%%%";
    await expectError(await client(reg.app, token).put("/x-pkg", badBase64), 400, "VALIDATION");
  });

  it("refuses a body whose length field disagrees with the bytes", async () => {
    const body = publishBody("len-pkg", "1.0.0") as {
      _attachments: Record<string, { length: number }>;
    };
    (body._attachments["len-pkg-1.0.0.tgz"] as { length: number }).length = 1;
    await expectError(
      await client(reg.app, token).put("/len-pkg", body),
      400,
      "INTEGRITY_MISMATCH",
    );
  });

  it("refuses a tampered tarball and publishes nothing", async () => {
    const body = publishBody("tamper-pkg", "1.0.0", {
      integrity: `sha512-${Buffer.alloc(64, 1).toString("base64")}`,
    });
    const err = await expectError(
      await client(reg.app, token).put("/tamper-pkg", body),
      400,
      "INTEGRITY_MISMATCH",
    );
    expect(err.error).toMatch(/does not match its dist.integrity/);
    await expectError(await client(reg.app, token).get("/tamper-pkg"), 404, "NOT_FOUND");
  });

  it("refuses an oversized upload with 413", async () => {
    const body = publishBody("big-pkg", "1.0.0", { bytes: Buffer.alloc(100 * 1024, 7) });
    const err = await expectError(
      await client(reg.app, token).put("/big-pkg", body),
      413,
      "PAYLOAD_TOO_LARGE",
    );
    expect(err.error).toMatch(/PACKR_MAX_BODY_SIZE/);
  });

  it("refuses a duplicate version with 409 naming it", async () => {
    await client(reg.app, token).put("/dup-pkg", publishBody("dup-pkg", "1.0.0"));
    const other = publishBody("dup-pkg", "1.0.0", {
      bytes: makeTarballSync({ name: "dup-pkg", version: "1.0.0" }, { "x.txt": "different" }),
    });
    const err = await expectError(
      await client(reg.app, token).put("/dup-pkg", other),
      409,
      "VERSION_EXISTS",
    );
    expect(err.error).toContain("1.0.0");
  });

  it("answers unknown packages, versions and tarballs with 404", async () => {
    await expectError(await client(reg.app, token).get("/no-such-pkg"), 404, "NOT_FOUND");
    await client(reg.app, token).put("/known-pkg", publishBody("known-pkg", "1.0.0"));
    await expectError(await client(reg.app, token).get("/known-pkg/9.9.9"), 404, "NOT_FOUND");
    // A spec that decodes to a lone `%` (or any odd text) is a tag nobody set, never a 500.
    for (const spec of ["%25", "%25E0%25A4%25A", "%2525"]) {
      await expectError(await client(reg.app, token).get(`/known-pkg/${spec}`), 404, "NOT_FOUND");
    }
    await expectError(
      await client(reg.app, token).get("/known-pkg/-/known-pkg-9.9.9.tgz"),
      404,
      "NOT_FOUND",
    );
    await expectError(
      await client(reg.app, token).get("/known-pkg/-/evil-1.0.0.tgz"),
      404,
      "NOT_FOUND",
    );
  });

  it("login: half a credential pair is a 400; bad credentials a 401", async () => {
    await expectError(
      await client(reg.app).post("/-/v1/login", { name: "admin" }),
      400,
      "VALIDATION",
    );
    await expectError(
      await client(reg.app).post("/-/v1/login", { name: "admin", password: "wrong-password" }),
      401,
      "UNAUTHORIZED",
    );
    await expectError(
      await client(reg.app).post("/-/v1/login", { name: "nobody", password: "wrong-password" }),
      401,
      "UNAUTHORIZED",
    );
    await expectError(await client(reg.app).post("/-/v1/login", "garbage"), 400, "VALIDATION");
    const couch = { name: "nobody", password: "some-password" };
    const signup = await expectError(
      await client(reg.app).put("/-/user/org.couchdb.user:nobody", couch),
      403,
      "FORBIDDEN",
    );
    // Sign-up is closed by default: the sentence says so and whom to ask.
    expect(signup.error).toMatch(/invitation only \(PACKR_SIGNUP=closed\)/);
    await expectError(
      await client(reg.app).put("/-/user/org.couchdb.user:other", couch),
      400,
      "VALIDATION",
    );
    const basic = `Basic ${Buffer.from("admin:wrong-password").toString("base64")}`;
    const doc = (await (
      await client(reg.app).get("/-/user/org.couchdb.user:admin?write=true")
    ).json()) as { _rev: string };
    await expectError(
      await client(reg.app).put(
        `/-/user/org.couchdb.user:admin/-rev/${doc._rev}`,
        { name: "admin", password: "wrong-password" },
        { authorization: basic },
      ),
      401,
      "UNAUTHORIZED",
    );
    await expectError(
      await client(reg.app).get("/-/user/org.couchdb.user:nobody"),
      404,
      "NOT_FOUND",
    );
  });

  it("answers unknown endpoints and methods with the flat 404", async () => {
    await expectError(await client(reg.app).get("/-/not-an-endpoint"), 404, "NOT_FOUND");
    await expectError(await client(reg.app).post("/-/npm/v1/hooks/hook", {}), 404, "NOT_FOUND");
    await expectError(await client(reg.app).post("/some-pkg", {}), 404, "NOT_FOUND");
    await expectError(await client(reg.app).get("/some-pkg/a/b/c"), 404, "NOT_FOUND");
  });
});
