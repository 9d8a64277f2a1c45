/**
 * Whose address a request is: X-Forwarded-For is believed only from PACKR_TRUSTED_PROXIES, walked
 * from the right, so a client cannot pick its own address to escape the limits. And the password
 * limits are shared by every instance on one PostgreSQL.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ensureAdminUser, loadConfig, schema } from "@packr/core";
import { createScratchDatabase } from "@packr/core/testing";
import { and, eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { createApp, type RegistryApp } from "../src/app.ts";
import { createRuntime, type Runtime } from "../src/runtime.ts";
import { ADMIN_PASSWORD, createTestRegistry, fromPeer, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

const registries: TestRegistry[] = [];
afterAll(async () => {
  for (const r of registries) await r.close();
});

/** Ask for a device code through `app` and return the client address the registry stored. */
async function recordedAddress(
  reg: TestRegistry,
  app: RegistryApp,
  xff?: string,
): Promise<string | null> {
  const res = await client(app).post(
    "/-/v1/device/authorize",
    {},
    xff ? { "x-forwarded-for": xff } : {},
  );
  expect(res.status).toBe(200);
  const { user_code } = (await res.json()) as { user_code: string };
  const [row] = await reg.runtime.deps.db
    .select({ ip: schema.deviceCodes.clientIp })
    .from(schema.deviceCodes)
    .where(eq(schema.deviceCodes.userCode, user_code));
  return row?.ip ?? null;
}

describe("with no trusted proxies (the default)", () => {
  it("ignores a spoofed X-Forwarded-For: the socket's address is the one limited", async () => {
    const reg = await createTestRegistry();
    registries.push(reg);
    const app = fromPeer(reg.app, "203.0.113.50");
    expect(await recordedAddress(reg, app, "1.2.3.4")).toBe("203.0.113.50");
    // 20 device authorizations a minute per address, each "from" a new forwarded address:
    // all count against the socket's one address.
    for (let i = 1; i < 20; i++) await recordedAddress(reg, app, `198.18.0.${i}`);
    const refused = await client(app).post(
      "/-/v1/device/authorize",
      {},
      { "x-forwarded-for": "198.18.1.1" },
    );
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    await expectError(refused, 429, "RATE_LIMITED");
    // Another socket address is not affected.
    expect(await recordedAddress(reg, fromPeer(reg.app, "203.0.113.51"))).toBe("203.0.113.51");
  });

  it("ignores it for wrong passwords too", async () => {
    const reg = await createTestRegistry();
    registries.push(reg);
    const app = fromPeer(reg.app, "203.0.113.60");
    const login = (xff: string, password: string) =>
      client(app).post("/-/v1/login", { name: "admin", password }, { "x-forwarded-for": xff });
    for (let i = 0; i < 10; i++)
      await expectError(await login(`198.18.2.${i}`, `wrong-${i}`), 401, "UNAUTHORIZED");
    await expectError(await login("198.18.3.1", ADMIN_PASSWORD), 429, "RATE_LIMITED");
  }, 120_000);
});

