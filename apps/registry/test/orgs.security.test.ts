/**
 * What the org and team routes must refuse: no credential, a revoked token, CI tokens (even an
 * admin's), a member who is not an admin, a non-member (who learns nothing: 404), a token
 * restricted to another scope, malformed bodies, hostile names, a duplicate org in another letter
 * case, the last admin's removal or demotion, a grant outside the org's scope, unknown users; and
 * the public packages list under PACKR_READ_REQUIRES_AUTH.
 */
import { publishBody, tokenContext } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

let reg: TestRegistry;
let alice: string; // admin of @acme
let bob: string; // maintainer in @acme
let rita: string; // reader in @acme
let carol: string; // not a member
let aliceCiRead: string;
let aliceCiPublish: string;
let aliceOtherScope: string; // maintainer token restricted to @elsewhere

type Call = { method: string; path: string; body?: unknown };

/** Every admin route of one org, with a well-formed body where it takes one. */
const ORG = "/api/v1/admin/orgs/acme";
const reads: Call[] = [
  { method: "GET", path: ORG },
  { method: "GET", path: `${ORG}/members` },
  { method: "GET", path: `${ORG}/teams` },
  { method: "GET", path: `${ORG}/teams/frontend/members` },
  { method: "GET", path: `${ORG}/teams/frontend/packages` },
];
const writes: Call[] = [
  { method: "PATCH", path: ORG, body: { displayName: "Hijacked" } },
  { method: "POST", path: `${ORG}/members`, body: { user: "carol", role: "admin" } },
  { method: "PATCH", path: `${ORG}/members/bob`, body: { role: "admin" } },
  { method: "DELETE", path: `${ORG}/members/bob` },
  { method: "POST", path: `${ORG}/teams`, body: { name: "intruders" } },
  { method: "DELETE", path: `${ORG}/teams/frontend` },
  { method: "POST", path: `${ORG}/teams/frontend/members`, body: { user: "rita" } },
  { method: "DELETE", path: `${ORG}/teams/frontend/members/bob` },
  {
    method: "PUT",
    path: `${ORG}/teams/frontend/packages/%40acme%2Fui`,
    body: { permission: "read-write" },
  },
  { method: "DELETE", path: `${ORG}/teams/frontend/packages/%40acme%2Fui` },
  { method: "DELETE", path: ORG },
];

