import { mkdtemp, readFile, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, loadDashboardConfig } from "./config.ts";
import { describeDuration, parseDuration } from "./duration.ts";
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

  it("reads retired JWT secrets as a comma list (none by default)", () => {
    expect(loadConfig({}).jwtPreviousSecrets).toEqual([]);
    expect(
      loadConfig({ JWT_PREVIOUS_SECRETS: " old-one , ,older-two " }).jwtPreviousSecrets,
    ).toEqual(["old-one", "older-two"]);
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

  it("keeps reads open unless PACKR_READ_REQUIRES_AUTH turns private-by-login on", () => {
    expect(loadConfig({}).readRequiresAuth).toBe(false);
    expect(loadConfig({ PACKR_READ_REQUIRES_AUTH: "" }).readRequiresAuth).toBe(false);
    expect(loadConfig({ PACKR_READ_REQUIRES_AUTH: "false" }).readRequiresAuth).toBe(false);
    expect(loadConfig({ PACKR_READ_REQUIRES_AUTH: "true" }).readRequiresAuth).toBe(true);
    expect(loadConfig({ PACKR_READ_REQUIRES_AUTH: "1" }).readRequiresAuth).toBe(true);
    // A typo must not silently leave a private registry open.
    expect(() => loadConfig({ PACKR_READ_REQUIRES_AUTH: "ture" })).toThrow(
      /PACKR_READ_REQUIRES_AUTH/,
    );
  });

  it("names every bad variable at once", () => {
    expect(() =>
      loadConfig({ PORT: "http", PACKR_MAX_BODY_SIZE: "lots", PACKR_PUBLIC_URL: "not a url" }),
    ).toThrow(
      /PORT[\s\S]*PACKR_PUBLIC_URL[\s\S]*PACKR_MAX_BODY_SIZE|PORT[\s\S]*PACKR_MAX_BODY_SIZE[\s\S]*PACKR_PUBLIC_URL/,
    );
  });
});

