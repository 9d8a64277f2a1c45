import { createOrg, schema } from "@packr/core";
import { publishBody, tokenContext } from "@packr/core/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

/**
 * What npm's org, team and access-grant endpoints refuse: no token, a revoked one, CI tokens, a
 * member who is not an admin, a non-member (the same 404 as a missing org), malformed bodies,
 * hostile names, unknown users, teams, orgs and packages, a grant outside the org's scope, and
 * leaving an org without an admin.
 */
describe("npm org, team and access grant endpoints: refusals", () => {
  let reg: TestRegistry;
  let alice: string;
  let bob: string;
  let carol: string;
  let ciRead: string;
  let ciPublish: string;
  let revoked: string;
  let otherScope: string;

  beforeAll(async () => {
    reg = await createTestRegistry();
    const deps = reg.runtime.deps;
    const aliceCtx = await tokenContext(deps, { user: "alice", role: "maintainer" });
    alice = aliceCtx.token;
    bob = (await tokenContext(deps, { user: "bob", role: "maintainer" })).token;
    carol = (await tokenContext(deps, { user: "carol", role: "maintainer" })).token;
    ciRead = (await tokenContext(deps, { user: "alice", role: "ci-readonly", kind: "ci" })).token;
    ciPublish = (await tokenContext(deps, { user: "alice", role: "ci-publish", kind: "ci" })).token;
    otherScope = (
      await tokenContext(deps, { user: "alice", role: "maintainer", scopes: ["@other"] })
    ).token;
    // Issued and revoked without ever being verified (a verified token is cached for seconds).
    const userId = aliceCtx.actor.type === "token" ? aliceCtx.actor.userId : "";
    const gone = await deps.tokens.issue(deps.db, {
      kind: "personal",
      name: "revoked",
      userId,
      role: "maintainer",
      scopes: [],
      ttlSeconds: 3600,
    });
    await deps.db
      .update(schema.tokens)
      .set({ revokedAt: new Date() })
      .where(eq(schema.tokens.id, gone.id));
    revoked = gone.token;
    await createOrg({ ctx: aliceCtx, input: { name: "acme" } });
    const api = client(reg.app, alice);
    for (const name of ["@acme/widget", "loose-pkg", "@other/thing"]) {
      const res = await api.put(`/${name.replace("/", "%2f")}`, publishBody(name, "1.0.0"));
      expect(res.status, await res.text()).toBe(201);
    }
    expect((await api.put("/-/org/acme/user", { user: "bob", role: "developer" })).status).toBe(
      200,
    );
    expect((await api.put("/-/org/acme/team", { name: "frontend" })).status).toBe(201);
  });
  afterAll(async () => reg.close());

  /** Every npm org/team request, with a valid body for acme. */
  const requests = (token?: string) => {
    const send = (method: string, path: string, body?: unknown) =>
      reg.app.request(path, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    return {
      reads: () => [
        send("GET", "/-/org/acme/user"),
        send("GET", "/-/org/acme/team"),
        send("GET", "/-/team/acme/frontend/user"),
        send("GET", "/-/team/acme/frontend/package"),
      ],
      writes: () => [
        send("PUT", "/-/org/acme/user", { user: "carol", role: "developer" }),
        send("DELETE", "/-/org/acme/user", { user: "bob" }),
        send("PUT", "/-/org/acme/team", { name: "rogue" }),
        send("DELETE", "/-/team/acme/frontend"),
        send("PUT", "/-/team/acme/frontend/user", { user: "bob" }),
        send("DELETE", "/-/team/acme/frontend/user", { user: "bob" }),
        send("PUT", "/-/team/acme/frontend/package", {
          package: "@acme/widget",
          permissions: "read-write",
        }),
        send("DELETE", "/-/team/acme/frontend/package", { package: "@acme/widget" }),
      ],
      send,
    };
  };

  const members = async () =>
    (await (await client(reg.app, alice).get("/-/org/acme/user")).json()) as Record<string, string>;

  it("no token, a revoked token or garbage: 401 with WWW-Authenticate, nothing changes", async () => {
    for (const token of [undefined, revoked, "not-a-jwt"]) {
      const r = requests(token);
      for (const res of await Promise.all([...r.reads(), ...r.writes()])) {
        expect(res.status).toBe(401);
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="packr"/);
        const body = (await res.json()) as { error: string };
        expect(body.error.length).toBeGreaterThan(10);
      }
    }
    expect(await members()).toEqual({ alice: "admin", bob: "maintainer" });
  });

  it("CI tokens manage nothing, even the org admin's own: 403 naming the token's role", async () => {
    for (const token of [ciRead, ciPublish]) {
      for (const res of await Promise.all(requests(token).writes())) {
        const body = await expectError(res, 403, "FORBIDDEN");
        expect(body.error).toMatch(/ci-(readonly|publish) token/);
      }
    }
    expect(await members()).toEqual({ alice: "admin", bob: "maintainer" });
  });

  it("the admin's own token restricted to another scope manages nothing in @acme", async () => {
    for (const res of await Promise.all(requests(otherScope).writes())) {
      const body = await expectError(res, 403, "SCOPE_FORBIDDEN");
      expect(body.error).toContain("@other");
    }
    expect(await members()).toEqual({ alice: "admin", bob: "maintainer" });
  });

  it("a maintainer of the org manages nothing: 403 naming the role needed", async () => {
    for (const res of await Promise.all(requests(bob).writes())) {
      const body = await expectError(res, 403, "FORBIDDEN");
      expect(body.error).toContain("bob is a maintainer in @acme");
      expect(body.error).toContain("admin");
    }
    // A member (any role) may read the roster, the teams and their grants.
    for (const res of await Promise.all(requests(bob).reads())) expect(res.status).toBe(200);
  });

  it("a non-member gets the same 404 as for an org that does not exist", async () => {
    const outsider = requests(carol);
    const missing = requests(alice);
    for (const res of await Promise.all([...outsider.reads(), ...outsider.writes()])) {
      const body = await expectError(res, 404, "NOT_FOUND");
      expect(body.error).toContain("@acme");
    }
    const nowhere = await missing.send("PUT", "/-/org/nosuchorg/user", { user: "bob" });
    const body = await expectError(nowhere, 404, "NOT_FOUND");
    expect(body.error).toContain("@nosuchorg");
    // npm org set on an org that does not exist says where orgs are made.
    expect(body.error).toMatch(/packr-cli org create nosuchorg/);
    await expectError(await missing.send("GET", "/-/org/nosuchorg/user"), 404, "NOT_FOUND");
    await expectError(await missing.send("GET", "/-/org/nosuchorg/team"), 404, "NOT_FOUND");
  });

  it("unknown users, teams and packages are 404s that name them", async () => {
    const { send } = requests(alice);
    const ghost = await expectError(
      await send("PUT", "/-/org/acme/user", { user: "ghost" }),
      404,
      "NOT_FOUND",
    );
    expect(ghost.error).toContain("ghost");
    for (const res of [
      await send("GET", "/-/team/acme/nosuchteam/user"),
      await send("PUT", "/-/team/acme/nosuchteam/user", { user: "bob" }),
      await send("DELETE", "/-/team/acme/nosuchteam"),
      await send("PUT", "/-/team/acme/nosuchteam/package", {
        package: "@acme/widget",
        permissions: "read-only",
      }),
    ]) {
      expect((await expectError(res, 404, "NOT_FOUND")).error).toContain("nosuchteam");
    }
    const pkg = await send("PUT", "/-/team/acme/frontend/package", {
      package: "@acme/nothing",
      permissions: "read-only",
    });
    expect((await expectError(pkg, 404, "NOT_FOUND")).error).toContain("@acme/nothing");
    // A team member must be an org member; removing a non-member is a 404.
    const outsider = await send("PUT", "/-/team/acme/frontend/user", { user: "carol" });
    expect(outsider.status).toBeGreaterThanOrEqual(400);
    expect(outsider.status).toBeLessThan(500);
    expect(((await outsider.json()) as { error: string }).error).toContain("carol");
    await expectError(
      await send("DELETE", "/-/org/acme/user", { user: "carol" }),
      404,
      "NOT_FOUND",
    );
  });

  it("a team grant never reaches outside the org's scope", async () => {
    const { send } = requests(alice);
    for (const pkg of ["loose-pkg", "@other/thing"]) {
      const res = await send("PUT", "/-/team/acme/frontend/package", {
        package: pkg,
        permissions: "read-write",
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(((await res.json()) as { error: string }).error).toContain("@acme");
    }
    expect(
      await (await client(reg.app, alice).get("/-/team/acme/frontend/package")).json(),
    ).toEqual({});
  });

  it("the last admin can neither leave nor be demoted: 409", async () => {
    const { send } = requests(alice);
    const rm = await expectError(
      await send("DELETE", "/-/org/acme/user", { user: "alice" }),
      409,
      "CONFLICT",
    );
    expect(rm.error).toMatch(/admin/);
    await expectError(
      await send("PUT", "/-/org/acme/user", { user: "alice", role: "developer" }),
      409,
      "CONFLICT",
    );
    expect(await members()).toEqual({ alice: "admin", bob: "maintainer" });
  });

  it("malformed bodies are 400s that say what npm would have sent", async () => {
    const { send } = requests(alice);
    const raw = (method: string, path: string, text: string) =>
      reg.app.request(path, {
        method,
        headers: { authorization: `Bearer ${alice}`, "content-type": "application/json" },
        body: text,
      });
    for (const res of [
      await raw("PUT", "/-/org/acme/user", "not json"),
      await raw("PUT", "/-/org/acme/user", ""),
      await raw("DELETE", "/-/team/acme/frontend/package", "[1,2"),
      await send("PUT", "/-/org/acme/user", {}),
      await send("PUT", "/-/org/acme/user", { user: 42 }),
      await send("PUT", "/-/org/acme/user", { user: "bob", role: "boss" }),
      await send("PUT", "/-/org/acme/user", ["bob"]),
      await send("DELETE", "/-/org/acme/user", { name: "bob" }),
      await send("PUT", "/-/org/acme/team", { description: "no name" }),
      await send("PUT", "/-/team/acme/frontend/user", { user: null }),
      await send("PUT", "/-/team/acme/frontend/package", { package: "@acme/widget" }),
      await send("PUT", "/-/team/acme/frontend/package", {
        package: "@acme/widget",
        permissions: "write",
      }),
      await send("DELETE", "/-/team/acme/frontend/package", {}),
    ]) {
      const body = await expectError(res, 400, "VALIDATION");
      expect(body.error.length).toBeGreaterThan(10);
    }
    const role = await send("PUT", "/-/org/acme/user", { user: "bob", role: "boss" });
    expect((await expectError(role, 400, "VALIDATION")).error).toBe(
      "The org membership body is not what npm sends: role: a role is npm's owner, admin or developer, or Packr's admin, maintainer or reader.",
    );
    const huge = await send("PUT", "/-/org/acme/user", { user: "x".repeat(100_000) });
    await expectError(huge, 413, "PAYLOAD_TOO_LARGE");
  });

  it("hostile org, team, user and package names are 400s, never 5xx, and reach no SQL", async () => {
    const { send } = requests(alice);
    for (const [method, path, body] of [
      ["GET", "/-/org/..%2f..%2fetc/user"],
      ["GET", "/-/org/a%20b/team"],
      ["PUT", "/-/org/%27%3B%20drop%20table%20orgs%3B--/user", { user: "bob" }],
      ["PUT", "/-/org/acme/team", { name: "../../etc" }],
      ["PUT", "/-/org/acme/team", { name: "Front End" }],
      ["PUT", "/-/org/acme/team", { name: "x".repeat(300) }],
      ["PUT", "/-/org/acme/team", { name: "other:frontend" }],
      ["GET", "/-/team/acme/%00/user"],
      ["DELETE", "/-/team/acme/..%2f..%2f"],
      ["PUT", "/-/org/acme/user", { user: "'; drop table users; --" }],
      ["PUT", "/-/org/acme/user", { user: "bob\nalice" }],
      ["PUT", "/-/team/acme/frontend/user", { user: "<script>" }],
      [
        "PUT",
        "/-/team/acme/frontend/package",
        { package: "../etc/passwd", permissions: "read-only" },
      ],
      [
        "PUT",
        "/-/team/acme/frontend/package",
        { package: "@acme/UPPER CASE", permissions: "read-only" },
      ],
    ] as const) {
      const res = await send(method, path, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBeLessThan(500);
      const answer = (await res.json()) as { error: string; code: string };
      expect(answer.code, `${method} ${path}`).toMatch(/VALIDATION|INVALID_PACKAGE_NAME|NOT_FOUND/);
    }
    expect(await members()).toEqual({ alice: "admin", bob: "maintainer" });
  });
});