function send(call: Call, token?: string, headers: Record<string, string> = {}) {
  return reg.app.request(call.path, {
    method: call.method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(call.body !== undefined ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    ...(call.body !== undefined
      ? { body: typeof call.body === "string" ? call.body : JSON.stringify(call.body) }
      : {}),
  });
}

const label = (c: Call) => `${c.method} ${c.path}`;

beforeAll(async () => {
  reg = await createTestRegistry();
  const deps = reg.runtime.deps;
  alice = (await tokenContext(deps, { user: "alice", role: "maintainer" })).token;
  bob = (await tokenContext(deps, { user: "bob", role: "maintainer" })).token;
  rita = (await tokenContext(deps, { user: "rita", role: "maintainer" })).token;
  carol = (await tokenContext(deps, { user: "carol", role: "maintainer" })).token;
  aliceCiRead = (await tokenContext(deps, { user: "alice", role: "ci-readonly", kind: "ci" }))
    .token;
  aliceCiPublish = (await tokenContext(deps, { user: "alice", role: "ci-publish", kind: "ci" }))
    .token;
  aliceOtherScope = (
    await tokenContext(deps, { user: "alice", role: "maintainer", scopes: ["@elsewhere"] })
  ).token;
  const a = client(reg.app, alice);
  const ok = async (res: Response, status: number) => {
    if (res.status !== status) throw new Error(`${res.status} ${await res.text()}`);
  };
  await ok(await a.post("/api/v1/admin/orgs", { name: "acme" }), 201);
  await ok(await a.post(`${ORG}/members`, { user: "bob", role: "maintainer" }), 201);
  await ok(await a.post(`${ORG}/members`, { user: "rita", role: "reader" }), 201);
  await ok(await a.post(`${ORG}/teams`, { name: "frontend" }), 201);
  await ok(await a.post(`${ORG}/teams/frontend/members`, { user: "bob" }), 201);
  await ok(await a.put("/@acme%2fui", publishBody("@acme/ui", "1.0.0")), 201);
  await ok(await a.put("/@other%2fui", publishBody("@other/ui", "1.0.0")), 201);
  await ok(await a.put("/plain-ui", publishBody("plain-ui", "1.0.0")), 201);
  await ok(
    await a.put(`${ORG}/teams/frontend/packages/%40acme%2Fui`, { permission: "read-only" }),
    200,
  );
});
afterAll(async () => reg.close());

describe("who may call the org routes", () => {
  it("refuses every route without a credential, or with a revoked or forged token", async () => {
    const all: Call[] = [
      { method: "GET", path: "/api/v1/admin/orgs" },
      { method: "POST", path: "/api/v1/admin/orgs", body: { name: "anon" } },
      { method: "GET", path: "/api/v1/admin/users/me/orgs" },
      ...reads,
      ...writes,
    ];
    const revoked = (await tokenContext(reg.runtime.deps, { user: "alice", role: "maintainer" }))
      .token;
    const { jti } = JSON.parse(Buffer.from(revoked.split(".")[1] ?? "", "base64url").toString());
    // A token may always revoke itself.
    expect((await client(reg.app, revoked).delete(`/api/v1/admin/tokens/${jti}`)).status).toBe(204);
    for (const call of all) {
      await expectError(await send(call), 401, "UNAUTHORIZED").catch((e) => {
        throw new Error(`${label(call)}: ${e.message}`);
      });
      const r = await send(call, revoked);
      expect(r.status, label(call)).toBe(401);
      expect(((await r.json()) as { code: string }).code).toBe("TOKEN_REVOKED");
      expect((await send(call, "a.b.c")).status, label(call)).toBe(401);
    }
  });

  it("lets an admin's CI tokens read but change nothing (403)", async () => {
    for (const token of [aliceCiRead, aliceCiPublish]) {
      for (const call of reads) expect((await send(call, token)).status, label(call)).toBe(200);
      for (const call of [
        ...writes,
        { method: "POST", path: "/api/v1/admin/orgs", body: { name: "ci-made" } },
      ]) {
        const body = await expectError(await send(call, token), 403, "FORBIDDEN");
        expect(body.error, label(call)).toMatch(
          /^A ci-(readonly|publish) token cannot .*: managing orgs and teams needs a person/,
        );
      }
    }
  });

  it("lets maintainers and readers of the org read but not manage (403 naming the role)", async () => {
    for (const [token, role, name] of [
      [bob, "maintainer", "bob"],
      [rita, "reader", "rita"],
    ] as const) {
      for (const call of reads) expect((await send(call, token)).status, label(call)).toBe(200);
      for (const call of writes) {
        const body = await expectError(await send(call, token), 403, "FORBIDDEN");
        expect(body.error, label(call)).toMatch(
          new RegExp(
            `^${name} is a ${role} in @acme; to .* you need admin — ask an admin of acme\\.$`,
          ),
        );
      }
    }
  });

  it("shows a non-member nothing: the same 404 as for an org that does not exist", async () => {
    for (const call of [...reads, ...writes]) {
      const body = await expectError(await send(call, carol), 404, "NOT_FOUND");
      expect(body.error, label(call)).toBe(
        "There is no org @acme here, or you are not a member of it.",
      );
      const missing = { ...call, path: call.path.replace("/orgs/acme", "/orgs/nothere") };
      expect((await expectError(await send(missing, carol), 404, "NOT_FOUND")).error).toBe(
        "There is no org @nothere here, or you are not a member of it.",
      );
    }
    expect(
      ((await (await client(reg.app, carol).get("/api/v1/admin/orgs")).json()) as { orgs: [] })
        .orgs,
    ).toEqual([]);
  });

  it("refuses an admin's token restricted to another scope", async () => {
    for (const call of writes) {
      await expectError(await send(call, aliceOtherScope), 403, "SCOPE_FORBIDDEN");
    }
  });

  it("refuses a session cookie sent from a foreign origin", async () => {
    const res = await client(reg.app).post(
      "/api/v1/admin/sessions",
      { provider: "github", subject: "gh-9", email: null, emailVerified: false, name: "eve" },
      { authorization: `Bearer ${reg.runtime.secrets.internalApi}` },
    );
    const { session } = (await res.json()) as { session: string };
    await expectError(
      await send(
        { method: "POST", path: "/api/v1/admin/orgs", body: { name: "evil" } },
        undefined,
        {
          cookie: `packr_session=${session}`,
          origin: "https://evil.example",
        },
      ),
      403,
      "FORBIDDEN",
    );
  });
});

describe("what the org routes refuse", () => {
  it("refuses malformed bodies with the flat 400", async () => {
    const a = (call: Call) => send(call, alice);
    for (const call of [
      { method: "POST", path: "/api/v1/admin/orgs", body: {} },
      { method: "POST", path: "/api/v1/admin/orgs", body: { name: 5 } },
      { method: "POST", path: "/api/v1/admin/orgs", body: "{not json" },
      { method: "POST", path: "/api/v1/admin/orgs", body: { name: "x".repeat(5000) } },
      { method: "PATCH", path: ORG, body: {} },
      { method: "PATCH", path: ORG, body: { displayName: "x".repeat(200) } },
      { method: "PATCH", path: ORG, body: { displayName: "bad\u0007name" } },
      { method: "POST", path: `${ORG}/members`, body: { user: "carol" } },
      { method: "POST", path: `${ORG}/members`, body: { user: "carol", role: "owner" } },
      { method: "PATCH", path: `${ORG}/members/bob`, body: { role: "superuser" } },
      { method: "POST", path: `${ORG}/teams`, body: { name: "Frontend" } },
      { method: "POST", path: `${ORG}/teams`, body: { name: "a b" } },
      { method: "POST", path: `${ORG}/teams`, body: { name: "x".repeat(300) } },
      { method: "POST", path: `${ORG}/teams/frontend/members`, body: {} },
      {
        method: "PUT",
        path: `${ORG}/teams/frontend/packages/%40acme%2Fui`,
        body: { permission: "write" },
      },
      { method: "PUT", path: `${ORG}/teams/frontend/packages/%40acme%2Fui`, body: [] },
    ]) {
      await expectError(await a(call), 400, "VALIDATION").catch((e) => {
        throw new Error(`${label(call)} ${JSON.stringify(call.body)?.slice(0, 60)}: ${e.message}`);
      });
    }
  });

  it("refuses org names that are not npm scopes, in bodies and in paths", async () => {
    for (const name of ["../x", "a/b", "%00", "\u0000", ".hidden", "_x", "x".repeat(300), "é"]) {
      const body = await expectError(
        await send({ method: "POST", path: "/api/v1/admin/orgs", body: { name } }, alice),
        400,
        "VALIDATION",
      );
      expect(body.error).toContain("is not a valid org name");
    }
    for (const slug of ["..%2Fx", "%00", "x".repeat(300), "a%20b", "%25", "a%2Fb"]) {
      await expectError(
        await client(reg.app, alice).get(`/api/v1/admin/orgs/${slug}`),
        400,
        "VALIDATION",
      );
      await expectError(
        await client(reg.app).get(`/api/v1/orgs/${slug}/packages`),
        400,
        "VALIDATION",
      );
    }
  });

  it("refuses hostile user and team names in paths", async () => {
    for (const bad of ["..%2Fx", "%00", "x".repeat(300), "a%20b", "%25"]) {
      for (const call of [
        { method: "PATCH", path: `${ORG}/members/${bad}`, body: { role: "reader" } },
        { method: "DELETE", path: `${ORG}/members/${bad}` },
        { method: "DELETE", path: `${ORG}/teams/${bad}` },
        { method: "GET", path: `${ORG}/teams/${bad}/members` },
        { method: "DELETE", path: `${ORG}/teams/frontend/members/${bad}` },
      ]) {
        await expectError(await send(call, alice), 400, "VALIDATION").catch((e) => {
          throw new Error(`${label(call)}: ${e.message}`);
        });
      }
    }
  });

  it("refuses a second org of the same name in any letter case (409)", async () => {
    for (const name of ["acme", "ACME", "@Acme"]) {
      const body = await expectError(
        await send({ method: "POST", path: "/api/v1/admin/orgs", body: { name } }, carol),
        409,
        "CONFLICT",
      );
      expect(body.error).toBe("The org @acme already exists.");
    }
    // Nor one named like another user (a user's name is their scope).
    await expectError(
      await send({ method: "POST", path: "/api/v1/admin/orgs", body: { name: "Bob" } }, carol),
      409,
      "CONFLICT",
    );
  });

  it("refuses an org over a scope holding other people's packages", async () => {
    const body = await expectError(
      await send({ method: "POST", path: "/api/v1/admin/orgs", body: { name: "other" } }, carol),
      403,
      "FORBIDDEN",
    );
    expect(body.error).toContain("@other/ui");
  });

  it("never leaves an org without an admin (409 with a sentence)", async () => {
    const demote = await expectError(
      await send(
        { method: "PATCH", path: `${ORG}/members/alice`, body: { role: "reader" } },
        alice,
      ),
      409,
      "CONFLICT",
    );
    expect(demote.error).toBe(
      "alice is the last admin of @acme; an org cannot be left without an admin, so you cannot demote them. Make another member admin first.",
    );
    const remove = await expectError(
      await send({ method: "DELETE", path: `${ORG}/members/alice` }, alice),
      409,
      "CONFLICT",
    );
    expect(remove.error).toContain("so you cannot remove them");
  });

  it("refuses a team grant outside the org's scope, and unknown packages", async () => {
    for (const pkg of ["%40other%2Fui", "plain-ui"]) {
      const body = await expectError(
        await send(
          {
            method: "PUT",
            path: `${ORG}/teams/frontend/packages/${pkg}`,
            body: { permission: "read-write" },
          },
          alice,
        ),
        403,
        "FORBIDDEN",
      );
      expect(body.error).toMatch(
        /is outside @acme: a team of acme can be granted only packages of @acme\/\*\.$/,
      );
    }
    await expectError(
      await send(
        {
          method: "PUT",
          path: `${ORG}/teams/frontend/packages/%40acme%2Fnope`,
          body: { permission: "read-only" },
        },
        alice,
      ),
      404,
      "NOT_FOUND",
    );
    await expectError(
      await send(
        {
          method: "PUT",
          path: `${ORG}/teams/frontend/packages/..%2F..%2Fetc`,
          body: { permission: "read-only" },
        },
        alice,
      ),
      400,
      "INVALID_PACKAGE_NAME",
    );
  });

  it("answers 404 naming an unknown user, team or membership", async () => {
    const unknown = await expectError(
      await send(
        { method: "POST", path: `${ORG}/members`, body: { user: "ghost", role: "reader" } },
        alice,
      ),
      404,
      "NOT_FOUND",
    );
    expect(unknown.error).toBe("There is no user ghost here; check the name.");
    expect(
      (
        await expectError(
          await send(
            { method: "POST", path: `${ORG}/teams/frontend/members`, body: { user: "ghost" } },
            alice,
          ),
          404,
          "NOT_FOUND",
        )
      ).error,
    ).toContain("ghost");
    expect(
      (
        await expectError(
          await send({ method: "DELETE", path: `${ORG}/teams/nope` }, alice),
          404,
          "NOT_FOUND",
        )
      ).error,
    ).toBe("There is no team acme:nope.");
    expect(
      (
        await expectError(
          await send({ method: "DELETE", path: `${ORG}/members/carol` }, alice),
          404,
          "NOT_FOUND",
        )
      ).error,
    ).toBe("carol is not a member of @acme.");
    // Team members must be org members first.
    expect(
      (
        await expectError(
          await send(
            { method: "POST", path: `${ORG}/teams/frontend/members`, body: { user: "carol" } },
            alice,
          ),
          409,
          "CONFLICT",
        )
      ).error,
    ).toBe("carol is not a member of @acme; add them to the org first, then to acme:frontend.");
  });

  it("refuses to delete an org that owns packages (409)", async () => {
    const body = await expectError(
      await send({ method: "DELETE", path: ORG }, alice),
      409,
      "CONFLICT",
    );
    expect(body.error).toBe(
      "@acme still owns 1 package (@acme/ui); unpublish them before deleting the org.",
    );
  });

  it("refuses bodies over 64 KB before reading them", async () => {
    await expectError(
      await send(
        {
          method: "POST",
          path: "/api/v1/admin/orgs",
          body: { name: "big", displayName: "x".repeat(70_000) },
        },
        alice,
      ),
      413,
      "PAYLOAD_TOO_LARGE",
    );
  });
});

describe("the public org packages list", () => {
  it("shows no restricted package to a stranger or a non-member", async () => {
    for (const token of [undefined, carol]) {
      const res = await client(reg.app, token).get("/api/v1/orgs/acme/packages");
      expect(res.status).toBe(200);
      expect(((await res.json()) as { packages: unknown[] }).packages).toEqual([]);
    }
    await expectError(await client(reg.app).get("/api/v1/orgs/nothere/packages"), 404, "NOT_FOUND");
  });

  it("needs a token when the registry is private by login (PACKR_READ_REQUIRES_AUTH)", async () => {
    const priv = await createTestRegistry({ PACKR_READ_REQUIRES_AUTH: "true" });
    try {
      const token = (await tokenContext(priv.runtime.deps, { user: "alice", role: "maintainer" }))
        .token;
      const a = client(priv.app, token);
      expect((await a.post("/api/v1/admin/orgs", { name: "acme" })).status).toBe(201);
      await expectError(
        await client(priv.app).get("/api/v1/orgs/acme/packages"),
        401,
        "UNAUTHORIZED",
      );
      await expectError(await client(priv.app).get("/api/v1/admin/orgs/acme"), 401, "UNAUTHORIZED");
      expect((await a.get("/api/v1/orgs/acme/packages")).status).toBe(200);
    } finally {
      await priv.close();
    }
  });
});
