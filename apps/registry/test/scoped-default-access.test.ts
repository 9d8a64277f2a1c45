import { publishBody, setOrgRole, tokenContext } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

/**
 * PACKR_SCOPED_DEFAULT_ACCESS: the access a new scoped package gets when its publish names none
 * (`npm publish` without `--access` sends `access: null`). Restricted by default, as on npmjs; an
 * open registry sets `public`. An access the publish names always wins.
 */
describe.each([
  { setting: undefined, expected: "restricted" },
  { setting: "restricted", expected: "restricted" },
  { setting: "public", expected: "public" },
] as const)("PACKR_SCOPED_DEFAULT_ACCESS=$setting", ({ setting, expected }) => {
  let reg: TestRegistry;
  let admin: string;

  beforeAll(async () => {
    reg = await createTestRegistry(setting ? { PACKR_SCOPED_DEFAULT_ACCESS: setting } : {});
    admin = await reg.login("admin", ADMIN_PASSWORD);
  });
  afterAll(async () => reg.close());

  const anonymousReads = async (name: string) => {
    const escaped = name.replace("/", "%2f");
    const file = `${name.split("/")[1]}-1.0.0.tgz`;
    return [
      await client(reg.app).get(`/${escaped}`),
      await client(reg.app).get(`/${escaped}/1.0.0`),
      await client(reg.app).get(`/${name}/-/${file}`),
    ];
  };

  it(`a scoped package published without --access is ${expected}`, async () => {
    const put = await client(reg.app, admin).put(
      "/@acme%2fdefaulted",
      publishBody("@acme/defaulted", "1.0.0", { access: null }),
    );
    expect(put.status).toBe(201);
    const visibility = await client(reg.app, admin).get("/-/package/@acme%2fdefaulted/visibility");
    expect(await visibility.json()).toEqual({ public: expected === "public" });
    for (const res of await anonymousReads("@acme/defaulted")) {
      if (expected === "public") expect(res.status).toBe(200);
      else await expectError(res, 401, "UNAUTHORIZED");
    }
    // A search by someone without a token finds it only when public.
    const found = (await (await client(reg.app).get("/-/v1/search?text=defaulted")).json()) as {
      objects: { package: { name: string } }[];
    };
    expect(found.objects.map((o) => o.package.name)).toEqual(
      expected === "public" ? ["@acme/defaulted"] : [],
    );
  });

  it("an explicit --access restricted (or yarn's 'private' alias) stays restricted", async () => {
    for (const [name, access] of [
      ["@acme/explicit", "restricted"],
      ["@acme/aliased", "private"],
    ] as const) {
      const body = { ...publishBody(name, "1.0.0"), access };
      expect((await client(reg.app, admin).put(`/${name.replace("/", "%2f")}`, body)).status).toBe(
        201,
      );
      for (const res of await anonymousReads(name)) await expectError(res, 401, "UNAUTHORIZED");
      // Still readable by the org's members (the first publish made @acme the admin's org).
      const reader = (
        await tokenContext(reg.runtime.deps, { user: "reader", role: "ci-readonly", kind: "ci" })
      ).token;
      await setOrgRole(reg.runtime.deps, { org: "acme", user: "reader", role: "reader" });
      expect((await client(reg.app, reader).get(`/${name.replace("/", "%2f")}`)).status).toBe(200);
    }
  });

  it("an explicit --access public is public; unscoped packages are public", async () => {
    const scoped = await client(reg.app, admin).put(
      "/@acme%2fopen",
      publishBody("@acme/open", "1.0.0", { access: "public" }),
    );
    expect(scoped.status).toBe(201);
    for (const res of await anonymousReads("@acme/open")) expect(res.status).toBe(200);
    const unscoped = await client(reg.app, admin).put(
      "/plain-lib",
      publishBody("plain-lib", "1.0.0"),
    );
    expect(unscoped.status).toBe(201);
    expect((await client(reg.app).get("/plain-lib")).status).toBe(200);
  });

  it("a later publish without --access does not change an existing package's access", async () => {
    await client(reg.app, admin).put(
      "/@acme%2fkept",
      publishBody("@acme/kept", "1.0.0", { access: "restricted" }),
    );
    const next = await client(reg.app, admin).put(
      "/@acme%2fkept",
      publishBody("@acme/kept", "1.1.0", { access: null }),
    );
    expect(next.status).toBe(201);
    await expectError(await client(reg.app).get("/@acme%2fkept"), 401, "UNAUTHORIZED");
  });

  it("publishing still needs a token", async () => {
    await expectError(
      await client(reg.app).put("/@acme%2fanon", publishBody("@acme/anon", "1.0.0")),
      401,
      "UNAUTHORIZED",
    );
  });
});
