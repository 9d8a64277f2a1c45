import { mkdtemp, readFile, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";
import { resolveSecrets } from "./secrets.ts";

describe("loadConfig", () => {
  it("defaults to the embedded shape", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4873,
      host: "127.0.0.1",
      publicUrl: undefined,
      databaseUrl: undefined,
      s3: undefined,
    });
    expect(config.maxBodySize).toBeGreaterThanOrEqual(100 * 1024 * 1024);
    expect(path.isAbsolute(config.dataDir)).toBe(true);
  });

  it("selects PostgreSQL and S3 when configured, and parses sizes and flags", () => {
    const config = loadConfig({
      DATABASE_URL: "postgres://u@db/packr",
      S3_BUCKET: "tarballs",
      S3_ENDPOINT: "http://minio:9000",
      S3_FORCE_PATH_STYLE: "true",
      PACKR_MAX_BODY_SIZE: "1gb",
      PACKR_PUBLIC_URL: "https://npm.example.com/",
    });
    expect(config.databaseUrl).toBe("postgres://u@db/packr");
    expect(config.s3).toMatchObject({
      bucket: "tarballs",
      endpoint: "http://minio:9000",
      forcePathStyle: true,
      delivery: "redirect",
    });
    expect(config.maxBodySize).toBe(1024 ** 3);
    expect(config.publicUrl).toBe("https://npm.example.com");
  });

  it("names every bad variable at once", () => {
    expect(() =>
      loadConfig({ PORT: "http", PACKR_MAX_BODY_SIZE: "lots", PACKR_PUBLIC_URL: "not a url" }),
    ).toThrow(
      /PORT[\s\S]*PACKR_PUBLIC_URL[\s\S]*PACKR_MAX_BODY_SIZE|PORT[\s\S]*PACKR_MAX_BODY_SIZE[\s\S]*PACKR_PUBLIC_URL/,
    );
  });
});

describe("PACKR_SCOPED_DEFAULT_ACCESS", () => {
  it("defaults to restricted, as on npmjs", () => {
    expect(loadConfig({}).scopedDefaultAccess).toBe("restricted");
    expect(loadConfig({ PACKR_SCOPED_DEFAULT_ACCESS: "" }).scopedDefaultAccess).toBe("restricted");
  });

  it("takes restricted or public, in any case and with spaces around", () => {
    expect(loadConfig({ PACKR_SCOPED_DEFAULT_ACCESS: "public" }).scopedDefaultAccess).toBe(
      "public",
    );
    expect(loadConfig({ PACKR_SCOPED_DEFAULT_ACCESS: " Public " }).scopedDefaultAccess).toBe(
      "public",
    );
    expect(loadConfig({ PACKR_SCOPED_DEFAULT_ACCESS: "restricted" }).scopedDefaultAccess).toBe(
      "restricted",
    );
  });

  it.each(["private", "open", "true", "1"])(
    "refuses %j, naming the variable and the choices",
    (v) => {
      expect(() => loadConfig({ PACKR_SCOPED_DEFAULT_ACCESS: v })).toThrow(
        `PACKR_SCOPED_DEFAULT_ACCESS: expected restricted or public, got "${v}"`,
      );
    },
  );
});

describe("resolveSecrets", () => {
  it("generates missing secrets once into the data dir and reuses them", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "packr-secrets-"));
    const config = loadConfig({ PACKR_DATA_DIR: dir });
    const first = await resolveSecrets(config);
    expect(first.jwt.length).toBeGreaterThanOrEqual(32);
    expect(await resolveSecrets(config)).toEqual(first);
    expect((await stat(path.join(dir, "secrets.json"))).mode & 0o777).toBe(0o600);
    const withEnv = await resolveSecrets(
      loadConfig({ PACKR_DATA_DIR: dir, JWT_SECRET: "from-env" }),
    );
    expect(withEnv.jwt).toBe("from-env");
    expect(JSON.parse(await readFile(path.join(dir, "secrets.json"), "utf8")).jwt).toBe(first.jwt);
  });
});

describe("uplink configuration", () => {
  it("defaults to the public npm registry with a short max age", () => {
    const config = loadConfig({});
    expect(config.uplink).toEqual({
      url: "https://registry.npmjs.org",
      maxAgeMs: 120_000,
      timeoutMs: 10_000,
    });
    expect(config.privateScopes).toEqual([]);
  });

  it("an empty PACKR_UPLINK_URL disables the uplink", () => {
    expect(loadConfig({ PACKR_UPLINK_URL: "" }).uplink).toBeUndefined();
    expect(loadConfig({ PACKR_UPLINK_URL: "  " }).uplink).toBeUndefined();
  });

  it("parses the URL, durations and private scopes", () => {
    const config = loadConfig({
      PACKR_UPLINK_URL: "http://127.0.0.1:4874/",
      PACKR_UPLINK_MAX_AGE: "5m",
      PACKR_UPLINK_TIMEOUT: "1500ms",
      PACKR_PRIVATE_SCOPES: "@Acme, corp @acme",
    });
    expect(config.uplink).toEqual({
      url: "http://127.0.0.1:4874",
      maxAgeMs: 300_000,
      timeoutMs: 1500,
    });
    expect(config.privateScopes).toEqual(["acme", "corp"]);
    expect(loadConfig({ PACKR_UPLINK_MAX_AGE: "30" }).uplink?.maxAgeMs).toBe(30_000);
  });

  it("refuses a bad uplink URL, duration or scope, naming the variable", () => {
    expect(() => loadConfig({ PACKR_UPLINK_URL: "ftp://x" })).toThrow(/PACKR_UPLINK_URL/);
    expect(() => loadConfig({ PACKR_UPLINK_URL: "not a url" })).toThrow(/PACKR_UPLINK_URL/);
    expect(() => loadConfig({ PACKR_UPLINK_MAX_AGE: "soon" })).toThrow(/PACKR_UPLINK_MAX_AGE/);
    expect(() => loadConfig({ PACKR_PRIVATE_SCOPES: "@a/b" })).toThrow(/PACKR_PRIVATE_SCOPES/);
  });
});
