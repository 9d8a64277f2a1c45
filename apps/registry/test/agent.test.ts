import { makeTarball, publishBody } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

const README = `# auth-kit\n\nJWT authentication for HTTP servers.\n\n## Usage\n\n${"Explains. ".repeat(150)}\n`;
const DTS =
  "/** Sign a payload into a JWT. */\nexport declare function sign(payload: object): string;\n";

type Spec = {
  name: string;
  version: string;
  manifest?: Record<string, unknown>;
  files?: Record<string, string>;
  access?: "public" | "restricted";
};

/** The corpus every agent endpoint is tested against; real tarballs, analyzed by the real job. */
const CORPUS: Spec[] = [
  {
    name: "auth-kit",
    version: "1.2.0",
    manifest: {
      description: "JWT authentication middleware for HTTP servers",
      keywords: ["auth", "jwt"],
      types: "index.d.ts",
      scripts: { test: "vitest run" },
      dependencies: { "jose-lite": "^0.3.0", semver: "^7.0.0" },
      engines: { node: ">=18" },
      license: "MIT",
    },
    files: {
      "index.d.ts": DTS,
      "README.md": README,
      "test/a.test.js": "",
      ".github/workflows/ci.yml": "on: push",
    },
  },
  {
    name: "jose-lite",
    version: "0.1.0",
    manifest: { description: "JWT signing", engines: { node: ">=14" } },
  },
  {
    name: "jose-lite",
    version: "0.2.0",
    manifest: { description: "JWT signing", engines: { node: ">=18" } },
  },
  {
    name: "jose-lite",
    version: "0.3.0",
    // A cycle back to auth-kit.
    manifest: {
      description: "JWT signing",
      engines: { node: ">=22" },
      dependencies: { "auth-kit": "^1.0.0" },
    },
  },
  {
    name: "login-basic",
    version: "0.1.0",
    manifest: { description: "Simple login and password authentication" },
  },
  {
    name: "@acme/secret-auth",
    version: "1.0.0",
    manifest: {
      description: "Internal authentication for acme",
      dependencies: { "auth-kit": "^1.0.0", "@acme/hidden-dep": "^1.0.0" },
    },
  },
  {
    name: "@acme/open-dates",
    version: "1.0.0",
    access: "public",
    manifest: { description: "Date formatting and timezones" },
  },
  {
    name: "app-a",
    version: "1.0.0",
    manifest: { dependencies: { "auth-kit": "^1.0.0", express: "^5.0.0", zod: "^4.0.0" } },
  },
  {
    name: "app-b",
    version: "1.0.0",
    manifest: { dependencies: { "auth-kit": "^1.2.0", express: "^5.0.0" } },
  },
];

