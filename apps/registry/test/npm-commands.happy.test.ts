import { gzipSync } from "node:zlib";
import { publishBody, tokenContext } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, createTestRegistry, type TestRegistry } from "./harness.ts";
import { client } from "./http.ts";

// biome-ignore lint/suspicious/noExplicitAny: packuments are free-form JSON, read deep in assertions
type Doc = Record<string, any>;

describe("npm commands beyond publish: the paths that work", () => {
  let reg: TestRegistry;
  let admin: string;
  let alice: string;

  beforeAll(async () => {
    reg = await createTestRegistry();
    admin = await reg.login("admin", ADMIN_PASSWORD);
    alice = (await tokenContext(reg.runtime.deps, { user: "alice", role: "maintainer" })).token;
  });
  afterAll(async () => reg.close());

  const doc = async (path: string, token = alice): Promise<Doc> =>
    (await (await client(reg.app, token).get(`${path}?write=true`)).json()) as Doc;

  it("dist-tag ls/add/rm under every scoped spelling, with npm's JSON-string body", async () => {
    const api = client(reg.app, alice);
    for (const v of ["1.0.0", "1.1.0"]) {
      expect(
        (await api.put("/@acme%2ftags", publishBody("@acme/tags", v, { access: "public" }))).status,
      ).toBe(201);
    }
    const ls = await client(reg.app).get("/-/package/@acme%2ftags/dist-tags");
    expect(ls.status).toBe(200);
    expect(ls.headers.get("cache-control")).toBe("no-cache");
    expect(await ls.json()).toEqual({ latest: "1.1.0" });

    const add = await api.put("/-/package/@acme%2Ftags/dist-tags/beta", '"1.0.0"');
    expect(add.status).toBe(200);
    expect(await add.json()).toEqual({ beta: "1.0.0", latest: "1.1.0" });
    await api.put("/-/package/@acme/tags/dist-tags/latest", JSON.stringify("1.0.0"));
    expect(await (await api.get("/-/package/@acme/tags/dist-tags")).json()).toEqual({
      beta: "1.0.0",
      latest: "1.0.0",
    });
    expect((await doc("/@acme%2ftags"))["dist-tags"]).toEqual({ latest: "1.0.0", beta: "1.0.0" });

    const rm = await api.delete("/-/package/@acme%2ftags/dist-tags/beta");
    expect(rm.status).toBe(200);
    expect(await rm.json()).toEqual({ latest: "1.0.0" });
    expect(await (await api.get("/-/package/unscoped-none/dist-tags")).json()).toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("deprecate and undeprecate: npm's whole-document PUT changes only `deprecated`", async () => {
    const api = client(reg.app, alice);
    await api.put("/dep-me", publishBody("dep-me", "1.0.0"));
    await api.put("/dep-me", publishBody("dep-me", "2.0.0"));
    const body = await doc("/dep-me");
    body.versions["1.0.0"].deprecated = "use 2";
    const res = await api.put("/dep-me", body);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, changed: { "1.0.0": "use 2" } });
    expect((await doc("/dep-me")).versions["1.0.0"].deprecated).toBe("use 2");
    const corgi = (await (
      await api.get("/dep-me", { accept: "application/vnd.npm.install-v1+json" })
    ).json()) as Doc;
    expect(corgi.versions["1.0.0"].deprecated).toBe("use 2");
    expect(((await (await api.get("/dep-me/1.0.0")).json()) as Doc).deprecated).toBe("use 2");

    const undo = await doc("/dep-me");
    undo.versions["1.0.0"].deprecated = "";
    expect((await api.put("/dep-me", undo)).status).toBe(200);
    expect((await doc("/dep-me")).versions["1.0.0"]).not.toHaveProperty("deprecated");
  });

  it("unpublish one version through npm's _rev dance, then the whole package", async () => {
    const api = client(reg.app, alice);
    for (const v of ["1.0.0", "1.1.0", "1.2.0"]) await api.put("/gone", publishBody("gone", v));
    // Step 2 → 3: the document minus 1.2.0, PUT to /-rev/<rev>.
    const read = await doc("/gone");
    const tarball = new URL(read.versions["1.2.0"].dist.tarball).pathname;
    delete read.versions["1.2.0"];
    delete read["dist-tags"].latest;
    const put = await api.put(`/gone/-rev/${encodeURIComponent(read._rev)}`, read);
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ ok: true, unpublished: ["1.2.0"] });
    // Step 4 → 5: the new _rev, then DELETE the tarball.
    const after = await doc("/gone");
    expect(Object.keys(after.versions)).toEqual(["1.0.0", "1.1.0"]);
    expect(after["dist-tags"]).toEqual({ latest: "1.1.0" });
    expect(after.time["1.2.0"]).toBeTypeOf("string");
    const del = await api.delete(`${tarball}/-rev/${after._rev}`);
    expect(del.status).toBe(200);
    expect((await api.get(tarball)).status).toBe(404);
    expect((await api.put("/gone", publishBody("gone", "1.2.0"))).status).toBe(409);

    // npm unpublish gone --force.
    const whole = await api.delete(`/gone/-rev/${after._rev}`);
    expect(whole.status).toBe(200);
    const tomb = (await (await client(reg.app).get("/gone")).json()) as Doc;
    expect(tomb.versions).toEqual({});
    expect(tomb.time.unpublished).toMatchObject({ time: expect.any(String) });
    expect((await api.get("/gone/-/gone-1.0.0.tgz")).status).toBe(404);
    // A second DELETE of the tarball (npm retrying) is still a success.
    expect((await api.delete(`${tarball}/-rev/${tomb._rev}`)).status).toBe(200);
  });

  it("owner ls/add/rm: the user document carries email, the PUT the maintainer list", async () => {
    const bob = await tokenContext(reg.runtime.deps, { user: "bob", role: "maintainer" });
    const api = client(reg.app, alice);
    await api.put("/owned", publishBody("owned", "1.0.0"));
    const user = (await (await api.get("/-/user/org.couchdb.user:bob")).json()) as Doc;
    expect(user).toMatchObject({ name: "bob", email: "bob@example.test" });
    const read = await doc("/owned");
    const add = await api.put(`/owned/-rev/${encodeURIComponent(read._rev)}`, {
      _id: "owned",
      _rev: read._rev,
      maintainers: [...read.maintainers, { name: user.name, email: user.email }],
    });
    expect(add.status).toBe(200);
    expect(await add.json()).toMatchObject({ added: ["bob"], removed: [] });
    expect((await doc("/owned")).maintainers).toEqual([
      { name: "alice", email: "alice@example.test" },
      { name: "bob", email: "bob@example.test" },
    ]);
    expect(
      (await client(reg.app, bob.token).put("/owned", publishBody("owned", "1.1.0"))).status,
    ).toBe(201);
    const again = await doc("/owned");
    const rm = await api.put(`/owned/-rev/${again._rev}`, {
      _id: "owned",
      _rev: again._rev,
      maintainers: [{ name: "bob", email: "bob@example.test" }],
    });
    expect(await rm.json()).toMatchObject({ removed: ["alice"] });
  });

  it("npm logout revokes the token at once, and is idempotent", async () => {
    const { token } = await tokenContext(reg.runtime.deps, { user: "leaving", role: "maintainer" });
    const api = client(reg.app, token);
    expect((await api.get("/-/whoami")).status).toBe(200);
    const out = await api.delete(`/-/user/token/${encodeURIComponent(token)}`);
    expect(out.status).toBe(200);
    expect(await out.json()).toEqual({ ok: true, revoked: true });
    expect((await api.get("/-/whoami")).status).toBe(401);
    const again = await api.delete(`/-/user/token/${encodeURIComponent(token)}`);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ ok: true, revoked: false });
    // The admin's own token is untouched.
    expect((await client(reg.app, admin).get("/-/whoami")).status).toBe(200);
  });

  it("npm audit's gzipped bulk query gets {}, pnpm's quick and full audits an empty report", async () => {
    const bulk = await reg.app.request("/-/npm/v1/security/advisories/bulk", {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: gzipSync(JSON.stringify({ "left-pad": ["1.3.0"], dep: ["1.0.0", "2.0.0"] })),
    });
    expect(bulk.status).toBe(200);
    expect(await bulk.json()).toEqual({});
    const plain = await client(reg.app).post("/-/npm/v1/security/advisories/bulk", {});
    expect(await plain.json()).toEqual({});
    const tree = {
      dependencies: {
        ".": {
          version: "1.0.0",
          dependencies: { a: { version: "1.0.0", integrity: "sha512-a", dev: false } },
        },
      },
    };
    for (const path of ["/-/npm/v1/security/audits/quick", "/-/npm/v1/security/audits"]) {
      const res = await client(reg.app, alice).post(path, tree);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        actions: [],
        advisories: {},
        muted: [],
        metadata: {
          vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0 },
          dependencies: 1,
          devDependencies: 0,
          optionalDependencies: 0,
          totalDependencies: 1,
        },
      });
    }
  });
});
