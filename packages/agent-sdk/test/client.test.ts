import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPackrClient, PackrApiError, PackrNetworkError } from "../src/index.ts";
import { type BootedRegistry, bootRegistry } from "./boot-registry.ts";

describe("@packr/agent against a booted registry", () => {
  let reg: BootedRegistry;
  beforeAll(async () => {
    reg = await bootRegistry();
  });
  afterAll(async () => reg?.stop());

  it("calls every endpoint with typed results", async () => {
    const packr = createPackrClient({ registry: `${reg.url}/`, token: reg.token });
    const info = await packr.getPackage("auth-kit");
    expect(info).toMatchObject({
      name: "auth-kit",
      version: "1.1.0",
      analysis: "complete",
      trust: { hasTypes: true },
    });
    expect(info.quality?.breakdown).toHaveLength(7);
    const found = await packr.search("authentication");
    expect(found.results.map((r) => r.name)).toEqual(
      expect.arrayContaining(["auth-kit", "@acme/private-auth"]),
    );
    const compared = await packr.compare(["auth-kit", "date-kit"]);
    expect(compared.recommended.name).toBe("auth-kit");
    const deps = await packr.getDependencies("auth-kit", { depth: 2 });
    expect(deps.nodes.map((n) => n.id)).toContain("date-kit@2.0.0");
    const recs = await packr.getRecommendations("auth-kit");
    expect(recs.recommendations).toEqual([{ name: "date-kit", count: 1, inRegistry: true }]);
    const docs = await packr.getDocs("auth-kit");
    expect(docs).toMatchObject({
      kind: "typed",
      entries: [{ name: "sign", doc: "Sign a token." }],
    });
    expect((await packr.getLatestForNode("auth-kit", "20")).version).toBe("1.0.0");
    expect((await packr.getPreviousVersion("auth-kit", "1.1.0")).previous.version).toBe("1.0.0");
    expect(await packr.getDownloads("@acme/private-auth")).toMatchObject({
      downloads: 0,
      package: "@acme/private-auth",
    });
    expect((await packr.getPackage("@acme/private-auth")).access).toBe("restricted");
  });

  it("throws typed errors carrying the Packr code, and does not retry client errors", async () => {
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const anon = createPackrClient({ registry: reg.url, fetch: counting });
    const err = await anon.getPackage("@acme/private-auth").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackrApiError);
    expect(err).toMatchObject({ code: "UNAUTHORIZED", status: 401 });
    expect((err as PackrApiError).requestId).toBeTruthy();
    expect(calls).toBe(1);
    await expect(anon.getPackage("nope-nope")).rejects.toMatchObject({
      code: "NOT_FOUND",
      status: 404,
    });
    await expect(anon.getDependencies("auth-kit", { depth: 9 })).rejects.toMatchObject({
      code: "VALIDATION",
      status: 400,
    });
  });
});

describe("@packr/agent retries and timeouts (local HTTP server)", () => {
  let server: Server;
  let url: string;
  let answers: { status: number; body: unknown; delayMs?: number }[] = [];
  let hits = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++;
      const next = answers.shift() ?? {
        status: 500,
        body: { error: "no answer queued", code: "INTERNAL" },
      };
      setTimeout(() => {
        res.writeHead(next.status, { "content-type": "application/json" });
        res.end(JSON.stringify(next.body));
      }, next.delayMs ?? 0);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("retries 5xx and 429, then succeeds", async () => {
    hits = 0;
    answers = [
      { status: 503, body: { error: "busy", code: "UNAVAILABLE" } },
      { status: 429, body: { error: "slow down", code: "RATE_LIMITED" } },
      { status: 200, body: { downloads: 3, start: "a", end: "b", package: "x" } },
    ];
    const packr = createPackrClient({ registry: url, retries: 2 });
    expect(await packr.getDownloads("x")).toMatchObject({ downloads: 3 });
    expect(hits).toBe(3);
  });

  it("gives up after the retries with the last error", async () => {
    hits = 0;
    answers = [
      { status: 500, body: { error: "boom", code: "INTERNAL", requestId: "r1" } },
      { status: 500, body: { error: "boom again", code: "INTERNAL", requestId: "r2" } },
    ];
    const packr = createPackrClient({ registry: url, retries: 1 });
    await expect(packr.getPackage("x")).rejects.toMatchObject({
      code: "INTERNAL",
      message: "boom again",
      requestId: "r2",
    });
    expect(hits).toBe(2);
  });

  it("sends a write once: a lost or failed answer to it is not retried", async () => {
    hits = 0;
    answers = [
      { status: 503, body: { error: "busy", code: "UNAVAILABLE" } },
      { status: 201, body: { org: {} } },
    ];
    const packr = createPackrClient({ registry: url, retries: 2 });
    await expect(packr.orgs.create({ name: "acme" })).rejects.toMatchObject({
      code: "UNAVAILABLE",
      status: 503,
    });
    expect(hits).toBe(1);
    answers = [];
  });

  it("times out a slow answer as a PackrNetworkError", async () => {
    answers = [{ status: 200, body: {}, delayMs: 1500 }];
    const packr = createPackrClient({ registry: url, timeoutMs: 200, retries: 0 });
    const err = await packr.getPackage("x").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackrNetworkError);
    expect(err).toMatchObject({ code: "TIMEOUT" });
  });

  it("refuses a registry that is not an http(s) URL", () => {
    expect(() => createPackrClient({ registry: "not a url" })).toThrow(TypeError);
    expect(() => createPackrClient({ registry: "file:///etc" })).toThrow(TypeError);
  });
});

describe("the build", () => {
  it("emits ESM and type declarations into dist/ that import and work", {
    timeout: 120_000,
  }, async () => {
    const dir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
    const tsc = path.join(dir, "node_modules", ".bin", "tsc");
    await promisify(execFile)(tsc, ["-p", "tsconfig.build.json"], { cwd: dir });
    for (const f of ["index.js", "index.d.ts", "client.d.ts", "schemas.js", "schemas.d.ts"]) {
      expect(existsSync(path.join(dir, "dist", f)), f).toBe(true);
    }
    const built = (await import(
      path.join(dir, "dist", "index.js")
    )) as typeof import("../src/index.ts");
    expect(typeof built.createPackrClient).toBe("function");
    expect(new built.PackrApiError("m", { code: "NOT_FOUND", status: 404 }).code).toBe("NOT_FOUND");
  });
});
