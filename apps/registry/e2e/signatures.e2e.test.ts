/**
 * Registry signatures end to end: every version Packr serves carries `dist.signatures`, and the
 * real `npm audit signatures` verifies them against `GET /-/npm/v1/keys` (with npm's Sigstore TUF
 * lookup stubbed, since it needs the internet; see fixtures/stub-sigstore-tuf.cjs).
 */
import { generateKeyPairSync } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createScratchDatabase, type LocalS3, startLocalS3 } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RegistryProcess, startRegistryProcess } from "../test/harness.ts";
import {
  Clients,
  clientEnv,
  expectSuccess,
  loginToken,
  makeProject,
  npmrc,
  run,
  stopRegistry,
} from "./clients.ts";

vi.setConfig({ testTimeout: 180_000 });

const STUB = fileURLToPath(new URL("./fixtures/stub-sigstore-tuf.cjs", import.meta.url));

let registry: RegistryProcess;
let clients: Clients;
let token: string;

beforeAll(async () => {
  clients = await Clients.create("signatures");
  registry = await startRegistryProcess();
  token = await loginToken(registry.url, "admin", registry.adminPassword);
  for (const name of ["@acme/signed-a", "signed-b"]) {
    const dir = await makeProject(clients, "pub", {
      manifest: { name, version: "1.0.0", main: "index.js" },
      files: { "index.js": "module.exports = 1;\n" },
      npmrc: npmrc(registry.url, token),
    });
    expectSuccess(await clients.npm(["publish"], { cwd: dir }));
  }
});

afterAll(async () => {
  await stopRegistry(registry);
  await clients?.cleanup();
});

async function auditSignatures(dir: string, registryUrl: string) {
  const sandbox = await clients.sandbox();
  expectSuccess(
    await run("npm", ["install"], {
      cwd: dir,
      env: clientEnv(sandbox.home, { npm_config_cache: sandbox.cache }),
    }),
  );
  return run("npm", ["audit", "signatures", `--registry=${registryUrl}/`], {
    cwd: dir,
    env: clientEnv(sandbox.home, {
      npm_config_cache: sandbox.cache,
      NODE_OPTIONS: `--require ${STUB}`,
    }),
  });
}

describe("npm audit signatures", () => {
  it("verifies every installed package against the registry's key", async () => {
    const dir = await makeProject(clients, "app", {
      manifest: {
        name: "app",
        version: "1.0.0",
        private: true,
        dependencies: { "@acme/signed-a": "^1.0.0", "signed-b": "^1.0.0" },
      },
      npmrc: npmrc(registry.url, token),
    });
    const result = expectSuccess(await auditSignatures(dir, registry.url));
    expect(result.output).toMatch(/2 packages have verified registry signatures/);
  });

  it("keeps verifying versions signed before a key rotation, and verifies the new key's", async () => {
    // Restart over the same data with another signing key: the old key stays served (it is in the
    // database), the new one signs from now on.
    await registry.stop();
    registry = await startRegistryProcess({
      dataDir: registry.dataDir,
      port: registry.port,
      env: { PACKR_SIGNING_KEY: newSigningKey() },
    });
    const pub = await makeProject(clients, "pub-rotated", {
      manifest: { name: "signed-c", version: "1.0.0", main: "index.js" },
      files: { "index.js": "module.exports = 3;\n" },
      npmrc: npmrc(registry.url, token),
    });
    expectSuccess(await clients.npm(["publish"], { cwd: pub }));
    const keys = (await (await fetch(`${registry.url}/-/npm/v1/keys`)).json()) as {
      keys: { keyid: string; expires: string | null }[];
    };
    expect(keys.keys).toHaveLength(2);
    const dir = await makeProject(clients, "app-rotated", {
      manifest: {
        name: "app",
        version: "1.0.0",
        private: true,
        dependencies: { "signed-b": "^1.0.0", "signed-c": "^1.0.0" },
      },
      npmrc: npmrc(registry.url, token),
    });
    const result = expectSuccess(await auditSignatures(dir, registry.url));
    expect(result.output).toMatch(/2 packages have verified registry signatures/);
  });
});

describe.skipIf(!process.env.DATABASE_URL)("npm audit signatures across instances", () => {
  let db: { url: string; drop(): Promise<void> };
  let s3: LocalS3;
  let a: RegistryProcess;
  let b: RegistryProcess;

  beforeAll(async () => {
    db = await createScratchDatabase(process.env.DATABASE_URL ?? "");
    s3 = await startLocalS3("packr-signatures", "localhost");
    // Two instances of the scale-out shape (one database, one blob store), each with its own key.
    const shared = { ...s3.env, S3_TARBALL_DELIVERY: "proxy", DATABASE_URL: db.url };
    a = await startRegistryProcess({ env: { ...shared, PACKR_SIGNING_KEY: newSigningKey() } });
    b = await startRegistryProcess({ env: { ...shared, PACKR_SIGNING_KEY: newSigningKey() } });
  });
  afterAll(async () => {
    await stopRegistry(a);
    await stopRegistry(b);
    await s3?.close();
    await db?.drop();
  });

  it("verifies a version signed by another instance", async () => {
    for (const [reg, name] of [
      [a, "from-a"],
      [b, "from-b"],
    ] as const) {
      const t = await loginToken(reg.url, "admin", reg.adminPassword);
      const dir = await makeProject(clients, `pub-${name}`, {
        manifest: { name, version: "1.0.0", main: "index.js" },
        files: { "index.js": "module.exports = 1;\n" },
        npmrc: npmrc(reg.url, t),
      });
      expectSuccess(await clients.npm(["publish"], { cwd: dir }));
    }
    const t = await loginToken(a.url, "admin", a.adminPassword);
    const dir = await makeProject(clients, "app-two", {
      manifest: {
        name: "app",
        version: "1.0.0",
        private: true,
        dependencies: { "from-a": "^1.0.0", "from-b": "^1.0.0" },
      },
      npmrc: npmrc(a.url, t),
    });
    const result = expectSuccess(await auditSignatures(dir, a.url));
    expect(result.output).toMatch(/2 packages have verified registry signatures/);
  });
});

function newSigningKey(): string {
  return generateKeyPairSync("ec", { namedCurve: "P-256" })
    .privateKey.export({ type: "pkcs8", format: "pem" })
    .toString();
}
