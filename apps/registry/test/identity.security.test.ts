/**
 * What the identity routes must refuse: no credential, forged/expired/signed-out sessions, a
 * session header without the internal secret, cookies from foreign origins, tokens wider than the
 * caller's, CI tokens minting tokens, someone else's tokens, wrong/expired/reused/denied codes,
 * rate limits, malformed and oversized bodies.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, fromPeer, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

let reg: TestRegistry;
let internal: Record<string, string>;
let alice: { session: string; headers: Record<string, string> };

const GRANT = "urn:ietf:params:oauth:grant-type:device_code";

async function signIn(subject: string, name: string) {
  const res = await client(reg.app).post(
    "/api/v1/admin/sessions",
    { provider: "github", subject, email: null, emailVerified: false, name },
    internal,
  );
  expect(res.status).toBe(201);
  const { session } = (await res.json()) as { session: string };
  return { session, headers: { ...internal, "x-packr-session": session } };
}

beforeAll(async () => {
  // Requests arrive from a trusted proxy on loopback, which names the client in X-Forwarded-For.
  reg = await createTestRegistry({
    PACKR_TRUSTED_PROXIES: "127.0.0.1",
    // These tests sign new people up through providers; signup.test.ts tests the policies.
    PACKR_SIGNUP: "open",
  });
  reg.app = fromPeer(reg.app, "127.0.0.1");
  internal = { authorization: `Bearer ${reg.runtime.secrets.internalApi}` };
  alice = await signIn("a-1", "alice");
});
afterAll(async () => reg.close());

describe("admin API authentication", () => {
  it("refuses calls with no credential, a wrong secret, or a bad JWT", async () => {
    await expectError(await client(reg.app).get("/api/v1/admin/me"), 401, "UNAUTHORIZED");
    await expectError(await client(reg.app).get("/api/v1/admin/tokens"), 401, "UNAUTHORIZED");
    await expectError(
      await client(reg.app).post(
        "/api/v1/admin/sessions",
        { provider: "github", subject: "x", email: null, emailVerified: false, name: null },
        { authorization: "Bearer not-the-secret" },
      ),
      401,
      "UNAUTHORIZED",
    );
    await expectError(await client(reg.app, "a.b.c").get("/api/v1/admin/me"), 401, "UNAUTHORIZED");
  });

  it("only the internal secret creates sessions, not a session or an admin JWT", async () => {
    const body = {
      provider: "github",
      subject: "x2",
      email: null,
      emailVerified: false,
      name: null,
    };
    await expectError(
      await client(reg.app).post("/api/v1/admin/sessions", body, alice.headers),
      401,
      "UNAUTHORIZED",
    );
    const adminToken = await reg.login("admin", "admin-password-1");
    await expectError(
      await client(reg.app, adminToken).post("/api/v1/admin/sessions", body),
      401,
      "UNAUTHORIZED",
    );
  });

  it("refuses forged, tampered, signed-out and expired sessions", async () => {
    const [id] = alice.session.split(".");
    for (const forged of [`${id}.AAAA`, `ses_000.${alice.session.split(".")[1]}`, "nonsense", ""]) {
      await expectError(
        await client(reg.app).get("/api/v1/admin/me", { ...internal, "x-packr-session": forged }),
        401,
        "UNAUTHORIZED",
      );
      await expectError(
        await client(reg.app).get("/api/v1/admin/me", { cookie: `packr_session=${forged}` }),
        401,
        "UNAUTHORIZED",
      );
    }
    const bob = await signIn("b-1", "bob");
    const realNow = reg.runtime.deps.now;
    reg.runtime.deps.now = () => new Date(Date.now() + 31 * 86400_000);
    try {
      await expectError(
        await client(reg.app).get("/api/v1/admin/me", bob.headers),
        401,
        "UNAUTHORIZED",
      );
    } finally {
      reg.runtime.deps.now = realNow;
    }
    expect(
      (await client(reg.app).delete("/api/v1/admin/sessions/current", bob.headers)).status,
    ).toBe(204);
    await expectError(
      await client(reg.app).get("/api/v1/admin/me", bob.headers),
      401,
      "UNAUTHORIZED",
    );
  });

  it("X-Packr-Session without the internal secret is refused; cookie writes from foreign origins too", async () => {
    await expectError(
      await client(reg.app).get("/api/v1/admin/me", { "x-packr-session": alice.session }),
      401,
      "UNAUTHORIZED",
    );
    await expectError(
      await client(reg.app).post(
        "/api/v1/admin/tokens",
        { name: "x", role: "ci-readonly" },
        { cookie: `packr_session=${alice.session}`, origin: "http://evil.test" },
      ),
      403,
      "FORBIDDEN",
    );
  });
});

describe("admin token API refusals", () => {
  it("a token cannot create a token with more permission or wider scope than it has", async () => {
    const mk = async (headers: Record<string, string>, body: unknown) =>
      client(reg.app).post("/api/v1/admin/tokens", body, headers);
    const ro = (await (
      await mk(alice.headers, { name: "ro", role: "ci-readonly", kind: "personal" })
    ).json()) as {
      token: string;
    };
    await expectError(
      await client(reg.app, ro.token).post("/api/v1/admin/tokens", {
        name: "up",
        role: "ci-publish",
      }),
      403,
      "FORBIDDEN",
    );
    // A non-admin's session cannot mint admin tokens.
    await expectError(await mk(alice.headers, { name: "adm", role: "admin" }), 403, "FORBIDDEN");
    const scoped = (await (
      await mk(alice.headers, { name: "s", role: "maintainer", scopes: ["@acme"] })
    ).json()) as { token: string };
    await expectError(
      await client(reg.app, scoped.token).post("/api/v1/admin/tokens", {
        name: "wide",
        role: "ci-readonly",
      }),
      403,
      "SCOPE_FORBIDDEN",
    );
    const ci = (await (await mk(alice.headers, { name: "ci", role: "ci-publish" })).json()) as {
      token: string;
    };
    await expectError(
      await client(reg.app, ci.token).post("/api/v1/admin/tokens", {
        name: "x",
        role: "ci-readonly",
      }),
      403,
      "FORBIDDEN",
    );
  });

  it("someone else's token is a 404; ?all=true is for admins; revoked tokens are refused", async () => {
    const created = (await (
      await client(reg.app).post(
        "/api/v1/admin/tokens",
        { name: "mine", role: "ci-readonly" },
        alice.headers,
      )
    ).json()) as { id: string; token: string };
    const carol = await signIn("c-1", "carol");
    await expectError(
      await client(reg.app).delete(`/api/v1/admin/tokens/${created.id}`, carol.headers),
      404,
      "NOT_FOUND",
    );
    await expectError(
      await client(reg.app).get("/api/v1/admin/tokens?all=true", carol.headers),
      403,
      "FORBIDDEN",
    );
    expect(
      (await client(reg.app).delete(`/api/v1/admin/tokens/${created.id}`, alice.headers)).status,
    ).toBe(204);
    await expectError(
      await client(reg.app, created.token).get("/api/v1/admin/me"),
      401,
      "TOKEN_REVOKED",
    );
    await expectError(
      await client(reg.app, created.token).post("/api/v1/admin/tokens", {
        name: "x",
        role: "ci-readonly",
      }),
      401,
      "TOKEN_REVOKED",
    );
  });

  it("a job's token (ci-readonly, ci-publish, personal maintainer) cannot list or revoke its owner's tokens, only itself", async () => {
    const make = async (name: string, role: string, kind?: string) =>
      (await (
        await client(reg.app).post(
          "/api/v1/admin/tokens",
          { name, role, ...(kind ? { kind } : {}) },
          alice.headers,
        )
      ).json()) as { id: string; token: string };
    const keep = await make("keep", "ci-publish");
    for (const [role, kind] of [
      ["ci-readonly", undefined],
      ["ci-publish", undefined],
      ["maintainer", "personal"],
    ] as const) {
      const job = await make(`job-${role}`, role, kind);
      const as = client(reg.app, job.token);
      await expectError(await as.get("/api/v1/admin/tokens"), 403, "FORBIDDEN");
      await expectError(await as.get("/-/npm/v1/tokens"), 403, "FORBIDDEN");
      await expectError(await as.delete(`/api/v1/admin/tokens/${keep.id}`), 403, "FORBIDDEN");
      await expectError(await as.delete(`/-/npm/v1/tokens/token/${keep.token}`), 403, "FORBIDDEN");
      // The owner's other token is untouched; the job's token may end itself.
      expect((await client(reg.app, keep.token).get("/-/whoami")).status).toBe(200);
      expect((await as.delete(`/api/v1/admin/tokens/${job.id}`)).status).toBe(204);
      await expectError(await as.get("/-/whoami"), 401, "TOKEN_REVOKED");
    }
    // The person still manages them: a session, or the login token.
    const login = await reg.login("admin", "admin-password-1");
    expect((await client(reg.app, login).get("/-/npm/v1/tokens")).status).toBe(200);
    expect((await client(reg.app).get("/api/v1/admin/tokens", alice.headers)).status).toBe(200);
  });

  it("malformed and oversized bodies are 400/413", async () => {
    for (const body of [
      "not json",
      { name: "x" },
      { name: "x", role: "owner" },
      { name: "x", role: "ci-readonly", expiresInDays: 9999 },
      { name: "x", role: "ci-readonly", scopes: "@acme" },
      { name: "x", role: "ci-readonly", scopes: ["bad scope!"] },
    ]) {
      await expectError(
        await client(reg.app).post("/api/v1/admin/tokens", body, alice.headers),
        400,
        "VALIDATION",
      );
    }
    await expectError(
      await client(reg.app).post(
        "/api/v1/admin/tokens",
        { name: "x".repeat(70_000), role: "ci-readonly" },
        alice.headers,
      ),
      413,
      "PAYLOAD_TOO_LARGE",
    );
    await expectError(
      await client(reg.app).post(
        "/api/v1/admin/sessions",
        { provider: "myspace", subject: "x" },
        internal,
      ),
      400,
      "VALIDATION",
    );
  });
});

describe("device flow refusals", () => {
  const authorize = async (ip: string) => {
    const res = await client(reg.app).post("/-/v1/device/authorize", {}, { "x-forwarded-for": ip });
    expect(res.status).toBe(200);
    return (await res.json()) as { device_code: string; user_code: string };
  };
  const poll = async (body: Record<string, string>, ip = "10.1.1.1") => {
    const res = await client(reg.app).post("/-/v1/device/token", body, { "x-forwarded-for": ip });
    return { status: res.status, body: (await res.json()) as { error?: string } };
  };

  it("wrong, expired, reused and denied codes; a wrong code looks like an expired one", async () => {
    expect(await poll({ grant_type: GRANT, device_code: "made-up" })).toEqual({
      status: 400,
      body: expect.objectContaining({ error: "invalid_grant" }),
    });
    const wrong = await client(reg.app).get("/api/v1/admin/device/BBBB-BBBB", alice.headers);
    const expiring = await authorize("10.2.0.1");
    const realNow = reg.runtime.deps.now;
    reg.runtime.deps.now = () => new Date(Date.now() + 601_000);
    try {
      expect(
        (await poll({ grant_type: GRANT, device_code: expiring.device_code })).body.error,
      ).toBe("expired_token");
      const expired = await client(reg.app).get(
        `/api/v1/admin/device/${expiring.user_code}`,
        alice.headers,
      );
      expect(expired.status).toBe(404);
      expect(wrong.status).toBe(404);
      const a = (await expired.json()) as { error: string };
      const b = (await wrong.json()) as { error: string };
      expect(a.error).toBe(b.error);
      await expectError(
        await client(reg.app).post(
          "/api/v1/admin/device/callback",
          { userCode: expiring.user_code, approve: true },
          alice.headers,
        ),
        404,
        "NOT_FOUND",
      );
    } finally {
      reg.runtime.deps.now = realNow;
    }

    const denied = await authorize("10.2.0.2");
    await client(reg.app).post(
      "/api/v1/admin/device/callback",
      { userCode: denied.user_code, approve: false },
      alice.headers,
    );
    expect((await poll({ grant_type: GRANT, device_code: denied.device_code })).body.error).toBe(
      "access_denied",
    );
    await expectError(
      await client(reg.app).post(
        "/api/v1/admin/device/callback",
        { userCode: denied.user_code, approve: true },
        alice.headers,
      ),
      409,
      "CONFLICT",
    );
  });

  it("approving needs a session; malformed polls are invalid_request / unsupported_grant_type", async () => {
    const a = await authorize("10.2.0.3");
    const adminToken = await reg.login("admin", "admin-password-1");
    await expectError(
      await client(reg.app, adminToken).post("/api/v1/admin/device/callback", {
        userCode: a.user_code,
        approve: true,
      }),
      401,
      "UNAUTHORIZED",
    );
    await expectError(
      await client(reg.app).post(
        "/api/v1/admin/device/callback",
        { userCode: a.user_code, approve: true },
        internal,
      ),
      401,
      "UNAUTHORIZED",
    );
    expect((await poll({ device_code: a.device_code })).body.error).toBe("invalid_request");
    expect((await poll({ grant_type: "password", device_code: a.device_code })).body.error).toBe(
      "unsupported_grant_type",
    );
    expect((await poll({ grant_type: GRANT })).body.error).toBe("invalid_request");
    const garbage = await reg.app.request("/-/v1/device/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{nope",
    });
    expect(((await garbage.json()) as { error: string }).error).toBe("invalid_request");
    await expectError(
      await client(reg.app).post(
        "/-/v1/device/authorize",
        { client: "netscape" },
        { "x-forwarded-for": "10.2.0.4" },
      ),
      400,
      "VALIDATION",
    );
  });

  it("rate-limits device authorizations per address", async () => {
    for (let i = 0; i < 20; i++) await authorize("10.3.0.1");
    const res = await client(reg.app).post(
      "/-/v1/device/authorize",
      {},
      { "x-forwarded-for": "10.3.0.1" },
    );
    await expectError(res, 429, "RATE_LIMITED");
    // npm's web login counts against the same limit.
    await expectError(
      await client(reg.app).post("/-/v1/login", {}, { "x-forwarded-for": "10.3.0.1" }),
      429,
      "RATE_LIMITED",
    );
    expect(
      (await client(reg.app).post("/-/v1/device/authorize", {}, { "x-forwarded-for": "10.3.0.2" }))
        .status,
    ).toBe(200);
  });

  it("npm's doneUrl: denied is 403, unknown is 404", async () => {
    const web = (await (
      await client(reg.app).post("/-/v1/login", {}, { "x-forwarded-for": "10.4.0.1" })
    ).json()) as {
      loginUrl: string;
      doneUrl: string;
    };
    const code = new URL(web.loginUrl).searchParams.get("code");
    await client(reg.app).post(
      "/api/v1/admin/device/callback",
      { userCode: code, approve: false },
      alice.headers,
    );
    await expectError(
      await reg.app.request(new URL(web.doneUrl).pathname + new URL(web.doneUrl).search),
      403,
      "FORBIDDEN",
    );
    await expectError(await reg.app.request("/-/v1/done?id=nothing"), 404, "NOT_FOUND");
    await expectError(await reg.app.request("/-/v1/done"), 404, "NOT_FOUND");
  });
});

describe("npm token API refusals", () => {
  it("no token, wrong password, unenforceable restrictions, a CI token, foreign keys", async () => {
    await expectError(await client(reg.app).get("/-/npm/v1/tokens"), 401, "UNAUTHORIZED");
    await expectError(
      await client(reg.app).post("/-/npm/v1/tokens", { password: "x" }),
      401,
      "UNAUTHORIZED",
    );
    const login = await reg.login("admin", "admin-password-1");
    await expectError(
      await client(reg.app, login).post("/-/npm/v1/tokens", { password: "wrong" }),
      401,
      "UNAUTHORIZED",
    );
    for (const body of [
      { password: "admin-password-1", packages: ["left-pad"] },
      { password: "admin-password-1", cidr_whitelist: ["10.0.0.0/8"] },
      { password: "admin-password-1", expires: 1000 },
      { password: "admin-password-1", packages_and_scopes_permission: "everything" },
      "not json",
    ]) {
      await expectError(
        await client(reg.app, login).post("/-/npm/v1/tokens", body),
        400,
        "VALIDATION",
      );
    }
    const ci = (await (
      await client(reg.app, login).post("/-/npm/v1/tokens", { password: "admin-password-1" })
    ).json()) as { token: string; key: string };
    await expectError(
      await client(reg.app, ci.token).post("/-/npm/v1/tokens", { password: "admin-password-1" }),
      403,
      "FORBIDDEN",
    );
    const other = (await (
      await client(reg.app).post(
        "/api/v1/admin/tokens",
        { name: "t", role: "ci-readonly", kind: "personal" },
        alice.headers,
      )
    ).json()) as { token: string };
    // Another user's job token is refused before any lookup (it may manage no tokens at all).
    await expectError(
      await client(reg.app, other.token).delete(`/-/npm/v1/tokens/token/${ci.key}`),
      403,
      "FORBIDDEN",
    );
    await expectError(
      await client(reg.app, other.token).delete(`/-/npm/v1/tokens/token/${ci.token}`),
      403,
      "FORBIDDEN",
    );
    await expectError(
      await client(reg.app, login).delete("/-/npm/v1/tokens/token/0123abc"),
      404,
      "NOT_FOUND",
    );
  });
});

// Two registry instances on one PostgreSQL database, as in the scale-out deployment.
describe.runIf(process.env.DATABASE_URL)("revocation across registry instances", () => {
  it("a token revoked through instance A is refused by instance B within 5 seconds", async () => {
    const { createScratchDatabase } = await import("@packr/core/testing");
    const shared = await createScratchDatabase(process.env.DATABASE_URL ?? "");
    const env = {
      DATABASE_URL: shared.url,
      JWT_SECRET: "shared-jwt-secret-for-two-instances",
      INTERNAL_API_SECRET: "shared-internal-secret",
      SESSION_SECRET: "shared-session-secret",
      PACKR_SIGNUP: "open",
    };
    const a = await createTestRegistry(env);
    const b = await createTestRegistry(env);
    try {
      const login = await a.login("admin", "admin-password-1");
      const made = (await (
        await client(a.app, login).post("/api/v1/admin/tokens", { name: "x", role: "ci-readonly" })
      ).json()) as { id: string; token: string };
      expect((await client(b.app, made.token).get("/-/whoami")).status).toBe(200);
      expect((await client(a.app, login).delete(`/api/v1/admin/tokens/${made.id}`)).status).toBe(
        204,
      );
      await expectError(await client(a.app, made.token).get("/-/whoami"), 401, "TOKEN_REVOKED");
      const started = Date.now();
      let status = 200;
      while (status === 200 && Date.now() - started < 5_000) {
        status = (await client(b.app, made.token).get("/-/whoami")).status;
        if (status === 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(401);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await a.close();
      await b.close();
      await shared.drop();
    }
  });
});
