/**
 * Sign-up over HTTP: invitations (`POST /api/v1/admin/users`) and everything they refuse, npm's
 * legacy adduser outside the sign-up policy, and sessions that claim an invitation — linked only
 * from a provider trusted for linking.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

const adduser = (reg: TestRegistry, name: string, email = `${name}@acme.test`) =>
  client(reg.app).put(`/-/user/org.couchdb.user:${name}`, {
    _id: `org.couchdb.user:${name}`,
    name,
    password: `${name}-password-1`,
    email,
    type: "user",
    roles: [],
    date: new Date().toISOString(),
  });

describe("invitations on a closed registry (the default)", () => {
  let reg: TestRegistry;
  let admin: string;
  let internal: Record<string, string>;
  const signIn = (body: Record<string, unknown>) =>
    client(reg.app).post(
      "/api/v1/admin/sessions",
      { emailVerified: true, name: null, ...body },
      internal,
    );

  beforeAll(async () => {
    reg = await createTestRegistry({ PACKR_DASHBOARD_URL: "http://dash.test" });
    admin = await reg.login("admin", ADMIN_PASSWORD);
    internal = { authorization: `Bearer ${reg.runtime.secrets.internalApi}` };
  });
  afterAll(async () => reg.close());

  it("is closed by default: a new provider identity and npm adduser get a 403 saying what to do", async () => {
    expect(reg.runtime.config.signup.mode).toBe("closed");
    const oauth = await expectError(
      await signIn({ provider: "github", subject: "1", email: "new@acme.test" }),
      403,
      "FORBIDDEN",
    );
    expect(oauth.error).toBe(
      "There is no account for new@acme.test, and this registry creates accounts by invitation only (PACKR_SIGNUP=closed). Ask an administrator of this registry to invite you (they create your account with your email address), then sign in again at http://dash.test/login.",
    );
    const couch = await expectError(await adduser(reg, "newbie"), 403, "FORBIDDEN");
    expect(couch.error).toContain("PACKR_SIGNUP=closed");
    // Nothing was created: the name is still free to log in as nobody.
    expect((await client(reg.app).get("/-/user/org.couchdb.user:newbie")).status).toBe(404);
  });

  it("an admin invites; the person claims it with GitHub's verified email, not GitLab's", async () => {
    const res = await client(reg.app, admin).post("/api/v1/admin/users", {
      name: "ivy",
      email: "Ivy@Acme.test",
    });
    expect(res.status).toBe(201);
    const invited = (await res.json()) as {
      user: { id: string; email: string };
      signInUrl: string;
    };
    expect(invited).toMatchObject({
      user: { name: "ivy", email: "ivy@acme.test", isAdmin: false },
      signInUrl: "http://dash.test/login",
    });
    // GitLab is not trusted for linking by default: its "verified" address claims nothing.
    await expectError(
      await signIn({ provider: "gitlab", subject: "g-1", email: "ivy@acme.test" }),
      403,
      "FORBIDDEN",
    );
    const claimed = await signIn({ provider: "github", subject: "gh-ivy", email: "ivy@acme.test" });
    expect(claimed.status).toBe(201);
    const body = (await claimed.json()) as { user: { id: string; name: string } };
    expect(body.user).toMatchObject({ id: invited.user.id, name: "ivy" });
  });

  it("an admin's dashboard session invites too", async () => {
    const session = await client(reg.app).post(
      "/api/v1/admin/sessions/password",
      { name: "admin", password: ADMIN_PASSWORD },
      internal,
    );
    const { session: value } = (await session.json()) as { session: string };
    const res = await client(reg.app).post(
      "/api/v1/admin/users",
      { name: "sam", email: "sam@acme.test" },
      { ...internal, "x-packr-session": value },
    );
    expect(res.status).toBe(201);
  });

  it("refuses no token, a bad token, a non-admin, an admin's CI token and the bare internal secret", async () => {
    const body = { name: "eve", email: "eve@acme.test" };
    await expectError(await client(reg.app).post("/api/v1/admin/users", body), 401, "UNAUTHORIZED");
    await expectError(
      await client(reg.app, "not-a-token").post("/api/v1/admin/users", body),
      401,
      "UNAUTHORIZED",
    );
    await expectError(
      await client(reg.app).post("/api/v1/admin/users", body, internal),
      401,
      "UNAUTHORIZED",
    );
    // A person with an account but no admin rights (the invited ivy, signed in).
    const ivy = await signIn({ provider: "github", subject: "gh-ivy", email: "ivy@acme.test" });
    const { session } = (await ivy.json()) as { session: string };
    const asIvy = await expectError(
      await client(reg.app).post("/api/v1/admin/users", body, {
        ...internal,
        "x-packr-session": session,
      }),
      403,
      "FORBIDDEN",
    );
    expect(asIvy.error).toBe("Only an administrator may invite people.");
    let ciTokens = 0;
    for (const role of ["admin", "ci-publish"]) {
      const minted = await client(reg.app, admin).post("/api/v1/admin/tokens", {
        name: `ci ${role}`,
        role,
        kind: "ci",
        expiresIn: "15m",
      });
      if (minted.status !== 201) continue; // an admin CI token may itself be refused
      ciTokens++;
      const { token } = (await minted.json()) as { token: string };
      const err = await expectError(
        await client(reg.app, token).post("/api/v1/admin/users", body),
        403,
        "FORBIDDEN",
      );
      expect(err.error).toMatch(/CI token cannot invite|Only an administrator/);
    }
    expect(ciTokens).toBeGreaterThan(0);
    // Nothing was created by any of them.
    expect((await client(reg.app).get("/-/user/org.couchdb.user:eve")).status).toBe(404);
  });

  it("refuses malformed bodies and duplicate names or emails", async () => {
    const cases: Array<[unknown, number, string, string]> = [
      [{ name: "x" }, 400, "VALIDATION", "email"],
      [{ email: "x@acme.test" }, 400, "VALIDATION", "name"],
      [{ name: "../etc/passwd", email: "x@acme.test" }, 400, "VALIDATION", "name"],
      [{ name: "ok-name", email: "not an email" }, 400, "VALIDATION", "email"],
      [{ name: "x".repeat(65), email: "x@acme.test" }, 400, "VALIDATION", "name"],
      [{ name: "ok-name", email: "x@acme.test", isAdmin: true }, 400, "VALIDATION", "isAdmin"],
      ["{not json", 400, "VALIDATION", ""],
      [{ name: "ivy", email: "other@acme.test" }, 409, "CONFLICT", 'The username "ivy" is taken.'],
      [{ name: "admin", email: "other@acme.test" }, 409, "CONFLICT", "taken"],
      [
        { name: "ivy2", email: "IVY@acme.test" },
        409,
        "CONFLICT",
        'ivy@acme.test already belongs to the account "ivy"',
      ],
    ];
    for (const [body, status, code, says] of cases) {
      const err = await expectError(
        await client(reg.app, admin).post("/api/v1/admin/users", body),
        status,
        code,
      );
      expect(err.error, JSON.stringify(body)).toContain(says);
    }
  });

  it("is described in /openapi.json with its schema", async () => {
    const doc = (await (await client(reg.app).get("/openapi.json")).json()) as {
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    expect(doc.paths["/api/v1/admin/users"]?.post).toBeDefined();
    expect(Object.keys(doc.components.schemas.InviteUser?.properties ?? {})).toEqual([
      "name",
      "email",
    ]);
    expect(doc.components.schemas.CreateSession?.properties).toHaveProperty("groups");
    expect(doc.components.schemas.CreateSession?.properties).toHaveProperty("claims");
  });
});

describe("npm adduser by sign-up policy", () => {
  it("refuses it under an allow-list (a typed-in email proves nothing), creates it when open", async () => {
    const allow = await createTestRegistry({
      PACKR_SIGNUP_EMAIL_DOMAINS: "acme.test",
      PACKR_DASHBOARD_URL: "http://dash.test",
    });
    try {
      expect(allow.runtime.config.signup.mode).toBe("allowlist");
      const err = await expectError(await adduser(allow, "anna"), 403, "FORBIDDEN");
      expect(err.error).toContain("npm adduser cannot create accounts on this registry");
      expect(err.error).toContain("http://dash.test/login");
      // A provider sign-in with a verified address at the domain is let in.
      const ok = await client(allow.app).post(
        "/api/v1/admin/sessions",
        {
          provider: "google",
          subject: "g-anna",
          email: "anna@acme.test",
          emailVerified: true,
          name: "Anna",
        },
        { authorization: `Bearer ${allow.runtime.secrets.internalApi}` },
      );
      expect(ok.status).toBe(201);
    } finally {
      await allow.close();
    }
    const opens: Record<string, string>[] = [
      { PACKR_SIGNUP: "open" },
      { PACKR_ALLOW_SIGNUP: "true" },
    ];
    for (const env of opens) {
      const open = await createTestRegistry(env);
      try {
        const res = await adduser(open, "otto");
        expect(res.status).toBe(201);
        expect(await res.json()).toMatchObject({ ok: true, username: "otto" });
      } finally {
        await open.close();
      }
    }
  });
});