describe("PACKR_SIGNUP", () => {
  it("is closed by default, never open, and does not allow-list PACKR_ADMIN_EMAIL's domain", () => {
    expect(loadConfig({}).signup).toMatchObject({ mode: "closed", modeSource: "default" });
    expect(loadConfig({ PACKR_ADMIN_EMAIL: "me@gmail.com" }).signup).toMatchObject({
      mode: "closed",
      emailDomains: [],
    });
  });

  it("becomes an allow-list when one is set, and parses every list", () => {
    const s = loadConfig({
      PACKR_SIGNUP_EMAIL_DOMAINS: "Acme.test, acme.de",
      PACKR_SIGNUP_GITHUB_ORGS: "Acme-Corp",
      PACKR_SIGNUP_GITLAB_GROUPS: "acme/Platform acme/release",
      PACKR_SIGNUP_OIDC_CLAIMS: "groups:platform, https://acme.test/roles:release",
    }).signup;
    expect(s).toMatchObject({
      mode: "allowlist",
      modeSource: "allow-lists set",
      emailDomains: ["acme.test", "acme.de"],
      githubOrgs: ["acme-corp"],
      gitlabGroups: ["acme/platform", "acme/release"],
      oidcClaims: [
        { claim: "groups", value: "platform" },
        { claim: "https://acme.test/roles", value: "release" },
      ],
      linkTrustedProviders: ["github", "google", "email"],
    });
  });

  it("takes PACKR_SIGNUP, and PACKR_ALLOW_SIGNUP=true as the old spelling of open", () => {
    expect(loadConfig({ PACKR_SIGNUP: "open" }).signup.mode).toBe("open");
    expect(loadConfig({ PACKR_ALLOW_SIGNUP: "true" }).signup).toMatchObject({
      mode: "open",
      modeSource: "PACKR_ALLOW_SIGNUP",
    });
    expect(
      loadConfig({ PACKR_SIGNUP: "closed", PACKR_SIGNUP_EMAIL_DOMAINS: "acme.test" }).signup.mode,
    ).toBe("closed");
    expect(loadConfig({ PACKR_LINK_TRUSTED_PROVIDERS: "github, gitlab" }).signup).toMatchObject({
      linkTrustedProviders: ["github", "gitlab"],
    });
    expect(loadConfig({ PACKR_LINK_TRUSTED_PROVIDERS: "" }).signup.linkTrustedProviders).toEqual(
      [],
    );
  });

  it("refuses contradictions and malformed entries", () => {
    expect(() => loadConfig({ PACKR_SIGNUP: "allowlist" })).toThrow(/needs at least one of/);
    expect(() => loadConfig({ PACKR_SIGNUP: "closed", PACKR_ALLOW_SIGNUP: "true" })).toThrow(
      /PACKR_ALLOW_SIGNUP=true means PACKR_SIGNUP=open/,
    );
    expect(() => loadConfig({ PACKR_SIGNUP: "anyone" })).toThrow(/PACKR_SIGNUP/);
    expect(() => loadConfig({ PACKR_SIGNUP_EMAIL_DOMAINS: "@acme.test" })).toThrow(/a domain/);
    expect(() => loadConfig({ PACKR_SIGNUP_OIDC_CLAIMS: "groups" })).toThrow(/claim:value/);
    expect(() => loadConfig({ PACKR_LINK_TRUSTED_PROVIDERS: "github,myspace" })).toThrow(/myspace/);
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
      anonymousMissesPerMinute: 60,
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
      anonymousMissesPerMinute: 60,
    });
    expect(config.privateScopes).toEqual(["acme", "corp"]);
    expect(
      loadConfig({ PACKR_UPLINK_ANONYMOUS_MISSES: "0" }).uplink?.anonymousMissesPerMinute,
    ).toBe(0);
    expect(() => loadConfig({ PACKR_UPLINK_ANONYMOUS_MISSES: "-1" })).toThrow();
    // DESIGN §10: a bare number is milliseconds.
    expect(loadConfig({ PACKR_UPLINK_MAX_AGE: "30000" }).uplink?.maxAgeMs).toBe(30_000);
  });

  it("refuses a bad uplink URL, duration or scope, naming the variable", () => {
    expect(() => loadConfig({ PACKR_UPLINK_URL: "ftp://x" })).toThrow(/PACKR_UPLINK_URL/);
    expect(() => loadConfig({ PACKR_UPLINK_URL: "not a url" })).toThrow(/PACKR_UPLINK_URL/);
    expect(() => loadConfig({ PACKR_UPLINK_MAX_AGE: "soon" })).toThrow(/PACKR_UPLINK_MAX_AGE/);
    expect(() => loadConfig({ PACKR_PRIVATE_SCOPES: "@a/b" })).toThrow(/PACKR_PRIVATE_SCOPES/);
  });
});

describe("token expiry range", () => {
  it("defaults to 5 minutes to 90 days and reads both settings as durations", () => {
    expect(loadConfig({}).tokenTtl).toEqual({ minMs: 300_000, maxMs: 90 * 86_400_000 });
    expect(loadConfig({ PACKR_TOKEN_MIN_TTL: "1s", PACKR_TOKEN_MAX_TTL: "2h" }).tokenTtl).toEqual({
      minMs: 1000,
      maxMs: 7_200_000,
    });
    expect(loadConfig({ PACKR_TOKEN_MIN_TTL: "90000" }).tokenTtl.minMs).toBe(90_000);
  });

  it("refuses a malformed, sub-second or inverted range, naming the variable", () => {
    expect(() => loadConfig({ PACKR_TOKEN_MAX_TTL: "a week" })).toThrow(/PACKR_TOKEN_MAX_TTL/);
    expect(() => loadConfig({ PACKR_TOKEN_MIN_TTL: "500ms" })).toThrow(/PACKR_TOKEN_MIN_TTL/);
    expect(() => loadConfig({ PACKR_TOKEN_MIN_TTL: "2d", PACKR_TOKEN_MAX_TTL: "1d" })).toThrow(
      /PACKR_TOKEN_MIN_TTL/,
    );
  });
});