describe("agent API", () => {
  let reg: TestRegistry;
  let token: string;

  beforeAll(async () => {
    reg = await createTestRegistry();
    token = await reg.login("admin", ADMIN_PASSWORD);
    const api = client(reg.app, token);
    for (const spec of CORPUS) {
      const manifest = { name: spec.name, version: spec.version, ...spec.manifest };
      const bytes = await makeTarball(manifest, spec.files ?? {});
      const body = publishBody(spec.name, spec.version, {
        bytes,
        manifest,
        access: spec.access ?? null,
      });
      const res = await api.put(`/${spec.name.replace("/", "%2f")}`, body);
      expect(res.status, spec.name).toBe(201);
    }
    // Before the jobs run, the info says analysis is pending.
    const pending = await client(reg.app).get("/agent/auth-kit");
    expect(await pending.json()).toMatchObject({ analysis: "pending", quality: null, trust: null });
    // Per version an analysis and a package.published event, and the event of the org the first
    // @acme publish created.
    expect(await reg.runJobs()).toBe(2 * CORPUS.length + 1);
    await client(reg.app).get("/auth-kit/-/auth-kit-1.2.0.tgz");
  });
  afterAll(async () => reg.close());

  const anon = () => client(reg.app);
  const authed = () => client(reg.app, token);

  it("GET /agent/:pkg answers the latest version with score, breakdown, trust and downloads", async () => {
    const res = await anon().get("/agent/auth-kit");
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown> & {
      quality: { score: number; breakdown: { factor: string; points: number }[] };
    };
    expect(body).toMatchObject({
      name: "auth-kit",
      version: "1.2.0",
      analysis: "complete",
      description: "JWT authentication middleware for HTTP servers",
      license: "MIT",
      downloads: { lastWeek: 1, lastMonth: 1 },
      dependencies: { "jose-lite": "^0.3.0", semver: "^7.0.0" },
      trust: { hasCI: true, hasTests: true, hasTypes: true },
      deprecated: null,
      versionCount: 1,
    });
    expect(body.quality.score).toBe(95);
    expect(body.quality.breakdown.map((f) => f.factor)).toEqual([
      "base",
      "types",
      "tests",
      "ci",
      "readme",
      "maturity",
      "freshness",
    ]);
    expect((body.capabilities as { id: string }[]).map((c) => c.id)).toContain("authentication");
  });

  it("reads scoped names in both path forms, and keeps restricted ones from anonymous callers", async () => {
    for (const path of [
      "/agent/@acme%2Fopen-dates",
      "/agent/@acme/open-dates",
      "/agent/@acme%2fopen-dates/docs",
      "/agent/@acme/open-dates/docs",
    ]) {
      expect((await anon().get(path)).status, path).toBe(200);
    }
    for (const path of [
      "/agent/@acme%2Fsecret-auth",
      "/agent/@acme/secret-auth/deps",
      "/agent/@acme/secret-auth/docs",
      "/agent/@acme/secret-auth/recommendations",
      "/agent/@acme/secret-auth/latest?node=20",
      "/agent/@acme/secret-auth/previous?version=1.0.0",
      "/agent/@acme/nope",
      "/agent/compare?packages=auth-kit,@acme/secret-auth",
    ]) {
      await expectError(await anon().get(path), 401, "UNAUTHORIZED");
    }
    const res = await authed().get("/agent/@acme/secret-auth");
    expect(await res.json()).toMatchObject({ name: "@acme/secret-auth", access: "restricted" });
    await expectError(await authed().get("/agent/no-such-package"), 404, "NOT_FOUND");
    await expectError(await anon().get("/agent/no-such-package"), 404, "NOT_FOUND");
  });

  it("GET /agent/search ranks by capability relevance and quality, says why, and hides restricted packages", async () => {
    const res = await anon().get("/agent/search?q=authentication");
    const body = (await res.json()) as {
      recognizedCapabilities: { id: string }[];
      results: { name: string; reasons: string[]; qualityScore: number }[];
    };
    expect(body.recognizedCapabilities.map((c) => c.id)).toContain("authentication");
    const names = body.results.map((r) => r.name);
    expect(names[0]).toBe("auth-kit");
    expect(names).toContain("login-basic");
    expect(names).not.toContain("@acme/secret-auth");
    expect(body.results[0]?.reasons.join(" ")).toContain('capability "authentication"');
    const withToken = (await (
      await authed().get("/agent/search?q=authentication&limit=50")
    ).json()) as { results: { name: string }[] };
    expect(withToken.results.map((r) => r.name)).toContain("@acme/secret-auth");
    const dates = (await (await anon().get("/agent/search?q=date%20formatting")).json()) as {
      results: { name: string }[];
    };
    expect(dates.results.map((r) => r.name)).toEqual(["@acme/open-dates"]);
    const limited = (await (await anon().get("/agent/search?q=jwt&limit=1")).json()) as {
      results: unknown[];
    };
    expect(limited.results).toHaveLength(1);
    const none = (await (await anon().get("/agent/search?q=frobnicate")).json()) as {
      results: unknown[];
    };
    expect(none.results).toEqual([]);
  });

  it("GET /agent/compare puts packages side by side and picks one with a reason", async () => {
    const res = await anon().get("/agent/compare?packages=login-basic,auth-kit,@acme%2Fopen-dates");
    const body = (await res.json()) as {
      packages: { name: string }[];
      recommended: { name: string; reason: string };
    };
    expect(body.packages.map((p) => p.name)).toEqual([
      "login-basic",
      "auth-kit",
      "@acme/open-dates",
    ]);
    expect(body.recommended.name).toBe("auth-kit");
    expect(body.recommended.reason).toContain("highest quality score");
  });

  it("GET /agent/:pkg/deps resolves against the registry, bounded by depth, with cycles marked", async () => {
    const direct = (await (await anon().get("/agent/auth-kit/deps")).json()) as {
      nodes: { id: string; inRegistry: boolean; unresolved: string | null }[];
      edges: { from: string; to: string; cycle: boolean }[];
    };
    expect(direct.nodes.map((n) => n.id).sort()).toEqual([
      "auth-kit@1.2.0",
      "jose-lite@0.3.0",
      "semver@^7.0.0",
    ]);
    expect(direct.nodes.find((n) => n.id === "semver@^7.0.0")).toMatchObject({
      inRegistry: false,
      unresolved: "not in this registry",
    });
    const deep = (await (await anon().get("/agent/auth-kit/deps?depth=3")).json()) as {
      edges: { from: string; to: string; cycle: boolean }[];
    };
    expect(deep.edges).toContainEqual({
      from: "jose-lite@0.3.0",
      to: "auth-kit@1.2.0",
      range: "^1.0.0",
      kind: "dependency",
      cycle: true,
    });
    // A restricted dependency is invisible to anonymous callers but resolves for a reader.
    const secret = (await (await authed().get("/agent/@acme/secret-auth/deps")).json()) as {
      nodes: { id: string }[];
    };
    expect(secret.nodes.map((n) => n.id)).toContain("auth-kit@1.2.0");
    expect(secret.nodes.map((n) => n.id)).toContain("@acme/hidden-dep@^1.0.0");
  });

  it("GET /agent/:pkg/recommendations counts co-occurring dependencies among readable dependents", async () => {
    const body = (await (await anon().get("/agent/auth-kit/recommendations")).json()) as {
      dependents: number;
      recommendations: { name: string; count: number }[];
    };
    // jose-lite, app-a and app-b depend on auth-kit in public; @acme/secret-auth is not counted for anonymous callers.
    expect(body.dependents).toBe(3);
    expect(body.recommendations[0]).toEqual({ name: "express", count: 2, inRegistry: false });
    expect(body.recommendations.map((r) => r.name)).not.toContain("@acme/hidden-dep");
    const authedBody = (await (await authed().get("/agent/auth-kit/recommendations")).json()) as {
      dependents: number;
      recommendations: { name: string }[];
    };
    expect(authedBody.dependents).toBe(4);
    expect(authedBody.recommendations.map((r) => r.name)).toContain("@acme/hidden-dep");
  });

  it("GET /agent/:pkg/docs answers the typed docs from the .d.ts", async () => {
    const body = (await (await anon().get("/agent/auth-kit/docs")).json()) as Record<
      string,
      unknown
    >;
    expect(body).toMatchObject({
      name: "auth-kit",
      version: "1.2.0",
      kind: "typed",
      status: "ready",
      markdown: null,
    });
    expect(body.entries).toMatchObject([
      { kind: "function", name: "sign", doc: "Sign a payload into a JWT." },
    ]);
  });

  it("GET /agent/:pkg/latest and /previous pick versions that can run", async () => {
    expect(await (await anon().get("/agent/jose-lite/latest?node=20.11.1")).json()).toMatchObject({
      version: "0.2.0",
      node: "20.11.1",
      enginesNode: ">=18",
    });
    expect(await (await anon().get("/agent/jose-lite/latest?node=v22")).json()).toMatchObject({
      version: "0.3.0",
    });
    expect(await (await anon().get("/agent/jose-lite/latest?node=16")).json()).toMatchObject({
      version: "0.1.0",
    });
    await expectError(await anon().get("/agent/jose-lite/latest?node=12"), 404, "NOT_FOUND");
    expect(
      await (await anon().get("/agent/jose-lite/previous?version=0.3.0")).json(),
    ).toMatchObject({ version: "0.3.0", previous: { version: "0.2.0" } });
    await expectError(
      await anon().get("/agent/jose-lite/previous?version=0.1.0"),
      404,
      "NOT_FOUND",
    );
    await expectError(
      await anon().get("/agent/jose-lite/previous?version=9.9.9"),
      404,
      "NOT_FOUND",
    );
  });

  it("refuses hostile names and bad query parameters with 400s, never 5xx", async () => {
    for (const path of [
      "/agent/..%2f..%2fetc%2fpasswd",
      "/agent/%00evil",
      `/agent/${"a".repeat(400)}`,
      "/agent/@acme%2f..",
      "/agent/.hidden/deps",
      "/agent/search",
      "/agent/search?q=",
      `/agent/search?q=${"x".repeat(300)}`,
      "/agent/search?q=auth&limit=0",
      "/agent/search?q=auth&limit=abc",
      "/agent/search?q=auth&limit=1000",
      "/agent/compare",
      "/agent/compare?packages=auth-kit",
      `/agent/compare?packages=${Array.from({ length: 11 }, (_, i) => `p${i}`).join(",")}`,
      "/agent/compare?packages=auth-kit,..%2fx",
      "/agent/auth-kit/deps?depth=0",
      "/agent/auth-kit/deps?depth=6",
      "/agent/auth-kit/deps?depth=two",
      "/agent/auth-kit/latest",
      "/agent/auth-kit/latest?node=banana",
      "/agent/auth-kit/latest?node=20.1.2.3",
      "/agent/auth-kit/previous",
      "/agent/auth-kit/previous?version=not-a-version",
    ]) {
      const res = await anon().get(path);
      expect(res.status, path).toBe(400);
      const body = (await res.json()) as { code: string };
      expect(["VALIDATION", "INVALID_PACKAGE_NAME"], path).toContain(body.code);
    }
  });

  it("describes every agent route in GET /openapi.json", async () => {
    const doc = (await (await anon().get("/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual(
      expect.arrayContaining([
        "/agent/search",
        "/agent/compare",
        "/agent/{pkg}",
        "/agent/{pkg}/deps",
        "/agent/{pkg}/recommendations",
        "/agent/{pkg}/docs",
        "/agent/{pkg}/latest",
        "/agent/{pkg}/previous",
      ]),
    );
  });
});