describe("behind trusted proxies", () => {
  it("uses the hop the trusted proxy saw, and the rightmost untrusted hop of a chain", async () => {
    const reg = await createTestRegistry({ PACKR_TRUSTED_PROXIES: "10.0.0.0/8, fd00::/8" });
    registries.push(reg);
    const proxy = fromPeer(reg.app, "10.0.0.2");
    expect(await recordedAddress(reg, proxy, "198.51.100.9")).toBe("198.51.100.9");
    expect(await recordedAddress(reg, fromPeer(reg.app, "::ffff:10.0.0.2"), "198.51.100.8")).toBe(
      "198.51.100.8",
    );
    // A client that sends its own X-Forwarded-For gets its made-up entry kept on the left.
    expect(await recordedAddress(reg, proxy, "6.6.6.6, 198.51.100.10, 10.9.9.9")).toBe(
      "198.51.100.10",
    );
    // No header from a trusted proxy: the proxy itself.
    expect(await recordedAddress(reg, proxy)).toBe("10.0.0.2");
    // A peer outside the list is not believed.
    expect(await recordedAddress(reg, fromPeer(reg.app, "203.0.113.7"), "198.51.100.11")).toBe(
      "203.0.113.7",
    );
    // Changing the spoofed leftmost entry does not escape the limit of the real hop.
    for (let i = 0; i < 20; i++)
      await recordedAddress(reg, proxy, `6.6.${i}.6, 198.51.100.12, 10.9.9.9`);
    await expectError(
      await client(proxy).post(
        "/-/v1/device/authorize",
        {},
        { "x-forwarded-for": "7.7.7.7, 198.51.100.12, 10.9.9.9" },
      ),
      429,
      "RATE_LIMITED",
    );
  });

  it("PACKR_TRUST_PROXY=true (deprecated) trusts loopback only", async () => {
    const reg = await createTestRegistry({ PACKR_TRUST_PROXY: "true" });
    registries.push(reg);
    expect(await recordedAddress(reg, fromPeer(reg.app, "127.0.0.1"), "198.51.100.20")).toBe(
      "198.51.100.20",
    );
    expect(await recordedAddress(reg, fromPeer(reg.app, "10.0.0.2"), "198.51.100.21")).toBe(
      "10.0.0.2",
    );
  });
});

describe.skipIf(!process.env.DATABASE_URL)("two instances on one PostgreSQL", () => {
  it("share the password limits: attempts on A count on B", async () => {
    const db = await createScratchDatabase(process.env.DATABASE_URL as string);
    const dirs: string[] = [];
    const runtimes: Runtime[] = [];
    try {
      const instance = async () => {
        const dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-two-"));
        dirs.push(dataDir);
        const runtime = await createRuntime(
          loadConfig({
            DATABASE_URL: db.url,
            PACKR_DATA_DIR: dataDir,
            PACKR_PUBLIC_URL: "http://registry.test",
            PACKR_LOG_LEVEL: "silent",
            PACKR_UPLINK_URL: "",
            PACKR_RUN_JOBS: "false",
            // Shared secrets, as a scale-out deployment has.
            JWT_SECRET: "j".repeat(48),
            SESSION_SECRET: "s".repeat(48),
            INTERNAL_API_SECRET: "i".repeat(48),
          }),
        );
        runtimes.push(runtime);
        return fromPeer(createApp(runtime), "203.0.113.77");
      };
      const a = await instance();
      const b = await instance();
      await ensureAdminUser(
        {
          deps: runtimes[0]?.deps as Runtime["deps"],
          actor: { type: "system", reason: "t" },
          requestId: "t",
        },
        ADMIN_PASSWORD,
      );
      const login = (app: RegistryApp, password: string) =>
        client(app).post("/-/v1/login", { name: "admin", password });
      // Five wrong on each: neither alone is over 10, together they are.
      for (let i = 0; i < 5; i++) {
        await expectError(await login(a, `wrong-a-${i}`), 401, "UNAUTHORIZED");
        await expectError(await login(b, `wrong-b-${i}`), 401, "UNAUTHORIZED");
      }
      await expectError(await login(a, ADMIN_PASSWORD), 429, "RATE_LIMITED");
      await expectError(await login(b, ADMIN_PASSWORD), 429, "RATE_LIMITED");
      const [row] = await (runtimes[1] as Runtime).deps.db
        .select()
        .from(schema.authRateLimits)
        .where(
          and(
            eq(schema.authRateLimits.bucket, "password.address"),
            eq(schema.authRateLimits.key, "203.0.113.77"),
          ),
        );
      expect(row?.count).toBeGreaterThanOrEqual(11);
    } finally {
      for (const r of runtimes) await r.close();
      await db.drop();
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    }
  }, 120_000);
});
