/**
 * PACKR_READ_REQUIRES_AUTH=true over app.request(), what still works: health, every way to sign
 * in (even with a stale token in the header, as npm and yarn send one), logout with a dead token,
 * the dashboard's admin API through the internal secret and a session, and every read with a
 * valid token of the weakest role. With the setting off, strangers read public packages as before.
 */
import { publishBody, setOrgRole, tokenContext } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, createTestRegistry, type TestRegistry } from "./harness.ts";
import { client } from "./http.ts";
import { createPrivatePair, localTarball, PRIVATE } from "./private-pair.ts";
import { createUplinkPair, tarballBytes, type UplinkPair } from "./uplink-fixture.ts";

describe("private by login: what stays open", () => {
  let pair: UplinkPair;
  let internal: Record<string, string>;

  beforeAll(async () => {
    pair = await createUplinkPair(PRIVATE);
    internal = { authorization: `Bearer ${pair.reg.runtime.secrets.internalApi}` };
  });
  afterAll(async () => pair?.close());

  /** A token whose row is revoked: what npm and yarn keep sending after a revocation. */
  async function revokedToken(user: string): Promise<string> {
    const t = await tokenContext(pair.reg.runtime.deps, { user, role: "maintainer" });
    const res = await client(pair.reg.app, t.token).delete(`/-/user/token/${t.token}`);
    expect(res.status).toBe(200);
    return t.token;
  }

  it("answers health and the landing page", async () => {
    const health = await client(pair.reg.app).get("/health");
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok" });
    expect((await client(pair.reg.app).head("/health")).status).toBe(200);
    expect(await (await client(pair.reg.app).get("/")).json()).toMatchObject({
      registry: "packr",
    });
  });

  it("logs in with a password, even with a revoked token in the header", async () => {
    const stale = await revokedToken("stale-1");
    const res = await client(pair.reg.app, stale).post("/-/v1/login", {
      name: "admin",
      password: ADMIN_PASSWORD,
    });
    expect(res.status).toBe(201);
    const { token } = (await res.json()) as { token: string };
    expect(await (await client(pair.reg.app, token).get("/-/whoami")).json()).toEqual({
      username: "admin",
    });
  });

  it("walks npm's legacy login: PUT → 409 → GET user doc → PUT /-rev/ with Basic → 201", async () => {
    const stale = await revokedToken("stale-2");
    const body = { _id: "org.couchdb.user:admin", name: "admin", password: ADMIN_PASSWORD };
    const first = await client(pair.reg.app, stale).put("/-/user/org.couchdb.user:admin", body);
    expect(first.status).toBe(409);
    const doc = await client(pair.reg.app).get("/-/user/org.couchdb.user:admin?write=true");
    expect(doc.status).toBe(200);
    const user = (await doc.json()) as { _rev: string; email?: string };
    expect(user.email).toBeUndefined();
    const basic = Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64");
    const second = await client(pair.reg.app).put(
      `/-/user/org.couchdb.user:admin/-rev/${user._rev}`,
      { ...body, _rev: user._rev },
      { authorization: `Basic ${basic}` },
    );
    expect(second.status).toBe(201);
    expect(((await second.json()) as { token: string }).token).toMatch(/^ey/);
  });

  it("starts npm's web login and the device flow, and polls both", async () => {
    const web = await client(pair.reg.app).post("/-/v1/login", {});
    expect(web.status).toBe(200);
    const { doneUrl } = (await web.json()) as { doneUrl: string };
    const done = await pair.reg.app.request(doneUrl.slice("http://registry.test".length));
    expect(done.status).toBe(202);

    const auth = await client(pair.reg.app).post("/-/v1/device/authorize", {});
    expect(auth.status).toBe(200);
    const { device_code } = (await auth.json()) as { device_code: string };
    const poll = await client(pair.reg.app).post("/-/v1/device/token", {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code,
    });
    expect(poll.status).toBe(400);
    expect(await poll.json()).toMatchObject({ error: "authorization_pending" });
  });

  it("lets npm logout succeed with an already revoked token", async () => {
    const stale = await revokedToken("stale-3");
    const again = await client(pair.reg.app, stale).delete(`/-/user/token/${stale}`);
    expect(again.status).toBe(200);
  });

  it("serves the dashboard: session creation, /me, tokens and device lookup through the internal secret and X-Packr-Session", async () => {
    const created = await client(pair.reg.app).post(
      "/api/v1/admin/sessions",
      {
        provider: "github",
        subject: "7007",
        email: "pia@example.test",
        emailVerified: true,
        name: "Pia",
      },
      internal,
    );
    expect(created.status).toBe(201);
    const { session } = (await created.json()) as { session: string };
    const as = { ...internal, "x-packr-session": session };
    const me = await client(pair.reg.app).get("/api/v1/admin/me", as);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user: { name: "pia" }, via: "session" });
    expect((await client(pair.reg.app).get("/api/v1/admin/tokens", as)).status).toBe(200);
    const made = await client(pair.reg.app).post(
      "/api/v1/admin/tokens",
      { name: "ci", role: "ci-readonly" },
      as,
    );
    expect(made.status).toBe(201);
    const cookie = await client(pair.reg.app).get("/api/v1/admin/me", {
      cookie: `packr_session=${session}`,
    });
    expect(cookie.status).toBe(200);

    const auth = await client(pair.reg.app).post("/-/v1/device/authorize", {});
    const { user_code } = (await auth.json()) as { user_code: string };
    const view = await client(pair.reg.app).get(`/api/v1/admin/device/${user_code}`, as);
    expect(view.status).toBe(200);
    expect(await view.json()).toMatchObject({ userCode: user_code, status: "pending" });
  });
});

