import { schema } from "@packr/core";
import { publishBody, setOrgRole, tokenContext } from "@packr/core/testing";
import { eq } from "drizzle-orm";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

describe("npm protocol: who may do what", () => {
  let reg: TestRegistry;
  let admin: string;

  beforeAll(async () => {
    reg = await createTestRegistry();
    admin = await reg.login("admin", ADMIN_PASSWORD);
    await client(reg.app, admin).put("/@acme%2fsecret", publishBody("@acme/secret", "1.0.0"));
  });
  afterAll(async () => reg.close());

  const token = async (spec: Parameters<typeof tokenContext>[1]) =>
    (await tokenContext(reg.runtime.deps, spec)).token;

  it("asks for a token, with WWW-Authenticate, where one is needed", async () => {
    for (const res of [
      await client(reg.app).put("/anon-pkg", publishBody("anon-pkg", "1.0.0")),
      await client(reg.app).get("/@acme%2fsecret"),
      await client(reg.app).get("/@acme%2fsecret/1.0.0"),
      await client(reg.app).get("/@acme%2fsecret/-/secret-1.0.0.tgz"),
      await client(reg.app).get("/@acme/secret/-/secret-1.0.0.tgz"),
      await client(reg.app).get("/-/whoami"),
    ]) {
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="packr"');
      expect(res.headers.get("npm-notice")).toMatch(/^You must be logged in to /);
      await expectError(res, 401, "UNAUTHORIZED");
    }
  });

  it("gives anonymous callers the same 401 for missing and restricted scoped names", async () => {
    await expectError(await client(reg.app).get("/@acme%2fdoes-not-exist"), 401, "UNAUTHORIZED");
    await expectError(
      await client(reg.app, admin).get("/@acme%2fdoes-not-exist"),
      404,
      "NOT_FOUND",
    );
  });

  it("lets a read token of an org member read its restricted packages, and no one else's", async () => {
    const reader = await token({ user: "reader", role: "ci-readonly", kind: "ci" });
    // Not a member of @acme (the admin's first publish claimed it): the 404 of a missing package.
    await expectError(await client(reg.app, reader).get("/@acme%2fsecret"), 404, "NOT_FOUND");
    await setOrgRole(reg.runtime.deps, { org: "acme", user: "reader", role: "reader" });
    expect((await client(reg.app, reader).get("/@acme%2fsecret")).status).toBe(200);
    expect((await client(reg.app, reader).get("/@acme%2fsecret/-/secret-1.0.0.tgz")).status).toBe(
      200,
    );
  });

  it("refuses publishing with a read-only token", async () => {
    const reader = await token({ user: "reader", role: "ci-readonly", kind: "ci" });
    const err = await expectError(
      await client(reg.app, reader).put("/ro-pkg", publishBody("ro-pkg", "1.0.0")),
      403,
      "FORBIDDEN",
    );
    expect(err.error).toMatch(/ci-readonly/);
  });

  it("refuses publishing outside a token's scopes, saying which scopes it has", async () => {
    const scoped = await token({
      user: "ci-bot",
      role: "ci-publish",
      kind: "ci",
      scopes: ["@acme"],
    });
    const err = await expectError(
      await client(reg.app, scoped).put("/@other%2fx", publishBody("@other/x", "1.0.0")),
      403,
      "SCOPE_FORBIDDEN",
    );
    expect(err.error).toContain("@acme");
    expect(err).toMatchObject({ allowedScopes: ["@acme"] });
    await expectError(
      await client(reg.app, scoped).put("/unscoped-x", publishBody("unscoped-x", "1.0.0")),
      403,
      "SCOPE_FORBIDDEN",
    );
    // In its scope, the CI token acts with its creator's role in the org that owns it.
    await setOrgRole(reg.runtime.deps, { org: "acme", user: "ci-bot", role: "maintainer" });
    expect(
      (await client(reg.app, scoped).put("/@acme%2fci-ok", publishBody("@acme/ci-ok", "1.0.0")))
        .status,
    ).toBe(201);
  });

  it("refuses a non-member publishing a new version of an org's package", async () => {
    const mallory = await token({ user: "mallory", role: "maintainer" });
    const err = await expectError(
      await client(reg.app, mallory).put("/@acme%2fsecret", publishBody("@acme/secret", "2.0.0")),
      403,
      "FORBIDDEN",
    );
    expect(err.error).toBe(
      "mallory is not a member of @acme; publishing needs maintainer or admin — ask an admin of acme to add you.",
    );
  });

  it("refuses a non-maintainer publishing a new version of someone else's unscoped package", async () => {
    const owner = await token({ user: "owner", role: "maintainer" });
    const mallory = await token({ user: "mallory", role: "maintainer" });
    expect((await client(reg.app, owner).put("/owned", publishBody("owned", "1.0.0"))).status).toBe(
      201,
    );
    const err = await expectError(
      await client(reg.app, mallory).put("/owned", publishBody("owned", "2.0.0")),
      403,
      "FORBIDDEN",
    );
    expect(err.error).toMatch(/not a maintainer/);
  });

  it("refuses revoked tokens at once on this instance", async () => {
    const ctx = await tokenContext(reg.runtime.deps, { user: "leaver", role: "maintainer" });
    expect((await client(reg.app, ctx.token).get("/-/whoami")).status).toBe(200);
    if (ctx.actor.type !== "token") throw new Error("token actor expected");
    await reg.runtime.deps.db
      .update(schema.tokens)
      .set({ revokedAt: new Date() })
      .where(eq(schema.tokens.id, ctx.actor.tokenId));
    reg.runtime.deps.tokens.invalidate(ctx.actor.tokenId);
    const err = await expectError(
      await client(reg.app, ctx.token).get("/@acme%2fsecret"),
      401,
      "TOKEN_REVOKED",
    );
    expect(err.error).toMatch(/revoked/);
  });

  it("refuses expired tokens, saying when they expired", async () => {
    const user = await tokenContext(reg.runtime.deps, { user: "late", role: "maintainer" });
    if (user.actor.type !== "token") throw new Error("token actor expected");
    const expired = await reg.runtime.deps.tokens.issue(reg.runtime.deps.db, {
      kind: "personal",
      name: "old",
      userId: user.actor.userId,
      role: "maintainer",
      ttlSeconds: -60,
    });
    const err = await expectError(
      await client(reg.app, expired.token).put("/late-pkg", publishBody("late-pkg", "1.0.0")),
      401,
      "TOKEN_EXPIRED",
    );
    expect(err.error).toMatch(/expired on \d{4}-/);
  });

  it("refuses forged, malformed and foreign tokens", async () => {
    const forged = await new SignJWT({
      user_id: "usr_x",
      role: "admin",
      kind: "personal",
      permissions: ["admin"],
      scopes: [],
    })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("packr")
      .setJti("tok_forged")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("not-the-registry-secret"));
    for (const bad of [forged, "garbage", `${admin.split(".").slice(0, 2).join(".")}.AAAA`]) {
      await expectError(
        await client(reg.app, bad).put("/forged-pkg", publishBody("forged-pkg", "1.0.0")),
        401,
        "UNAUTHORIZED",
      );
    }
    // `alg: none` must never be accepted.
    const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${admin.split(".")[1]}.`;
    await expectError(await client(reg.app, none).get("/-/whoami"), 401, "UNAUTHORIZED");
  });

  it("still serves public packages to a caller with a stale token", async () => {
    await client(reg.app, admin).put("/public-pkg", publishBody("public-pkg", "1.0.0"));
    expect((await client(reg.app, "stale.token").get("/public-pkg")).status).toBe(200);
  });
});
