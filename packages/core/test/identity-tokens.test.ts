import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceContext } from "../src/context.ts";
import { auditEvents, tokens } from "../src/db/schema/index.ts";
import {
  createScratchDatabase,
  createTestDeps,
  type TestDeps,
  testDrivers,
  tokenContext,
} from "../src/testing/index.ts";
import { createNpmToken, mapNpmTokenRequest } from "../src/tokens/create-npm-token.ts";
import { createToken } from "../src/tokens/create-token.ts";
import { listNpmTokens } from "../src/tokens/list-npm-tokens.ts";
import { listTokens } from "../src/tokens/list-tokens.ts";
import { revokeNpmToken } from "../src/tokens/revoke-npm-token.ts";
import { revokeToken } from "../src/tokens/revoke-token.ts";
import { npmTokenKey } from "../src/tokens/token-rules.ts";
import { anonymous, failure } from "./helpers.ts";

describe.each(testDrivers())("token verbs on %s", (driver) => {
  let deps: TestDeps;
  let maint: ServiceContext & { token: string };
  let admin: ServiceContext & { token: string };
  beforeAll(async () => {
    deps = await createTestDeps(driver);
    maint = await tokenContext(deps, { user: "mia", role: "maintainer", kind: "login" });
    admin = await tokenContext(deps, {
      user: "root",
      role: "admin",
      kind: "login",
      isAdmin: true,
    });
  });
  afterAll(async () => deps.close());

  it("creates a scoped CI token that works, is listed without its secret, and is audited", async () => {
    const created = await createToken({
      ctx: maint,
      input: { name: "ci", role: "ci-publish", scopes: ["acme", "@Acme"], expiresInDays: 7 },
    });
    expect(created).toMatchObject({
      name: "ci",
      role: "ci-publish",
      scopes: ["@acme"],
      kind: "ci",
    });
    expect(created.expiresAt.getTime() - Date.now()).toBeGreaterThan(6.9 * 86400_000);
    const actor = await deps.tokens.verify(created.token);
    expect(actor).toMatchObject({ tokenKind: "ci", role: "ci-publish", scopes: ["@acme"] });

    const list = await listTokens({ ctx: maint, input: {} });
    const row = list.find((t) => t.id === created.id);
    expect(row).toMatchObject({ name: "ci", kind: "ci", revokedAt: null, userName: "mia" });
    expect(JSON.stringify(list)).not.toContain(created.token);
    const events = await deps.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.targetId, created.id));
    expect(events.map((e) => e.action)).toEqual(["token.created"]);
    expect(events[0]?.data).toMatchObject({ role: "ci-publish", scopes: ["@acme"] });
  });

  it("refuses a token with more permission than the caller holds", async () => {
    const ro = await tokenContext(deps, { user: "mia", role: "ci-readonly", kind: "personal" });
    const err = await failure(createToken({ ctx: ro, input: { name: "x", role: "ci-publish" } }));
    expect(err.code).toBe("FORBIDDEN");
    expect(err.message).toContain('"publish"');
    // A maintainer (non-admin) cannot mint an admin token, whatever its own role claims.
    expect(
      (await failure(createToken({ ctx: maint, input: { name: "x", role: "admin" } }))).code,
    ).toBe("FORBIDDEN");
    const fakeAdmin = await tokenContext(deps, { user: "mia", role: "admin", kind: "personal" });
    expect(
      (await failure(createToken({ ctx: fakeAdmin, input: { name: "x", role: "admin" } }))).code,
    ).toBe("FORBIDDEN");
  });

  it("refuses scopes wider than the caller's", async () => {
    const scoped = await tokenContext(deps, {
      user: "mia",
      role: "maintainer",
      scopes: ["@acme"],
      kind: "personal",
    });
    expect(
      (await failure(createToken({ ctx: scoped, input: { name: "x", role: "ci-publish" } }))).code,
    ).toBe("SCOPE_FORBIDDEN");
    expect(
      (
        await failure(
          createToken({
            ctx: scoped,
            input: { name: "x", role: "ci-publish", scopes: ["@other"] },
          }),
        )
      ).code,
    ).toBe("SCOPE_FORBIDDEN");
    const ok = await createToken({
      ctx: scoped,
      input: { name: "x", role: "ci-publish", scopes: ["@acme"] },
    });
    expect(ok.scopes).toEqual(["@acme"]);
  });

  it("CI tokens create nothing; anonymous callers are 401; bad input is VALIDATION", async () => {
    const ci = await tokenContext(deps, { user: "mia", role: "ci-publish", kind: "ci" });
    const err = await failure(createToken({ ctx: ci, input: { name: "x", role: "ci-readonly" } }));
    expect(err.code).toBe("FORBIDDEN");
    expect(err.message).toContain("CI token");
    expect(
      (
        await failure(
          createToken({ ctx: anonymous(deps), input: { name: "x", role: "ci-readonly" } }),
        )
      ).code,
    ).toBe("UNAUTHORIZED");
    for (const input of [
      { name: "", role: "ci-readonly" },
      { name: "x", role: "owner" },
      { name: "x", role: "ci-readonly", expiresInDays: 0 },
      { name: "x", role: "ci-readonly", expiresInDays: 366 },
      { name: "x", role: "ci-readonly", scopes: ["not a scope!"] },
    ]) {
      // biome-ignore lint/suspicious/noExplicitAny: deliberately malformed input
      const e = await failure(createToken({ ctx: maint, input: input as any }));
      expect(e.code, JSON.stringify(input)).toBe("VALIDATION");
    }
  });

  it("revokes: the owner or an admin; others get 404; the token stops working; audited", async () => {
    const t = await createToken({ ctx: maint, input: { name: "r", role: "ci-readonly" } });
    const other = await tokenContext(deps, { user: "otto", role: "maintainer", kind: "login" });
    expect((await failure(revokeToken({ ctx: other, input: { id: t.id } }))).code).toBe(
      "NOT_FOUND",
    );
    expect((await failure(listTokens({ ctx: maint, input: { all: true } }))).code).toBe(
      "FORBIDDEN",
    );
    expect(
      (await listTokens({ ctx: admin, input: { all: true } })).some((r) => r.id === t.id),
    ).toBe(true);
    await expect(revokeToken({ ctx: admin, input: { id: t.id } })).resolves.toEqual({
      revoked: true,
    });
    await expect(deps.tokens.verify(t.token)).rejects.toMatchObject({ code: "TOKEN_REVOKED" });
    await expect(revokeToken({ ctx: maint, input: { id: t.id } })).resolves.toEqual({
      revoked: false,
    });
    const events = await deps.db.select().from(auditEvents).where(eq(auditEvents.targetId, t.id));
    expect(events.map((e) => e.action).sort()).toEqual(["token.created", "token.revoked"]);
  });

  it("a session creates tokens up to the person's own role", async () => {
    const [row] = await deps.db
      .select()
      .from(tokens)
      .where(eq(tokens.id, maint.actor.type === "token" ? maint.actor.tokenId : ""));
    const session: ServiceContext = {
      deps,
      requestId: "t",
      actor: {
        type: "session",
        sessionId: "ses_x",
        userId: row?.userId ?? "",
        userName: "mia",
        userEmail: null,
        isAdmin: false,
      },
    };
    const t = await createToken({ ctx: session, input: { name: "s", role: "maintainer" } });
    expect(t.kind).toBe("personal");
    expect(
      (await failure(createToken({ ctx: session, input: { name: "s", role: "admin" } }))).code,
    ).toBe("FORBIDDEN");
  });

  it("npm token create/list/revoke map onto roles and scopes", async () => {
    const pw = await tokenContext(deps, { user: "nora", role: "maintainer", kind: "login" });
    const created = await createNpmToken({
      ctx: pw,
      input: {
        body: {
          name: "npm-ci",
          password: "ignored: nora has no password",
          scopes: ["acme"],
          packages_and_scopes_permission: "read-write",
          expires: 3,
        },
      },
    });
    expect(created).toMatchObject({
      name: "npm-ci",
      readonly: false,
      scopes: ["@acme"],
      kind: "ci",
    });
    expect(created.key).toBe(npmTokenKey((await deps.tokens.verify(created.token)).tokenId));
    const page = await listNpmTokens({ ctx: pw, input: { page: 0, perPage: 1 } });
    expect(page.total).toBe(2);
    expect(page.hasNext).toBe(true);
    const page2 = await listNpmTokens({ ctx: pw, input: { page: 1, perPage: 1 } });
    expect(page2.hasNext).toBe(false);
    expect([...page.objects, ...page2.objects].map((o) => o.key)).toContain(created.key);

    const other = await tokenContext(deps, { user: "otto", role: "maintainer", kind: "login" });
    expect((await failure(revokeNpmToken({ ctx: other, input: { ref: created.key } }))).code).toBe(
      "NOT_FOUND",
    );
    await expect(revokeNpmToken({ ctx: pw, input: { ref: created.key } })).resolves.toEqual({
      revoked: true,
    });
    await expect(deps.tokens.verify(created.token)).rejects.toMatchObject({
      code: "TOKEN_REVOKED",
    });
    // By the raw token value as well.
    const second = await createNpmToken({
      ctx: pw,
      input: { body: { name: null, password: "x" } },
    });
    await expect(revokeNpmToken({ ctx: pw, input: { ref: second.token } })).resolves.toEqual({
      revoked: true,
    });
    expect((await listNpmTokens({ ctx: pw, input: { page: 0, perPage: 100 } })).total).toBe(1);
  });

  it("npm token create checks the password of users who have one", async () => {
    const { createUser } = await import("../src/users/login.ts");
    const { loginWithPassword } = await import("../src/users/login.ts");
    const sys: ServiceContext = { deps, actor: { type: "system", reason: "t" }, requestId: "t" };
    await createUser(sys, { name: "pat", password: "pat-password-1", email: null, isAdmin: false });
    const login = await loginWithPassword({
      ctx: sys,
      input: { name: "pat", password: "pat-password-1" },
    });
    const ctx = { deps, requestId: "t", actor: await deps.tokens.verify(login.token) };
    expect(
      (await failure(createNpmToken({ ctx, input: { body: { password: "wrong-password" } } })))
        .code,
    ).toBe("UNAUTHORIZED");
    const ok = await createNpmToken({ ctx, input: { body: { password: "pat-password-1" } } });
    expect(ok.readonly).toBe(false);
  });
});

