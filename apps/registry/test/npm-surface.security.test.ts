import { schema } from "@packr/core";
import { publishBody, tokenContext } from "@packr/core/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

// biome-ignore lint/suspicious/noExplicitAny: responses are free-form JSON, read deep in assertions
type Doc = Record<string, any>;

describe("npm search, star and access: who may do what, and bad input", () => {
  let reg: TestRegistry;
  let alice: string;
  let mallory: string;
  let reader: string;
  let otherScope: string;
  let revoked: string;
  let expired: string;

  beforeAll(async () => {
    reg = await createTestRegistry();
    const deps = reg.runtime.deps;
    const token = async (spec: Parameters<typeof tokenContext>[1]) =>
      (await tokenContext(deps, spec)).token;
    alice = await token({ user: "alice", role: "maintainer" });
    mallory = await token({ user: "mallory", role: "maintainer" });
    reader = await token({ user: "alice", role: "ci-readonly", kind: "ci" });
    otherScope = await token({ user: "alice", role: "maintainer", scopes: ["@other"] });
    const [user] = await deps.db.select().from(schema.users).where(eq(schema.users.name, "alice"));
    const issue = (ttlSeconds: number) =>
      deps.tokens.issue(deps.db, {
        kind: "personal",
        name: "t",
        userId: user?.id ?? "",
        role: "maintainer",
        scopes: [],
        ttlSeconds,
      });
    const r = await issue(3600);
    await deps.db
      .update(schema.tokens)
      .set({ revokedAt: new Date() })
      .where(eq(schema.tokens.id, r.id));
    revoked = r.token;
    expired = (await issue(-10)).token;
    const api = client(reg.app, alice);
    await api.put(
      "/@acme%2fsecret",
      publishBody("@acme/secret", "1.0.0", { manifest: { description: "secret sauce" } }),
    );
    await api.put(
      "/open-lib",
      publishBody("open-lib", "1.0.0", { manifest: { description: "secret sauce, public" } }),
    );
    await api.put("/open-lib", { _id: "open-lib", _rev: "x", users: { alice: true } });
    await api.put("/@acme%2fsecret", { _id: "@acme/secret", users: { alice: true } });
  });
  afterAll(async () => reg.close());

  const searchNames = async (token: string | undefined, text: string) => {
    const res = await client(reg.app, token).get(`/-/v1/search?text=${encodeURIComponent(text)}`);
    return ((await res.json()) as Doc).objects.map((o: Doc) => o.package.name);
  };

  it("restricted packages never show to anonymous, revoked or expired callers", async () => {
    for (const token of [undefined, revoked, expired, "not-a-jwt"]) {
      expect(await searchNames(token, "secret")).toEqual(["open-lib"]);
      expect(await searchNames(token, "scope:acme")).toEqual([]);
      expect(await searchNames(token, "@acme/secret")).toEqual([]);
      const stars = await client(reg.app, token).get('/-/_view/starredByUser?key="alice"');
      expect(await stars.json()).toEqual({ rows: [{ key: "alice", value: "open-lib" }] });
      // @acme is an org (alice's first publish claimed it): listed, without what they may not read.
      const org = await client(reg.app, token).get("/-/org/acme/package");
      expect(await org.json()).toEqual({});
      const user = (await (
        await client(reg.app, token).get("/-/user/alice/package")
      ).json()) as Doc;
      expect(user).toEqual({ "open-lib": "write" });
    }
    expect(await searchNames(reader, "secret")).toEqual(["@acme/secret", "open-lib"]);
    // A signed-in stranger is no better off than anonymous.
    expect(await searchNames(mallory, "secret")).toEqual(["open-lib"]);
    const stars = await client(reg.app, mallory).get('/-/_view/starredByUser?key="alice"');
    expect(await stars.json()).toEqual({ rows: [{ key: "alice", value: "open-lib" }] });
    expect(await (await client(reg.app, mallory).get("/-/org/acme/package")).json()).toEqual({});
  });

  it("star and access writes need a token: 401 with WWW-Authenticate for none, revoked or expired", async () => {
    for (const token of [undefined, revoked, expired]) {
      const api = client(reg.app, token);
      for (const res of [
        await api.put("/open-lib", { _id: "open-lib", users: { alice: true } }),
        await api.post("/-/package/open-lib/access", { access: "restricted" }),
        await api.put("/-/team/acme/devs/package", {
          package: "@acme/secret",
          permissions: "read-write",
        }),
        await api.get("/-/package/@acme%2fsecret/visibility"),
        await api.get("/-/package/@acme%2fsecret/collaborators"),
      ]) {
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="packr"/);
        const code =
          token === undefined
            ? "UNAUTHORIZED"
            : token === revoked
              ? "TOKEN_REVOKED"
              : "TOKEN_EXPIRED";
        await expectError(res, 401, code);
      }
    }
    const doc = (await (await client(reg.app).get("/open-lib")).json()) as Doc;
    expect(doc.users).toEqual({ alice: true });
  });

  it("changing visibility needs a maintainer with publish permission and a matching scope", async () => {
    const post = (token: string) =>
      client(reg.app, token).post("/-/package/@acme%2fsecret/access", { access: "public" });
    expect((await expectError(await post(reader), 403, "FORBIDDEN")).error).toMatch(/ci-readonly/);
    // mallory cannot read it: the 404 of a missing package, not a 403 that would confirm it exists.
    expect((await expectError(await post(mallory), 404, "NOT_FOUND")).error).toBe(
      "Package @acme/secret is not in this registry.",
    );
    // A CI token never changes access, even its org admin's.
    const ci = (
      await tokenContext(reg.runtime.deps, { user: "alice", role: "ci-publish", kind: "ci" })
    ).token;
    expect((await expectError(await post(ci), 403, "FORBIDDEN")).error).toMatch(
      /^A ci-publish token cannot change the access of @acme\/secret/,
    );
    await expectError(await post(otherScope), 403, "SCOPE_FORBIDDEN");
    expect(
      await (await client(reg.app, alice).get("/-/package/@acme%2fsecret/visibility")).json(),
    ).toEqual({
      public: false,
    });
  });

  it("a star can change nothing but the caller's own star", async () => {
    const api = client(reg.app, mallory);
    const before = (await (await api.get("/open-lib?write=true")).json()) as Doc;
    // mallory drops alice's star and adds one for a stranger: only mallory's entry is read.
    expect(
      (
        await api.put("/open-lib", {
          _id: "open-lib",
          _rev: before._rev,
          users: { stranger: true },
        })
      ).status,
    ).toBe(200);
    // Dressed-up star bodies with other fields are not stars (they fall to publish and fail there).
    await expectError(
      await api.put("/open-lib", {
        _id: "open-lib",
        users: { mallory: true },
        maintainers: [{ name: "mallory" }],
      }),
      400,
      "VALIDATION",
    );
    await expectError(
      await api.put("/open-lib", {
        _id: "open-lib",
        users: { mallory: true },
        "dist-tags": { latest: "0.0.1" },
      }),
      400,
      "VALIDATION",
    );
    const after = (await (await api.get("/open-lib?write=true")).json()) as Doc;
    expect(after.users).toEqual({ alice: true });
    expect(after.maintainers).toEqual(before.maintainers);
    expect(after["dist-tags"]).toEqual(before["dist-tags"]);
    expect(after.versions).toEqual(before.versions);
    expect(after.time.modified).toBe(before.time.modified);
  });

  it("team grant/revoke (DELETE with a JSON body) to a team that does not exist: 404, and a cap on the body", async () => {
    // Teams live in orgs (npm-orgs tests): here there is no team acme:devs (nor, unless a first
    // publish claimed the scope, an org @acme).
    const api = client(reg.app, alice);
    const grant = await api.put("/-/team/acme/devs/package", {
      package: "@acme/secret",
      permissions: "read-write",
    });
    expect((await expectError(grant, 404, "NOT_FOUND")).error).toMatch(
      /There is no (org @acme|team acme:devs)/,
    );
    const revoke = await reg.app.request("/-/team/acme/devs/package", {
      method: "DELETE",
      headers: { authorization: `Bearer ${alice}`, "content-type": "application/json" },
      body: JSON.stringify({ package: "@acme/secret" }),
    });
    await expectError(revoke, 404, "NOT_FOUND");
    await expectError(await api.get("/-/team/acme/devs/package"), 404, "NOT_FOUND");
    const huge = await api.put("/-/team/acme/devs/package", { package: "x".repeat(100_000) });
    await expectError(huge, 413, "PAYLOAD_TOO_LARGE");
  });

  it("malformed and hostile input is a 4xx naming the problem, never a 5xx", async () => {
    const api = client(reg.app, alice);
    for (const path of [
      "/-/v1/search",
      "/-/v1/search?text=",
      `/-/v1/search?text=${"a".repeat(300)}`,
      "/-/v1/search?text=a&size=0",
      "/-/v1/search?text=a&size=-1",
      "/-/v1/search?text=a&from=abc",
      "/-/v1/search?text=a&quality=x",
      "/-/_view/starredByUser",
      "/-/_view/starredByUser?key=alice",
      "/-/_view/starredByUser?key=%7B%7D",
      "/-/org/..%2f..%2fetc/package",
      "/-/org/a%20b/package",
      "/-/user/%27%3B%20drop/package",
    ]) {
      const res = await api.get(path);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
      await expectError(res, 400, "VALIDATION");
    }
    const injection = await api.get(
      `/-/v1/search?text=${encodeURIComponent("') or 1=1; -- :* & | !")}`,
    );
    expect(injection.status).toBe(200);
    await expectError(await api.post("/-/package/open-lib/access", "not json"), 400, "VALIDATION");
    await expectError(
      await api.post("/-/package/open-lib/access", { access: "everyone" }),
      400,
      "VALIDATION",
    );
    const mfa = await api.post("/-/package/open-lib/access", {
      publish_requires_tfa: true,
      automation_token_overrides_tfa: false,
    });
    expect((await expectError(mfa, 400, "VALIDATION")).error).toMatch(/two-factor/);
    await expectError(
      await api.post("/-/package/open-lib/access", { access: "public", pad: "x".repeat(70_000) }),
      413,
      "PAYLOAD_TOO_LARGE",
    );
    await expectError(
      await api.get("/-/package/..%2f..%2fetc/visibility"),
      400,
      "INVALID_PACKAGE_NAME",
    );
    await expectError(
      await api.post("/-/package/no-such-pkg/access", { access: "public" }),
      404,
      "NOT_FOUND",
    );
    await expectError(await api.get("/-/package/no-such-pkg/collaborators"), 404, "NOT_FOUND");
    await expectError(
      await api.put("/no-such-pkg", { _id: "no-such-pkg", users: { alice: true } }),
      404,
      "NOT_FOUND",
    );
    await expectError(
      await api.put("/open-lib", { _id: "other", users: { alice: true } }),
      400,
      "VALIDATION",
    );
    await expectError(
      await api.put("/open-lib", { _id: "open-lib", users: "alice" }),
      400,
      "VALIDATION",
    );
  });
});
