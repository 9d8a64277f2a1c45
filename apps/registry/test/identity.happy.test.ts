/**
 * The identity contract's happy paths over app.request(): sessions for the dashboard, the admin
 * token API, the device flow, npm's web login and npm's token API, and the OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, decodeJwt } from "./http.ts";

let reg: TestRegistry;
let internal: Record<string, string>;

beforeAll(async () => {
  reg = await createTestRegistry({
    PACKR_DASHBOARD_URL: "http://dash.test",
    // These tests sign new people up through providers; signup.test.ts tests the policies.
    PACKR_SIGNUP: "open",
  });
  internal = { authorization: `Bearer ${reg.runtime.secrets.internalApi}` };
});
afterAll(async () => reg.close());

export async function signIn(
  r: TestRegistry,
  body: Record<string, unknown>,
): Promise<{ session: string; user: { id: string; name: string } }> {
  const res = await client(r.app).post("/api/v1/admin/sessions", body, {
    authorization: `Bearer ${r.runtime.secrets.internalApi}`,
  });
  if (res.status !== 201) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { session: string; user: { id: string; name: string } };
}

describe("sessions", () => {
  it("creates a session, answers /me through the header pair and the cookie, signs out", async () => {
    const s = await signIn(reg, {
      provider: "github",
      subject: "1001",
      email: "hana@example.test",
      emailVerified: true,
      name: "Hana",
    });
    expect(s.user).toMatchObject({ name: "hana", email: "hana@example.test", isAdmin: false });
    const viaHeader = await client(reg.app).get("/api/v1/admin/me", {
      ...internal,
      "x-packr-session": s.session,
    });
    expect(viaHeader.status).toBe(200);
    expect(await viaHeader.json()).toMatchObject({ user: { name: "hana" }, via: "session" });
    const viaCookie = await client(reg.app).get("/api/v1/admin/me", {
      cookie: `packr_session=${s.session}`,
    });
    expect(await viaCookie.json()).toMatchObject({ via: "session" });

    const out = await client(reg.app).delete("/api/v1/admin/sessions/current", {
      cookie: `packr_session=${s.session}`,
    });
    expect(out.status).toBe(204);
    const after = await client(reg.app).get("/api/v1/admin/me", {
      cookie: `packr_session=${s.session}`,
    });
    expect(after.status).toBe(401);
  });

  it("accepts a JWT on /me", async () => {
    const token = await reg.login("admin", "admin-password-1");
    const res = await client(reg.app, token).get("/api/v1/admin/me");
    expect(await res.json()).toMatchObject({
      user: { name: "admin", isAdmin: true },
      via: "token",
    });
  });
});

describe("admin token API", () => {
  it("creates, lists without the secret, and revokes; the token works until revoked", async () => {
    const s = await signIn(reg, {
      provider: "oidc",
      subject: "kc-7",
      email: "ops@example.test",
      emailVerified: true,
      name: null,
    });
    const as = { ...internal, "x-packr-session": s.session };
    const res = await client(reg.app).post(
      "/api/v1/admin/tokens",
      { name: "deploy", role: "ci-publish", scopes: ["@acme"], expiresInDays: 7 },
      as,
    );
    expect(res.status).toBe(201);
    const created = (await res.json()) as { token: string; id: string; kind: string };
    expect(created).toMatchObject({
      name: "deploy",
      role: "ci-publish",
      scopes: ["@acme"],
      kind: "ci",
    });
    expect(decodeJwt(created.token)).toMatchObject({ kind: "ci", scopes: ["@acme"] });
    const who = await client(reg.app, created.token).get("/-/whoami");
    expect(await who.json()).toEqual({ username: "ops" });

    const list = await client(reg.app).get("/api/v1/admin/tokens", as);
    const listText = await list.text();
    expect(listText).not.toContain(created.token);
    const tokens = (
      JSON.parse(listText) as { tokens: Array<{ id: string; revokedAt: string | null }> }
    ).tokens;
    expect(tokens.find((t) => t.id === created.id)).toMatchObject({ revokedAt: null });

    const del = await client(reg.app).delete(`/api/v1/admin/tokens/${created.id}`, as);
    expect(del.status).toBe(204);
    expect((await client(reg.app, created.token).get("/-/whoami")).status).toBe(401);
  });

  it("a JWT creates tokens too, and an admin lists everyone's", async () => {
    const adminToken = await reg.login("admin", "admin-password-1");
    const res = await client(reg.app, adminToken).post("/api/v1/admin/tokens", {
      name: "ro",
      role: "ci-readonly",
    });
    expect(res.status).toBe(201);
    const all = await client(reg.app, adminToken).get("/api/v1/admin/tokens?all=true");
    const body = (await all.json()) as { tokens: Array<{ user: string }> };
    expect(new Set(body.tokens.map((t) => t.user)).size).toBeGreaterThan(1);
  });
});

describe("device flow", () => {
  it("authorize → pending → slow_down → approve → token, once", async () => {
    const auth = await client(reg.app).post("/-/v1/device/authorize", { provider: "github" });
    expect(auth.status).toBe(200);
    const a = (await auth.json()) as Record<string, string | number>;
    expect(a.verification_uri).toBe("http://dash.test/cli/auth");
    expect(a.verification_uri_complete).toBe(`http://dash.test/cli/auth?code=${a.user_code}`);
    expect(a).toMatchObject({ expires_in: 600, interval: 5 });
    const poll = () =>
      reg.app.request("/-/v1/device/token", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "urn:ietf:params:oauth:grant-type:device_code",
          device_code: String(a.device_code),
        }).toString(),
      });
    const first = await poll();
    expect(first.status).toBe(400);
    expect(await first.json()).toMatchObject({ error: "authorization_pending" });
    expect(await (await poll()).json()).toMatchObject({ error: "slow_down", interval: 10 });

    const s = await signIn(reg, {
      provider: "github",
      subject: "2002",
      email: null,
      emailVerified: false,
      name: "Device Dan",
    });
    const as = { ...internal, "x-packr-session": s.session };
    const view = await client(reg.app).get(`/api/v1/admin/device/${a.user_code}`, as);
    expect(await view.json()).toMatchObject({
      userCode: a.user_code,
      status: "pending",
      client: "packr-cli",
    });
    const ok = await client(reg.app).post(
      "/api/v1/admin/device/callback",
      { userCode: a.user_code, approve: true },
      as,
    );
    expect(await ok.json()).toEqual({ status: "approved" });

    // The next poll honours the lengthened interval: move the registry's clock instead of waiting.
    const realNow = reg.runtime.deps.now;
    reg.runtime.deps.now = () => new Date(Date.now() + 11_000);
    try {
      const got = await poll();
      expect(got.status).toBe(200);
      const t = (await got.json()) as {
        access_token: string;
        token_type: string;
        expires_in: number;
      };
      expect(t.token_type).toBe("Bearer");
      expect(t.expires_in).toBeGreaterThan(29 * 86400);
      const who = await client(reg.app, t.access_token).get("/-/whoami");
      expect(await who.json()).toEqual({ username: s.user.name });
      reg.runtime.deps.now = () => new Date(Date.now() + 30_000);
      expect(await (await poll()).json()).toMatchObject({ error: "invalid_grant" });
    } finally {
      reg.runtime.deps.now = realNow;
    }
  });

  it("npm's web login: loginUrl/doneUrl, 202 + Retry-After until approved, then {token}", async () => {
    const res = await client(reg.app).post("/-/v1/login", {});
    expect(res.status).toBe(200);
    const { loginUrl, doneUrl } = (await res.json()) as { loginUrl: string; doneUrl: string };
    expect(loginUrl).toMatch(/^http:\/\/dash\.test\/cli\/auth\?code=[A-Z]{4}-[A-Z]{4}$/);
    expect(doneUrl.startsWith("http://registry.test/-/v1/done?id=")).toBe(true);
    const donePath = doneUrl.slice("http://registry.test".length);
    const pending = await reg.app.request(donePath);
    expect(pending.status).toBe(202);
    expect(pending.headers.get("retry-after")).toBe("5");
    // npm polls on its own schedule: no slow_down on the doneUrl.
    expect((await reg.app.request(donePath)).status).toBe(202);

    const s = await signIn(reg, {
      provider: "email",
      subject: "eve@example.test",
      email: "eve@example.test",
      emailVerified: true,
      name: null,
    });
    const code = new URL(loginUrl).searchParams.get("code");
    const view = await client(reg.app).get(`/api/v1/admin/device/${code}`, {
      cookie: `packr_session=${s.session}`,
    });
    expect(await view.json()).toMatchObject({ client: "npm" });
    await client(reg.app).post(
      "/api/v1/admin/device/callback",
      { userCode: code, approve: true },
      { cookie: `packr_session=${s.session}` },
    );
    const done = await reg.app.request(donePath);
    expect(done.status).toBe(200);
    const { token } = (await done.json()) as { token: string };
    expect(await (await client(reg.app, token).get("/-/whoami")).json()).toEqual({
      username: "eve",
    });
    expect((await reg.app.request(donePath)).status).toBe(404);
  });

  it("with credentials in the body, POST /-/v1/login still answers a JWT directly", async () => {
    const res = await client(reg.app).post("/-/v1/login", {
      name: "admin",
      password: "admin-password-1",
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { token: string }).token.split(".")).toHaveLength(3);
  });
});

describe("npm token API", () => {
  it("create (npm 11 body) → list (paged, absolute next) → revoke by key", async () => {
    const login = await reg.login("admin", "admin-password-1");
    const created = await client(reg.app, login).post("/-/npm/v1/tokens", {
      name: "ci-token",
      password: "admin-password-1",
      scopes: ["acme"],
      packages_and_scopes_permission: "read-write",
      expires: 30,
    });
    expect(created.status).toBe(201);
    const c = (await created.json()) as {
      token: string;
      key: string;
      readonly: boolean;
      expires: string;
    };
    expect(c.readonly).toBe(false);
    expect(decodeJwt(c.token)).toMatchObject({ role: "ci-publish", scopes: ["@acme"], kind: "ci" });
    expect(c.token.startsWith("eyJhbGciOiJI")).toBe(true);

    const page = await client(reg.app, login).get("/-/npm/v1/tokens?perPage=1");
    const p = (await page.json()) as {
      objects: Array<{ key: string; token: string }>;
      total: number;
      urls: { next?: string };
    };
    expect(p.objects).toHaveLength(1);
    expect(p.total).toBeGreaterThan(1);
    expect(p.urls.next).toMatch(/^http:\/\/registry\.test\/-\/npm\/v1\/tokens\?page=1&perPage=1$/);
    expect(c.token.startsWith(p.objects[0]?.token ?? "x")).toBe(true);

    const del = await client(reg.app, login).delete(`/-/npm/v1/tokens/token/${c.key}`);
    expect(del.status).toBe(204);
    expect((await client(reg.app, c.token).get("/-/whoami")).status).toBe(401);
  });
});

describe("OpenAPI", () => {
  it("GET /openapi.json is OpenAPI 3.1 covering admin, device and login routes with schemas", async () => {
    const res = await reg.app.request("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>
      >;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe("3.1.0");
    for (const path of [
      "/api/v1/admin/sessions",
      "/api/v1/admin/me",
      "/api/v1/admin/sessions/current",
      "/api/v1/admin/tokens",
      "/api/v1/admin/tokens/{id}",
      "/api/v1/admin/device/{userCode}",
      "/api/v1/admin/device/callback",
      "/-/v1/device/authorize",
      "/-/v1/device/token",
      "/-/v1/login",
      "/-/v1/done",
    ]) {
      expect(doc.paths[path], path).toBeDefined();
      for (const op of Object.values(doc.paths[path] ?? {})) {
        expect(Object.keys(op.responses).length, path).toBeGreaterThan(0);
      }
    }
    expect(doc.paths["/api/v1/admin/tokens"]?.post?.requestBody).toBeDefined();
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        "Error",
        "Token",
        "TokenCreated",
        "CreateToken",
        "DeviceAuthorization",
      ]),
    );
  });
});
