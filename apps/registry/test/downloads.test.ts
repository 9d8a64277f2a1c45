import { publishBody } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN_PASSWORD,
  createTestRegistry,
  startRegistryProcess,
  type TestRegistry,
} from "./harness.ts";
import { client, expectError } from "./http.ts";

/** Rows of a raw query: postgres-js answers an array, PGlite `{rows}`. */
async function rowsOf(reg: TestRegistry, query: string): Promise<unknown[]> {
  const res = (await reg.runtime.deps.db.execute(query)) as unknown as
    | { rows?: unknown[] }
    | unknown[];
  return Array.isArray(res) ? [...res] : (res.rows ?? []);
}

const today = () => new Date().toISOString().slice(0, 10);

describe("download counts", () => {
  let reg: TestRegistry;
  let token: string;

  beforeAll(async () => {
    reg = await createTestRegistry();
    token = await reg.login("admin", ADMIN_PASSWORD);
    const api = client(reg.app, token);
    for (const [name, version, access] of [
      ["dl-public", "1.0.0", null],
      ["dl-public", "1.1.0", null],
      ["@acme/dl-private", "1.0.0", null],
      ["@acme/dl-open", "1.0.0", "public"],
    ] as const) {
      const res = await api.put(
        `/${name.replace("/", "%2f")}`,
        publishBody(name, version, { access }),
      );
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => reg.close());

  it("counts every tarball GET (not HEAD) per version, in memory, and flushes them into usage_metrics", async () => {
    const anon = client(reg.app);
    for (let i = 0; i < 3; i++)
      expect((await anon.get("/dl-public/-/dl-public-1.0.0.tgz")).status).toBe(200);
    expect((await anon.get("/dl-public/-/dl-public-1.1.0.tgz")).status).toBe(200);
    expect((await anon.head("/dl-public/-/dl-public-1.0.0.tgz")).status).toBe(200);
    // Before the flush: this instance adds what it has not written yet.
    const before = await anon.get("/-/downloads/point/last-day/dl-public");
    expect(await before.json()).toEqual({
      downloads: 4,
      start: today(),
      end: today(),
      package: "dl-public",
    });
    expect(await rowsOf(reg, "select count(*)::int as n from usage_metrics")).toEqual([{ n: 0 }]);

    await reg.runtime.deps.downloads.flush();
    const list = await rowsOf(
      reg,
      "select version, day::text as day, downloads::int as downloads from usage_metrics order by version",
    );
    expect(list).toEqual([
      { version: "1.0.0", day: today(), downloads: 3 },
      { version: "1.1.0", day: today(), downloads: 1 },
    ]);
    // A second flush batch adds to the same rows.
    await anon.get("/dl-public/-/dl-public-1.0.0.tgz");
    await reg.runtime.deps.downloads.flush();
    const week = await anon.get("/-/downloads/point/last-week/dl-public");
    expect(await week.json()).toMatchObject({ downloads: 5, end: today(), package: "dl-public" });
  });

  it("answers every period form of npm's API, scoped names in both path forms", async () => {
    const anon = client(reg.app);
    await anon.get("/@acme/dl-open/-/dl-open-1.0.0.tgz");
    for (const path of [
      "/-/downloads/point/last-month/@acme%2fdl-open",
      "/-/downloads/point/last-year/@acme/dl-open",
      `/-/downloads/point/${today()}/@acme%2Fdl-open`,
      `/-/downloads/point/2020-01-01:${today()}/@acme/dl-open`.replace(
        "2020-01-01",
        new Date(Date.now() - 100 * 86_400_000).toISOString().slice(0, 10),
      ),
    ]) {
      const res = await anon.get(path);
      expect(res.status, path).toBe(200);
      expect(await res.json()).toMatchObject({
        downloads: 1,
        package: "@acme/dl-open",
        end: today(),
      });
    }
    const past = await anon.get("/-/downloads/point/2001-01-01:2001-01-31/dl-public");
    expect(await past.json()).toEqual({
      downloads: 0,
      start: "2001-01-01",
      end: "2001-01-31",
      package: "dl-public",
    });
  });

  it("keeps restricted counts from anonymous callers, like the packument", async () => {
    const anon = client(reg.app);
    await expectError(
      await anon.get("/-/downloads/point/last-week/@acme%2fdl-private"),
      401,
      "UNAUTHORIZED",
    );
    // A missing scoped name looks the same to an anonymous caller.
    await expectError(
      await anon.get("/-/downloads/point/last-week/@acme/nope"),
      401,
      "UNAUTHORIZED",
    );
    const res = await client(reg.app, token).get("/-/downloads/point/last-week/@acme%2fdl-private");
    expect(res.status).toBe(200);
    await expectError(
      await client(reg.app, token).get("/-/downloads/point/last-week/nope"),
      404,
      "NOT_FOUND",
    );
  });

  it("refuses bad periods and hostile names as client errors", async () => {
    const anon = client(reg.app);
    for (const period of [
      "last-century",
      "2024-13-01",
      "2024-02-30",
      "2024-05-01:2024-04-01",
      "2020-01-01:2024-01-01",
      "a:b:c",
      "%E0%A4%A",
    ]) {
      await expectError(
        await anon.get(`/-/downloads/point/${period}/dl-public`),
        400,
        "VALIDATION",
      );
    }
    for (const name of [
      "..%2f..%2fetc%2fpasswd",
      "%00evil",
      "@acme%2f..",
      "a".repeat(300),
      "%E0%A4%A",
    ]) {
      const res = await anon.get(`/-/downloads/point/last-week/${name}`);
      expect(res.status, name).toBeGreaterThanOrEqual(400);
      expect(res.status, name).toBeLessThan(500);
    }
    await expectError(await anon.get("/-/downloads/point/last-week"), 400, "VALIDATION");
    await expectError(
      await anon.get("/-/downloads/point/last-week/dl-public/extra"),
      400,
      "VALIDATION",
    );
  });
});

describe("download counts on a graceful shutdown", () => {
  it("writes what was counted when the process gets SIGTERM", { timeout: 300_000 }, async () => {
    const first = await startRegistryProcess();
    const login = await fetch(`${first.url}/-/v1/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "admin", password: first.adminPassword }),
    });
    const { token: admin } = (await login.json()) as { token: string };
    const put = await fetch(`${first.url}/shutdown-pkg`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${admin}` },
      body: JSON.stringify(publishBody("shutdown-pkg", "1.0.0")),
    });
    expect(put.status).toBe(201);
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${first.url}/shutdown-pkg/-/shutdown-pkg-1.0.0.tgz`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    await first.stop();
    const second = await startRegistryProcess({ dataDir: first.dataDir, port: first.port });
    try {
      const res = await fetch(`${second.url}/-/downloads/point/last-day/shutdown-pkg`);
      expect(await res.json()).toMatchObject({ downloads: 2, package: "shutdown-pkg" });
    } finally {
      await second.stop();
    }
  });
});