describe("private by login: a valid token reads everything it could before", () => {
  let pair: UplinkPair;
  let reader: string;

  beforeAll(async () => {
    pair = await createPrivatePair();
    await pair.reg.runJobs();
    reader = (await tokenContext(pair.reg.runtime.deps, { user: "ci", role: "ci-readonly" })).token;
    // @acme is the admin's org (the first publish claimed it); the reader reads it as a member.
    await setOrgRole(pair.reg.runtime.deps, { org: "acme", user: "ci", role: "reader" });
  });
  afterAll(async () => pair?.close());

  it("reads packuments, versions and tarballs, local and proxied", async () => {
    const r = client(pair.reg.app, reader);
    expect((await r.get("/local-pub")).status).toBe(200);
    expect((await r.head("/local-pub")).status).toBe(200);
    expect(await (await r.get("/local-pub/latest")).json()).toMatchObject({ version: "1.0.0" });
    const tgz = await r.get("/local-pub/-/local-pub-1.0.0.tgz");
    expect(Buffer.from(await tgz.arrayBuffer())).toEqual(localTarball("local-pub"));
    expect((await r.get("/@acme%2fsecret")).status).toBe(200);
    expect((await r.get("/no-such-package")).status).toBe(404);
    // Public packages of a private registry are no shared cache's to hand out.
    expect((await r.get("/local-pub")).headers.get("cache-control")).toBe("private, no-cache");
    expect(tgz.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");

    const up = await r.get("/up-lib", { accept: "application/json" });
    expect(up.status).toBe(200);
    expect(((await up.json()) as { name: string }).name).toBe("up-lib");
    const upTgz = await r.get("/up-lib/-/up-lib-1.0.0.tgz");
    expect(upTgz.status).toBe(200);
    expect(upTgz.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
    expect(up.headers.get("cache-control")).toBe("private, no-cache");
    expect(Buffer.from(await upTgz.arrayBuffer())).toEqual(tarballBytes("up-lib", "1.0.0"));
    // The uplink is asked as before: anonymously (Packr never forwards its callers' tokens).
    const asked = pair.askedAbout("up-lib");
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((a) => a.headers.get("authorization") === null)).toBe(true);
  });

  it("reads search, stars, dist-tags, access lists, downloads, the agent API, keys, openapi and ping", async () => {
    const r = client(pair.reg.app, reader);
    const search = (await (await r.get("/-/v1/search?text=local")).json()) as {
      objects: Array<{ package: { name: string } }>;
    };
    expect(search.objects.map((o) => o.package.name)).toContain("local-pub");
    expect((await r.get('/-/_view/starredByUser?key="admin"')).status).toBe(200);
    expect(await (await r.get("/-/package/local-pub/dist-tags")).json()).toEqual({
      latest: "1.0.0",
    });
    expect((await r.get("/-/package/local-pub/visibility")).status).toBe(200);
    expect((await r.get("/-/package/local-pub/collaborators")).status).toBe(200);
    expect((await r.get("/-/user/admin/package")).status).toBe(200);
    expect(await (await r.get("/-/downloads/point/last-week/local-pub")).json()).toMatchObject({
      package: "local-pub",
    });
    expect(await (await r.get("/agent/local-pub")).json()).toMatchObject({ name: "local-pub" });
    expect((await r.get("/agent/search?q=local")).status).toBe(200);
    expect((await r.get("/-/npm/v1/keys")).status).toBe(200);
    expect(await (await r.get("/openapi.json")).json()).toMatchObject({ openapi: "3.1.0" });
    expect(await (await r.get("/-/ping")).json()).toEqual({});
    expect(await (await r.get("/-/whoami")).json()).toEqual({ username: "ci" });
  });
});

describe("PACKR_READ_REQUIRES_AUTH off (the default)", () => {
  let reg: TestRegistry;

  beforeAll(async () => {
    reg = await createTestRegistry();
    const admin = await reg.login("admin", ADMIN_PASSWORD);
    const res = await client(reg.app, admin).put(
      "/open-pkg",
      publishBody("open-pkg", "1.0.0", { access: "public" }),
    );
    expect(res.status).toBe(201);
  });
  afterAll(async () => reg?.close());

  it("lets strangers read public packages, search, ping and the API document as before", async () => {
    const anon = client(reg.app);
    expect(reg.runtime.config.readRequiresAuth).toBe(false);
    const doc = await anon.get("/open-pkg");
    expect(doc.status).toBe(200);
    expect(doc.headers.get("cache-control")).toBe("no-cache");
    const tgz = await anon.get("/open-pkg/-/open-pkg-1.0.0.tgz");
    expect(tgz.status).toBe(200);
    expect(tgz.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect((await anon.get("/-/v1/search?text=open")).status).toBe(200);
    expect((await anon.get("/-/ping")).status).toBe(200);
    expect((await anon.get("/openapi.json")).status).toBe(200);
    expect((await anon.get("/agent/open-pkg")).status).toBe(200);
    // …and restricted or unknown scoped names still answer 401 to them, unknown plain names 404.
    expect((await anon.get("/@acme%2fnothing")).status).toBe(401);
    expect((await anon.get("/nothing-here")).status).toBe(404);
  });
});
