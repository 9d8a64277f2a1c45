import { gunzipSync } from "node:zlib";
import { makeTarballSync, publishBody } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, decodeJwt } from "./http.ts";

describe("npm protocol: the paths that work", () => {
  let reg: TestRegistry;
  let token: string;

  beforeAll(async () => {
    reg = await createTestRegistry();
    token = await reg.login("admin", ADMIN_PASSWORD);
  });
  afterAll(async () => reg.close());

  it("answers ping, health, and a browser opening the root", async () => {
    const root = await client(reg.app).get("/");
    expect(await root.json()).toMatchObject({
      registry: "packr",
      usage: expect.stringContaining("registry=http://registry.test/"),
    });
    const ping = await client(reg.app).get("/-/ping");
    expect(ping.status).toBe(200);
    expect(await ping.json()).toEqual({});
    const health = await client(reg.app).get("/health");
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: "ok",
      database: "ok",
      storage: "ok",
      region: "local",
      version: "0.1.0",
    });
  });

  it("publishes its signing key for npm audit signatures", async () => {
    const res = await client(reg.app).get("/-/npm/v1/keys");
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(keys).toEqual([
      {
        expires: null,
        keyid: expect.stringMatching(/^SHA256:[A-Za-z0-9+/]{43}$/),
        keytype: "ecdsa-sha2-nistp256",
        scheme: "ecdsa-sha2-nistp256",
        key: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/),
      },
    ]);
  });

  it("logs in with a password for a 30-day JWT carrying the documented claims, ignoring a stale token", async () => {
    const res = await client(reg.app, "stale.token.value").post("/-/v1/login", {
      name: "admin",
      password: ADMIN_PASSWORD,
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { token: string; username: string };
    expect(body.username).toBe("admin");
    const claims = decodeJwt(body.token);
    expect(Object.keys(claims)).toEqual(
      expect.arrayContaining(["org_id", "user_id", "permissions", "scopes", "jti", "exp", "iat"]),
    );
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(30 * 24 * 3600);
    expect(claims.permissions).toEqual(["read", "publish", "unpublish", "admin"]);
    expect(claims.scopes).toEqual([]);
    const who = await client(reg.app, body.token).get("/-/whoami");
    expect(await who.json()).toEqual({ username: "admin" });
  });

  it("walks npm's legacy login through its 409 path", async () => {
    const doc = {
      _id: "org.couchdb.user:admin",
      name: "admin",
      password: ADMIN_PASSWORD,
      type: "user",
      roles: [],
      date: new Date().toISOString(),
    };
    const first = await client(reg.app, "stale").put("/-/user/org.couchdb.user:admin", doc);
    expect(first.status).toBe(409);
    const userDoc = (await (
      await client(reg.app).get("/-/user/org.couchdb.user:admin?write=true")
    ).json()) as { _rev: string; name: string };
    expect(userDoc.name).toBe("admin");
    const basic = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64")}`;
    const retry = await client(reg.app).put(
      `/-/user/org.couchdb.user:admin/-rev/${userDoc._rev}`,
      { ...doc, _rev: userDoc._rev },
      { authorization: basic },
    );
    expect(retry.status).toBe(201);
    const { token: legacy } = (await retry.json()) as { token: string };
    expect(await (await client(reg.app, legacy).get("/-/whoami")).json()).toEqual({
      username: "admin",
    });
    // pnpm 12 sends Basic credentials on the first PUT: no 409 round trip.
    const direct = await client(reg.app).put("/-/user/org.couchdb.user:admin", doc, {
      authorization: basic,
    });
    expect(direct.status).toBe(201);
  });

  it("serves one packument under every scoped spelling, with validators, 304 and gzip", async () => {
    const pub = await client(reg.app, token).put(
      "/@acme%2fwidget",
      publishBody("@acme/widget", "1.0.0"),
    );
    expect(pub.status).toBe(201);
    const a = await client(reg.app, token).get("/@acme%2fwidget");
    const b = await client(reg.app, token).get("/@acme%2Fwidget");
    const c = await client(reg.app, token).get("/@acme/widget");
    const texts = await Promise.all([a, b, c].map((r) => r.text()));
    expect(new Set(texts).size).toBe(1);
    expect(a.headers.get("content-type")).toBe("application/json");
    expect(a.headers.get("cache-control")).toBe("private, no-cache");
    expect(a.headers.get("vary")).toContain("Accept");
    expect(a.headers.get("last-modified")).toBeTruthy();
    const etag = a.headers.get("etag") ?? "";
    expect(etag).toMatch(/^W\/".+"$/);
    const again = await client(reg.app, token).get("/@acme%2fwidget", { "if-none-match": etag });
    expect(again.status).toBe(304);
    const zipped = await client(reg.app, token).get("/@acme%2fwidget", {
      "accept-encoding": "gzip, deflate, br",
    });
    expect(zipped.headers.get("content-encoding")).toBe("gzip");
    expect(gunzipSync(Buffer.from(await zipped.arrayBuffer())).toString()).toBe(texts[0]);
  });

  it("negotiates the abbreviated document for the corgi Accept header, with a different ETag", async () => {
    const corgi = await client(reg.app, token).get("/@acme%2Fwidget", {
      accept: "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*",
    });
    expect(corgi.headers.get("content-type")).toBe("application/vnd.npm.install-v1+json");
    const doc = (await corgi.json()) as Record<string, unknown>;
    expect(Object.keys(doc).sort()).toEqual(["dist-tags", "modified", "name", "time", "versions"]);
    const full = await client(reg.app, token).get("/@acme%2Fwidget");
    expect(corgi.headers.get("etag")).not.toBe(full.headers.get("etag"));
  });

  it("makes a fresh publish visible to the very next GET", async () => {
    const before = await client(reg.app, token).get("/@acme%2fwidget");
    const etag = before.headers.get("etag") ?? "";
    await client(reg.app, token).put("/@acme%2fwidget", publishBody("@acme/widget", "1.1.0"));
    const after = await client(reg.app, token).get("/@acme%2fwidget", { "if-none-match": etag });
    expect(after.status).toBe(200);
    expect(((await after.json()) as { "dist-tags": unknown })["dist-tags"]).toEqual({
      latest: "1.1.0",
    });
  });

  it("serves a version by number, tag and range", async () => {
    for (const spec of ["1.0.0", "latest", "%5E1.0.0"]) {
      const res = await client(reg.app, token).get(`/@acme%2fwidget/${spec}`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { name: string }).name).toBe("@acme/widget");
    }
  });

  it("serves tarballs at npm's and yarn's paths with immutable caching", async () => {
    const bytes = makeTarballSync({ name: "plain-lib", version: "2.0.0" });
    await client(reg.app, token).put("/plain-lib", publishBody("plain-lib", "2.0.0", { bytes }));
    const npmPath = await client(reg.app).get("/plain-lib/-/plain-lib-2.0.0.tgz");
    expect(npmPath.status).toBe(200);
    expect(npmPath.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(npmPath.headers.get("content-type")).toBe("application/octet-stream");
    expect(Buffer.from(await npmPath.arrayBuffer())).toEqual(bytes);
    const scoped = await client(reg.app, token).get("/@acme%2fwidget/-/widget-1.0.0.tgz");
    const slashed = await client(reg.app, token).get("/@acme/widget/-/widget-1.0.0.tgz");
    expect(scoped.status).toBe(200);
    expect(Buffer.from(await scoped.arrayBuffer())).toEqual(
      Buffer.from(await slashed.arrayBuffer()),
    );
    const head = await client(reg.app).head("/plain-lib/-/plain-lib-2.0.0.tgz");
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(bytes.byteLength));
  });

  it("reads a public scoped package without a token", async () => {
    await client(reg.app, token).put(
      "/@acme%2fopen",
      publishBody("@acme/open", "1.0.0", { access: "public" }),
    );
    const res = await client(reg.app).get("/@acme%2fopen");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-cache");
  });
});