describe("mapNpmTokenRequest", () => {
  it("maps npm's granular body onto a role and publish scopes", () => {
    expect(mapNpmTokenRequest({})).toMatchObject({ role: "ci-publish", scopes: [], days: null });
    expect(mapNpmTokenRequest({ readonly: true })).toMatchObject({ role: "ci-readonly" });
    expect(
      mapNpmTokenRequest({ scopes: ["a"], packages_and_scopes_permission: "read-only" }),
    ).toMatchObject({ role: "ci-readonly", scopes: ["@a"] });
    expect(
      mapNpmTokenRequest({
        scopes: ["a"],
        packages_and_scopes_permission: "read-write",
        orgs: ["b"],
        orgs_permission: "read-only",
      }),
    ).toMatchObject({ role: "ci-publish", scopes: ["@a"] });
    expect(
      mapNpmTokenRequest({ packages_all: true, packages_and_scopes_permission: "read-write" }),
    ).toMatchObject({ role: "ci-publish", scopes: [] });
    expect(mapNpmTokenRequest({ name: "n", expires: 90 })).toMatchObject({ name: "n", days: 90 });
  });

  it("refuses what it cannot enforce", () => {
    for (const body of [
      { packages: ["left-pad"] },
      { cidr_whitelist: ["10.0.0.0/8"] },
      { scopes: ["a"], packages_and_scopes_permission: "no-access" as const },
    ]) {
      expect(() => mapNpmTokenRequest(body), JSON.stringify(body)).toThrow();
    }
  });
});