describe("blob sweeper", () => {
  it("defaults to an hour's grace, every hour; reads durations; 0 turns it off", () => {
    expect(loadConfig({}).blobSweep).toEqual({ graceMs: 3_600_000, intervalMs: 3_600_000 });
    expect(
      loadConfig({ PACKR_BLOB_SWEEP_GRACE: "2h", PACKR_BLOB_SWEEP_INTERVAL: "0" }).blobSweep,
    ).toEqual({ graceMs: 7_200_000, intervalMs: 0 });
    expect(() => loadConfig({ PACKR_BLOB_SWEEP_GRACE: "soon" })).toThrow(/PACKR_BLOB_SWEEP_GRACE/);
  });
});

describe("parseDuration / describeDuration", () => {
  it("reads a number with a unit; a bare number is milliseconds", () => {
    expect(["500ms", "30s", "15m", "2h", "7d", "250", " 3 H "].map(parseDuration)).toEqual([
      500, 30_000, 900_000, 7_200_000, 604_800_000, 250, 10_800_000,
    ]);
    for (const bad of ["", "soon", "1.5h", "-5m", "5 minutes", "15mm", "1w", "9".repeat(20)]) {
      expect(parseDuration(bad), bad).toBeNull();
    }
  });

  it("names a duration in its largest whole unit", () => {
    expect([300_000, 90 * 86_400_000, 3_600_000, 1000, 90_000, 1500].map(describeDuration)).toEqual(
      ["5 minutes", "90 days", "1 hour", "1 second", "90 seconds", "1500 ms"],
    );
  });
});

describe("where Packr listens (DESIGN §10)", () => {
  it("takes PACKR_PORT over PORT over 4873, and each app's default URL follows the other's port", () => {
    expect(loadConfig({ PORT: "5000" }).port).toBe(5000);
    const both = loadConfig({ PORT: "5000", PACKR_PORT: "6000", PACKR_DASHBOARD_PORT: "6001" });
    expect(both.port).toBe(6000);
    expect(both.dashboardPort).toBe(6001);
    expect(both.dashboardUrl).toBe("http://localhost:6001");
    const dash = loadDashboardConfig({ PACKR_PORT: "6000", PACKR_DASHBOARD_PORT: "6001" });
    expect(dash).toMatchObject({
      registryUrl: "http://localhost:6000",
      dashboardUrl: "http://localhost:6001",
    });
    expect(loadDashboardConfig({})).toMatchObject({
      registryUrl: "http://localhost:4873",
      dashboardUrl: "http://localhost:3000",
    });
    // Explicit URLs win; a non-loopback HOST is its own name.
    expect(
      loadDashboardConfig({ PACKR_REGISTRY_URL: "https://npm.example.com/", PACKR_PORT: "6000" })
        .registryUrl,
    ).toBe("https://npm.example.com");
    expect(loadDashboardConfig({ HOST: "10.1.2.3", PACKR_PORT: "6000" }).registryUrl).toBe(
      "http://10.1.2.3:6000",
    );
  });

  it("reads PACKR_ADMIN_EMAIL and PACKR_LOG_FORMAT, refusing bad values by name", () => {
    const c = loadConfig({ PACKR_ADMIN_EMAIL: " Ops@Example.com ", PACKR_LOG_FORMAT: "json" });
    expect(c.adminEmail).toBe("ops@example.com");
    expect(c.logFormat).toBe("json");
    expect(loadConfig({}).logFormat).toBe("auto");
    expect(() =>
      loadConfig({
        PACKR_ADMIN_EMAIL: "not-an-email",
        PACKR_LOG_FORMAT: "xml",
        PACKR_PORT: "70000",
      }),
    ).toThrow(/PACKR_ADMIN_EMAIL[\s\S]*PACKR_LOG_FORMAT|PACKR_PORT/);
    expect(() => loadConfig({ PACKR_DASHBOARD_PORT: "-1" })).toThrow(/PACKR_DASHBOARD_PORT/);
  });
});
