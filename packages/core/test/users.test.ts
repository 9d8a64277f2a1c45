import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PackrError } from "../src/errors.ts";
import { createTestDeps, systemContext, type TestDeps, testDrivers } from "../src/testing/index.ts";
import { couchLogin } from "../src/users/couch-login.ts";
import { ensureAdminUser } from "../src/users/ensure-admin.ts";
import { createUser, findUserByName, getCouchUser, loginWithPassword } from "../src/users/login.ts";

describe.each(testDrivers())("users on %s", (driver) => {
  let deps: TestDeps;
  beforeAll(async () => {
    deps = await createTestDeps(driver);
  });
  afterAll(async () => deps.close());

  it("creates the admin once, with a generated password when none is configured", async () => {
    const ctx = systemContext(deps);
    const first = await ensureAdminUser(ctx, undefined);
    expect(first).toMatchObject({ name: "admin", generated: true });
    expect(first?.password.length).toBeGreaterThanOrEqual(16);
    expect(await ensureAdminUser(ctx, "ignored-now")).toBeNull();
    const login = await loginWithPassword({
      ctx,
      input: { name: "admin", password: first?.password ?? "" },
    });
    expect(login.username).toBe("admin");
    const who = await deps.tokens.verify(login.token);
    expect(who).toMatchObject({ userName: "admin", role: "admin", tokenKind: "login" });
  });

  it("gives the admin PACKR_ADMIN_EMAIL on a later start, so a verified sign-in with it is the admin", async () => {
    const ctx = systemContext(deps);
    expect(await ensureAdminUser(ctx, undefined, "ops@example.test")).toBeNull();
    const admin = await findUserByName(ctx, "admin");
    expect(admin?.email).toBe("ops@example.test");
    const { createSession } = await import("../src/sessions/create-session.ts");
    const signedIn = await createSession({
      ctx,
      input: {
        provider: "email",
        subject: "ops@example.test",
        email: "ops@example.test",
        emailVerified: true,
        name: null,
      },
    });
    expect(signedIn.user).toMatchObject({ name: "admin", isAdmin: true });
    expect(signedIn.createdUser).toBe(false);
  });

  it("refuses short passwords, bad names and taken names", async () => {
    const ctx = systemContext(deps);
    await expect(
      createUser(ctx, { name: "shorty", password: "short", email: null, isAdmin: false }),
    ).rejects.toThrow(/8 characters/);
    await expect(
      createUser(ctx, { name: "../x", password: "long-enough", email: null, isAdmin: false }),
    ).rejects.toThrow(/username/);
    await createUser(ctx, {
      name: "carol",
      password: "carol-password",
      email: null,
      isAdmin: false,
    });
    await expect(
      createUser(ctx, { name: "carol", password: "carol-password", email: null, isAdmin: false }),
    ).rejects.toThrow(/taken/);
  });

  it("gives unknown users and wrong passwords the same answer", async () => {
    const ctx = systemContext(deps);
    const messages = await Promise.all(
      [
        loginWithPassword({ ctx, input: { name: "carol", password: "wrong-password" } }),
        loginWithPassword({ ctx, input: { name: "nobody-here", password: "wrong-password" } }),
      ].map((p) =>
        p.then(
          () => "ok",
          (e: PackrError) => `${e.code}: ${e.message}`,
        ),
      ),
    );
    expect(messages[0]).toBe(messages[1]);
    expect(messages[0]).toMatch(/^UNAUTHORIZED/);
  });

  it("follows CouchDB's conflict-then-revision login", async () => {
    const ctx = systemContext(deps);
    const body = { name: "carol", password: "carol-password" };
    const conflict = await couchLogin({
      ctx,
      input: { urlName: "carol", body, rev: undefined, basic: undefined },
    }).catch((e: PackrError) => e);
    expect(conflict).toBeInstanceOf(PackrError);
    expect((conflict as PackrError).status).toBe(409);
    const doc = await getCouchUser({ ctx, input: { name: "carol" } });
    const ok = await couchLogin({
      ctx,
      input: {
        urlName: "carol",
        body,
        rev: doc._rev,
        basic: { name: "carol", password: "carol-password" },
      },
    });
    expect(ok.username).toBe("carol");
    const stale = await couchLogin({
      ctx,
      input: { urlName: "carol", body, rev: "1-stale", basic: undefined },
    }).catch((e: PackrError) => e.code);
    expect(stale).toBe("CONFLICT");
    const signup = await couchLogin({
      ctx,
      input: {
        urlName: "dave",
        body: { name: "dave", password: "dave-password" },
        rev: undefined,
        basic: undefined,
      },
    });
    expect(signup.username).toBe("dave");
  });
});
