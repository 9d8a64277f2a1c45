import { schema } from "@packr/core";
import { publishBody, tokenContext } from "@packr/core/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

// biome-ignore lint/suspicious/noExplicitAny: packuments are free-form JSON, read deep in assertions
type Doc = Record<string, any>;

describe("npm commands beyond publish: who may do what", () => {
  let reg: TestRegistry;
  let admin: string;
  let alice: string;
  let mallory: string;
  let reader: string;
  let publisher: string;
  let otherScope: string;

  beforeAll(async () => {
    reg = await createTestRegistry();
    admin = await reg.login("admin", ADMIN_PASSWORD);
    const token = async (spec: Parameters<typeof tokenContext>[1]) =>
      (await tokenContext(reg.runtime.deps, spec)).token;
    alice = await token({ user: "alice", role: "maintainer" });
    mallory = await token({ user: "mallory", role: "maintainer" });
    reader = await token({ user: "alice", role: "ci-readonly", kind: "ci" });
    publisher = await token({ user: "alice", role: "ci-publish", kind: "ci" });
    otherScope = await token({ user: "alice", role: "maintainer", scopes: ["@other"] });
    const api = client(reg.app, alice);
    await api.put("/@acme%2fprivate", publishBody("@acme/private", "1.0.0"));
    for (const v of ["1.0.0", "1.1.0"]) await api.put("/guarded", publishBody("guarded", v));
  });
  afterAll(async () => reg.close());

  const doc = async (path: string): Promise<Doc> =>
    (await (await client(reg.app, alice).get(`${path}?write=true`)).json()) as Doc;

  it("every write asks an anonymous caller for a token, with WWW-Authenticate", async () => {
    const read = await doc("/guarded");
    const anon = client(reg.app);
    for (const res of [
      await anon.put("/-/package/guarded/dist-tags/beta", '"1.0.0"'),
      await anon.delete("/-/package/guarded/dist-tags/latest"),
      await anon.put("/guarded", { versions: { "1.0.0": { deprecated: "x" } } }),
      await anon.put(`/guarded/-rev/${read._rev}`, { ...read, versions: {} }),
      await anon.put(`/guarded/-rev/${read._rev}`, { maintainers: [{ name: "mallory" }] }),
      await anon.delete(`/guarded/-rev/${read._rev}`),
      await anon.delete(`/guarded/-/guarded-1.0.0.tgz/-rev/${read._rev}`),
      await anon.get("/-/package/@acme%2fprivate/dist-tags"),
    ]) {
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="packr"');
      await expectError(res, 401, "UNAUTHORIZED");
    }
    expect((await client(reg.app, alice).get("/-/whoami")).status).toBe(200);
  });

  it("a read-only token may read tags but change nothing", async () => {
    const ro = client(reg.app, reader);
    expect(await (await ro.get("/-/package/@acme%2fprivate/dist-tags")).json()).toEqual({
      latest: "1.0.0",
    });
    const read = await doc("/guarded");
    for (const res of [
      await ro.put("/-/package/guarded/dist-tags/beta", '"1.0.0"'),
      await ro.put("/guarded", { versions: { "1.0.0": { deprecated: "x" } } }),
      await ro.put(`/guarded/-rev/${read._rev}`, { ...read, versions: {} }),
      await ro.delete(`/guarded/-rev/${read._rev}`),
    ]) {
      const err = await expectError(res, 403, "FORBIDDEN");
      expect(err.error).toMatch(/ci-readonly/);
    }
  });

  it("a publishing CI token may tag and deprecate, but not unpublish or change owners", async () => {
    const ci = client(reg.app, publisher);
    expect((await ci.put("/-/package/guarded/dist-tags/ci", '"1.0.0"')).status).toBe(200);
    const read = await doc("/guarded");
    const unpublish = await expectError(
      await ci.put(`/guarded/-rev/${read._rev}`, { ...read, versions: { "1.0.0": {} } }),
      403,
      "FORBIDDEN",
    );
    expect(unpublish.error).toMatch(/lacks the "unpublish" permission/);
    const owners = await expectError(
      await ci.put(`/guarded/-rev/${read._rev}`, {
        _id: "guarded",
        maintainers: [{ name: "alice" }, { name: "mallory" }],
      }),
      403,
      "FORBIDDEN",
    );
    expect(owners.error).toMatch(/CI token cannot change the owners/);
  });

  it("a maintainer of other packages cannot touch this one", async () => {
    const m = client(reg.app, mallory);
    const read = await doc("/guarded");
    for (const res of [
      await m.put("/-/package/guarded/dist-tags/latest", '"1.0.0"'),
      await m.put("/guarded", { versions: { "1.0.0": { deprecated: "pwned" } } }),
      await m.put(`/guarded/-rev/${read._rev}`, { ...read, versions: {} }),
      await m.put(`/guarded/-rev/${read._rev}`, {
        _id: "guarded",
        maintainers: [{ name: "mallory" }],
      }),
      await m.delete(`/guarded/-rev/${read._rev}`),
    ]) {
      await expectError(res, 403, "FORBIDDEN");
    }
    const after = await doc("/guarded");
    expect(after._rev).toBe(read._rev);
    expect(after.maintainers).toEqual([{ name: "alice", email: "alice@example.test" }]);
    expect(Object.keys(after.versions)).toEqual(["1.0.0", "1.1.0"]);
    expect((await client(reg.app, alice).get("/-/whoami")).status).toBe(200);
  });

  it("a token restricted to another scope is refused with SCOPE_FORBIDDEN", async () => {
    const o = client(reg.app, otherScope);
    const read = await doc("/guarded");
    for (const res of [
      await o.put("/-/package/guarded/dist-tags/x1", '"1.0.0"'),
      await o.put("/guarded", { versions: { "1.0.0": { deprecated: "x" } } }),
      await o.delete(`/guarded/-rev/${read._rev}`),
    ]) {
      await expectError(res, 403, "SCOPE_FORBIDDEN");
    }
  });

  it("a deprecate body cannot rewrite a manifest, a tarball URL, tags or maintainers", async () => {
    const before = await doc("/guarded");
    const body = structuredClone(before);
    body.versions["1.0.0"].deprecated = "legit message";
    body.versions["1.0.0"].dist.tarball = "https://evil.example/guarded-1.0.0.tgz";
    body.versions["1.0.0"].dependencies = { evil: "*" };
    body["dist-tags"].latest = "1.0.0";
    body.maintainers.push({ name: "mallory", email: "m@evil" });
    expect((await client(reg.app, alice).put("/guarded", body)).status).toBe(200);
    const after = await doc("/guarded");
    expect(after.versions["1.0.0"].deprecated).toBe("legit message");
    expect(after.versions["1.0.0"].dist).toEqual(before.versions["1.0.0"].dist);
    expect(after.versions["1.0.0"].dependencies).toBeUndefined();
    expect(after["dist-tags"]).toEqual(before["dist-tags"]);
    expect(after.maintainers).toEqual(before.maintainers);
  });

  it("the user document shows email to authenticated callers only", async () => {
    const anon = (await (
      await client(reg.app).get("/-/user/org.couchdb.user:alice")
    ).json()) as Doc;
    expect(anon.name).toBe("alice");
    expect(anon).not.toHaveProperty("email");
    const authed = (await (
      await client(reg.app, reader).get("/-/user/org.couchdb.user:alice")
    ).json()) as Doc;
    expect(authed.email).toBe("alice@example.test");
  });

  it("logout revokes the live token in the URL whoever sends it: holding a token is the power to revoke it", async () => {
    // npm sends the token it logs out in the path and (usually) as Authorization too; a missing or
    // different header must not leave it live, and a leaked token anyone reports is better dead.
    const rowOf = async (t: Awaited<ReturnType<typeof tokenContext>>) => {
      if (t.actor.type !== "token") throw new Error("token actor expected");
      const [row] = await reg.runtime.deps.db
        .select()
        .from(schema.tokens)
        .where(eq(schema.tokens.id, t.actor.tokenId));
      return row;
    };
    const byNobody = await tokenContext(reg.runtime.deps, { user: "victim", role: "maintainer" });
    const byOther = await tokenContext(reg.runtime.deps, { user: "victim", role: "maintainer" });
    const byStale = await tokenContext(reg.runtime.deps, { user: "victim", role: "maintainer" });
    const byAdmin = await tokenContext(reg.runtime.deps, { user: "victim", role: "maintainer" });
    const anon = await client(reg.app).delete(`/-/user/token/${byNobody.token}`);
    expect(anon.status).toBe(200);
    expect(await anon.json()).toEqual({ ok: true, revoked: true });
    const other = await client(reg.app, mallory).delete(`/-/user/token/${byOther.token}`);
    expect(await other.json()).toEqual({ ok: true, revoked: true });
    const stale = await client(reg.app, "not.a-real.token").delete(
      `/-/user/token/${byStale.token}`,
    );
    expect(await stale.json()).toEqual({ ok: true, revoked: true });
    const byAdminRes = await client(reg.app, admin).delete(`/-/user/token/${byAdmin.token}`);
    expect(await byAdminRes.json()).toEqual({ ok: true, revoked: true });
    for (const t of [byNobody, byOther, byStale, byAdmin]) {
      await expectError(await client(reg.app, t.token).get("/-/whoami"), 401, "TOKEN_REVOKED");
      expect((await rowOf(t))?.revokedAt).toBeInstanceOf(Date);
    }
    // The sender's own token is untouched.
    expect((await client(reg.app, mallory).get("/-/whoami")).status).toBe(200);
    // A token this registry did not sign revokes nothing and answers success (npm clears .npmrc).
    const forged = `${byNobody.token.split(".").slice(0, 2).join(".")}.${"A".repeat(43)}`;
    expect(await (await client(reg.app).delete(`/-/user/token/${forged}`)).json()).toEqual({
      ok: true,
      revoked: false,
    });
  });

  it("a revoked token cannot unpublish", async () => {
    const gone = await tokenContext(reg.runtime.deps, { user: "alice", role: "maintainer" });
    await client(reg.app, gone.token).delete(`/-/user/token/${gone.token}`);
    const read = await doc("/guarded");
    await expectError(
      await client(reg.app, gone.token).delete(`/guarded/-rev/${read._rev}`),
      401,
      "TOKEN_REVOKED",
    );
    expect(Object.keys((await doc("/guarded")).versions)).toEqual(["1.0.0", "1.1.0"]);
  });
});
