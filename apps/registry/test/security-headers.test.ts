import { publishBody } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, createTestRegistry, type TestRegistry } from "./harness.ts";
import { client } from "./http.ts";

const EXPECTED = {
  "x-content-type-options": "nosniff",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "referrer-policy": "no-referrer",
};

describe("security headers on registry answers", () => {
  let https: TestRegistry;
  let http: TestRegistry;
  let admin: string;

  beforeAll(async () => {
    [https, http] = await Promise.all([
      createTestRegistry({ PACKR_PUBLIC_URL: "https://npm.example.test" }),
      createTestRegistry({ PACKR_PUBLIC_URL: "http://registry.test" }),
    ]);
    admin = await https.login("admin", ADMIN_PASSWORD);
    const res = await client(https.app, admin).put("/hdr-pkg", publishBody("hdr-pkg", "1.0.0"));
    expect(res.status).toBe(201);
  });
  afterAll(async () => Promise.all([https?.close(), http?.close()]));

  /** Every representative answer: the hot reads, writes, errors, health, the API. */
  const requests = (reg: TestRegistry) => {
    const anon = client(reg.app);
    const authed = client(reg.app, admin);
    return {
      "packument GET": () => anon.get("/hdr-pkg"),
      "abbreviated packument": () =>
        anon.get("/hdr-pkg", { accept: "application/vnd.npm.install-v1+json" }),
      "packument HEAD": () => anon.head("/hdr-pkg"),
      "packument 304": async () => {
        const etag = (await anon.get("/hdr-pkg")).headers.get("etag") ?? "";
        const res = await anon.get("/hdr-pkg", { "if-none-match": etag });
        expect(res.status).toBe(304);
        return res;
      },
      "version GET": () => anon.get("/hdr-pkg/1.0.0"),
      "tarball GET": () => anon.get("/hdr-pkg/-/hdr-pkg-1.0.0.tgz"),
      "tarball HEAD": () => anon.head("/hdr-pkg/-/hdr-pkg-1.0.0.tgz"),
      "package 404": () => anon.get("/no-such-hdr-pkg"),
      "tarball 404": () => anon.get("/hdr-pkg/-/hdr-pkg-9.9.9.tgz"),
      "endpoint 404": () => anon.get("/-/no-such-endpoint"),
      "401 error": () => anon.get("/-/whoami"),
      "publish (write)": () => authed.put("/hdr-pkg", publishBody("hdr-pkg", "1.0.1")),
      health: () => anon.get("/health"),
      root: () => anon.get("/"),
      search: () => anon.get("/-/v1/search?text=hdr"),
      whoami: () => authed.get("/-/whoami"),
    };
  };

  it("sends nosniff, a deny-all CSP with frame-ancestors 'none', no-referrer and HSTS on https", async () => {
    for (const [what, send] of Object.entries(requests(https))) {
      const res = await send();
      expect(res.status, what).toBeLessThan(500);
      for (const [name, value] of Object.entries(EXPECTED)) {
        expect(res.headers.get(name), `${what}: ${name}`).toBe(value);
      }
      expect(res.headers.get("strict-transport-security"), what).toBe("max-age=31536000");
    }
  });

  it("sends no HSTS when the public URL is http, the rest as on https", async () => {
    admin = await http.login("admin", ADMIN_PASSWORD);
    await client(http.app, admin).put("/hdr-pkg", publishBody("hdr-pkg", "1.0.0"));
    for (const [what, send] of Object.entries(requests(http))) {
      const res = await send();
      for (const [name, value] of Object.entries(EXPECTED)) {
        expect(res.headers.get(name), `${what}: ${name}`).toBe(value);
      }
      expect(res.headers.get("strict-transport-security"), what).toBeNull();
    }
  });
});