// Two registry instances on one PostgreSQL database: a revocation on one reaches the other.
describe.runIf(process.env.DATABASE_URL)("revocation across instances", () => {
  it("a token revoked on instance A is refused by instance B within 5 seconds", async () => {
    const scratch = await createScratchDatabase(process.env.DATABASE_URL ?? "");
    const a = await createTestDeps("postgres", scratch.url);
    const b = await createTestDeps("postgres", scratch.url);
    try {
      const owner = await tokenContext(a, { user: "ivy", role: "maintainer", kind: "login" });
      const t = await createToken({ ctx: owner, input: { name: "x", role: "ci-readonly" } });
      await expect(b.tokens.verify(t.token)).resolves.toMatchObject({ userName: "ivy" });
      await revokeToken({ ctx: owner, input: { id: t.id } });
      await expect(a.tokens.verify(t.token)).rejects.toMatchObject({ code: "TOKEN_REVOKED" });
      const started = Date.now();
      let refusedAfter = -1;
      while (Date.now() - started < 5_000) {
        try {
          await b.tokens.verify(t.token);
        } catch (err) {
          expect(err).toMatchObject({ code: "TOKEN_REVOKED" });
          refusedAfter = Date.now() - started;
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(refusedAfter).toBeGreaterThanOrEqual(0);
      expect(refusedAfter).toBeLessThan(5_000);
    } finally {
      await a.close();
      await b.close();
      await scratch.drop();
    }
  });
});
