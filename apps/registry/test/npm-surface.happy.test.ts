import { publishBody, setOrgRole, tokenContext } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "./harness.ts";
import { client } from "./http.ts";

// biome-ignore lint/suspicious/noExplicitAny: responses are free-form JSON, read deep in assertions
type Doc = Record<string, any>;

describe("npm search, star and access over HTTP: the paths that work", () => {
  let reg: TestRegistry;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    reg = await createTestRegistry();
    const token = async (user: string) =>
      (await tokenContext(reg.runtime.deps, { user, role: "maintainer" })).token;
    alice = await token("alice");
    bob = await token("bob");
    const api = client(reg.app, alice);
    const put = async (name: string, manifest: Record<string, unknown>, access?: "public") =>
      expect(
        (
          await api.put(
            `/${name.replace("/", "%2f")}`,
            publishBody(name, "1.0.0", { manifest, access }),
          )
        ).status,
      ).toBe(201);
    await put("express", { description: "Fast web framework", keywords: ["web"] }, "public");
    await put("express-session", { description: "Sessions", keywords: ["session"] }, "public");
    await put("@acme/express-kit", { description: "Internal", keywords: ["express"] });
    // alice's first publish made @acme her org; bob reads its packages as a reader in it.
    await setOrgRole(reg.runtime.deps, { org: "acme", user: "bob", role: "reader" });
  });
  afterAll(async () => reg.close());

  it("GET /-/v1/search with npm's exact query answers npm's shape", async () => {
    const res = await client(reg.app).get(
      "/-/v1/search?text=expres&size=20&from=0&quality=0.65&popularity=0.98&maintenance=0.5",
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("private, no-cache");
    const body = (await res.json()) as Doc;
    expect(body.total).toBe(2);
    expect(body.objects.map((o: Doc) => o.package.name)).toEqual(["express", "express-session"]);
    const [first] = body.objects;
    expect(Object.keys(first).sort()).toEqual(["package", "score", "searchScore"]);
    expect(first.package.maintainers).toEqual([{ username: "alice", email: "alice@example.test" }]);
    expect(Object.keys(first.score.detail).sort()).toEqual([
      "maintenance",
      "popularity",
      "quality",
    ]);
    expect(typeof body.time).toBe("string");
    // A typo, and a token that may read restricted packages.
    const typo = (await (await client(reg.app, bob).get("/-/v1/search?text=exprss")).json()) as Doc;
    expect(typo.objects.map((o: Doc) => o.package.name)).toContain("@acme/express-kit");
    expect(typo.objects[0].package.name).toBe("express");
  });

  it("npm star / unstar / stars: PUT {_id,_rev,users}, users in the document, the CouchDB view", async () => {
    const api = client(reg.app, bob);
    const read = (await (await api.get("/express?write=true")).json()) as Doc;
    const star = await api.put("/express", {
      _id: read._id,
      _rev: read._rev,
      users: { ...read.users, bob: true },
    });
    expect(star.status).toBe(200);
    expect(await star.json()).toMatchObject({ ok: true, id: "express", starred: true });
    const after = (await (await client(reg.app).get("/express")).json()) as Doc;
    expect(after.users).toEqual({ bob: true });
    expect(after.time.modified).toBe(read.time.modified);
    const view = await client(reg.app).get("/-/_view/starredByUser?key=%22bob%22");
    expect(await view.json()).toEqual({ rows: [{ key: "bob", value: "express" }] });
    await api.put("/express", { _id: after._id, _rev: after._rev, users: {} });
    expect(((await (await client(reg.app).get("/express")).json()) as Doc).users).toBeUndefined();
  });

  it("npm access get/set status, list packages (org 404 → user) and collaborators", async () => {
    const api = client(reg.app, alice);
    expect(await (await api.get("/-/package/@acme%2fexpress-kit/visibility")).json()).toEqual({
      public: false,
    });
    const set = await api.post("/-/package/@acme%2fexpress-kit/access", { access: "public" });
    expect(set.status).toBe(200);
    expect(
      await (await client(reg.app).get("/-/package/@acme%2fexpress-kit/visibility")).json(),
    ).toEqual({
      public: true,
    });
    expect((await client(reg.app).get("/@acme%2fexpress-kit")).status).toBe(200);
    await api.post("/-/package/@acme%2fexpress-kit/access", { access: "restricted" });
    expect((await client(reg.app).get("/@acme%2fexpress-kit")).status).toBe(401);

    expect(await (await api.get("/-/org/acme/package")).json()).toEqual({
      "@acme/express-kit": "write",
    });
    expect((await api.get("/-/org/alice/package")).status).toBe(404);
    expect(await (await api.get("/-/user/alice/package")).json()).toEqual({
      "@acme/express-kit": "write",
      express: "write",
      "express-session": "write",
    });
    expect(await (await api.get("/-/package/express/collaborators")).json()).toEqual({
      alice: "write",
    });
    expect(await (await api.get("/-/package/express/collaborators?user=bob")).json()).toEqual({});
  });

  it("a package deprecated as a whole says so in npm-notice; a partly deprecated one does not", async () => {
    const api = client(reg.app, alice);
    const read = (await (await api.get("/express-session?write=true")).json()) as Doc;
    read.versions["1.0.0"].deprecated = "use cookie-session";
    expect((await api.put("/express-session", read)).status).toBe(200);
    const res = await client(reg.app).get("/express-session");
    expect(res.headers.get("npm-notice")).toBe("express-session is deprecated: use cookie-session");
    // npm prints the notice only from responses it did not store.
    expect(res.headers.get("cache-control")).toBe("no-store");
    const etag = res.headers.get("etag") ?? "";
    const notModified = await client(reg.app).get("/express-session", { "if-none-match": etag });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("npm-notice")).toBe(
      "express-session is deprecated: use cookie-session",
    );
    const plain = await client(reg.app).get("/express");
    expect(plain.headers.get("npm-notice")).toBeNull();
    expect(plain.headers.get("cache-control")).toBe("no-cache");
  });
});
