/**
 * The dashboard's password sign-in (`POST /api/v1/admin/sessions/password`): the first-start
 * admin gets an admin session; wrong passwords, unknown users, password-less accounts, callers
 * without the internal secret and malformed bodies are refused; wrong passwords are limited per
 * address (the one the dashboard passes) and per username, for npm login too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

let reg: TestRegistry;
let internal: Record<string, string>;
const PATH = "/api/v1/admin/sessions/password";

beforeAll(async () => {
  // An OAuth-only account is made by signing up through a provider.
  reg = await createTestRegistry({ PACKR_SIGNUP: "open" });
  internal = { authorization: `Bearer ${reg.runtime.secrets.internalApi}` };
});
afterAll(async () => reg.close());

const signIn = (body: unknown, headers = internal) => client(reg.app).post(PATH, body, headers);

describe("password sign-in sessions", () => {
  it("signs the admin in with an admin session that can make an admin token", async () => {
    const res = await signIn({ name: "admin", password: ADMIN_PASSWORD, ip: "203.0.113.1" });
    expect(res.status).toBe(201);
    const body = (await res.json()) as {
      session: string;
      user: { name: string; isAdmin: boolean };
    };
    expect(body.user).toMatchObject({ name: "admin", isAdmin: true });
    const asAdmin = { ...internal, "x-packr-session": body.session };
    const me = await client(reg.app).get("/api/v1/admin/me", asAdmin);
    expect(await me.json()).toMatchObject({
      user: { name: "admin", isAdmin: true },
      via: "session",
    });
    const token = await client(reg.app).post(
      "/api/v1/admin/tokens",
      { name: "ops", role: "admin" },
      asAdmin,
    );
    expect(token.status).toBe(201);
    expect(await token.json()).toMatchObject({ role: "admin" });
  });

  it("refuses a wrong password and an unknown user with the same sentence", async () => {
    const wrong = await expectError(
      await signIn({ name: "admin", password: "not-it", ip: "203.0.113.2" }),
      401,
      "UNAUTHORIZED",
    );
    const unknown = await expectError(
      await signIn({ name: "nobody", password: "whatever1", ip: "203.0.113.2" }),
      401,
      "UNAUTHORIZED",
    );
    expect(wrong.error).toBe("Incorrect username or password.");
    expect(unknown.error).toBe(wrong.error);
  });

  it("refuses an account with no password (OAuth-only)", async () => {
    const oauth = await client(reg.app).post(
      "/api/v1/admin/sessions",
      { provider: "github", subject: "gh-9", email: null, emailVerified: false, name: "olga" },
      internal,
    );
    expect(oauth.status).toBe(201);
    const { user } = (await oauth.json()) as { user: { name: string } };
    await expectError(
      await signIn({ name: user.name, password: "anything-1", ip: "203.0.113.3" }),
      401,
      "UNAUTHORIZED",
    );
  });

  it("needs the internal secret: no credential, a wrong secret, a session or a token are refused", async () => {
    const body = { name: "admin", password: ADMIN_PASSWORD };
    await expectError(await signIn(body, {}), 401, "UNAUTHORIZED");
    await expectError(
      await signIn(body, { authorization: "Bearer not-the-secret" }),
      401,
      "UNAUTHORIZED",
    );
    const adminJwt = await reg.login("admin", ADMIN_PASSWORD);
    await expectError(
      await signIn(body, { authorization: `Bearer ${adminJwt}` }),
      401,
      "UNAUTHORIZED",
    );
  });

  it("refuses malformed bodies", async () => {
    await expectError(await signIn({ name: "admin" }), 400, "VALIDATION");
    await expectError(await signIn({ name: "", password: "x" }), 400, "VALIDATION");
    await expectError(await signIn({ name: "admin", password: 5 }), 400, "VALIDATION");
    await expectError(await signIn("{not json"), 400, "VALIDATION");
    await expectError(
      await signIn({ name: "admin", password: "p".repeat(2000) }),
      400,
      "VALIDATION",
    );
  });

  it("limits wrong passwords per address: past ten, even the right one waits; other addresses do not", async () => {
    const ip = "198.51.100.7";
    for (let i = 0; i < 10; i++) {
      await expectError(
        await signIn({ name: "admin", password: `wrong-${i}`, ip }),
        401,
        "UNAUTHORIZED",
      );
    }
    const refused = await signIn({ name: "admin", password: ADMIN_PASSWORD, ip });
    // The wait is what is left of the 60-second window, in the sentence and in Retry-After alike.
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const limited = await expectError(refused, 429, "RATE_LIMITED");
    expect(limited.error).toBe(
      `Too many wrong passwords; wait ${retryAfter} seconds and try again.`,
    );
    const elsewhere = await signIn({ name: "admin", password: ADMIN_PASSWORD, ip: "198.51.100.8" });
    expect(elsewhere.status).toBe(201);
  });

  it("limits wrong passwords per username across addresses, for npm login too", async () => {
    const { createUser } = await import("@packr/core");
    await createUser(
      { deps: reg.runtime.deps, actor: { type: "system", reason: "test" }, requestId: "t" },
      { name: "victim", password: "victim-password-1", email: null, isAdmin: false },
    );
    for (let i = 0; i < 30; i++) {
      await expectError(
        await signIn({ name: "victim", password: `guess-${i}`, ip: `192.0.2.${i}` }),
        401,
        "UNAUTHORIZED",
      );
    }
    await expectError(
      await signIn({ name: "victim", password: "victim-password-1", ip: "192.0.2.200" }),
      429,
      "RATE_LIMITED",
    );
    // npm login goes through the same check.
    await expectError(
      await client(reg.app).post("/-/v1/login", { name: "victim", password: "victim-password-1" }),
      429,
      "RATE_LIMITED",
    );
  });
});
