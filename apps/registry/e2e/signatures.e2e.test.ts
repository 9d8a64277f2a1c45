/**
 * Registry signatures end to end: every version Packr serves carries `dist.signatures`, and the
 * real `npm audit signatures` verifies them against `GET /-/npm/v1/keys` (with npm's Sigstore TUF
 * lookup stubbed, since it needs the internet; see fixtures/stub-sigstore-tuf.cjs).
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RegistryProcess, startRegistryProcess } from "../test/harness.ts";
import {
  Clients,
  clientEnv,
  expectFailure,
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

  it("fails when the served key is not the one that signed (the signing key was swapped)", async () => {
    // Restart over the same data with another signing key: the stored signatures no longer verify.
    await registry.stop();
    const other = await import("node:crypto").then(({ generateKeyPairSync }) =>
      generateKeyPairSync("ec", { namedCurve: "P-256" })
        .privateKey.export({ type: "pkcs8", format: "pem" })
        .toString(),
    );
    registry = await startRegistryProcess({
      dataDir: registry.dataDir,
      port: registry.port,
      env: { PACKR_SIGNING_KEY: other },
    });
    const dir = await makeProject(clients, "app-rotated", {
      manifest: {
        name: "app",
        version: "1.0.0",
        private: true,
        dependencies: { "signed-b": "^1.0.0" },
      },
      npmrc: npmrc(registry.url, token),
    });
    // Rotation needs the old key served with an `expires`; until then a swap is loud, not silent.
    expectFailure(
      await auditSignatures(dir, registry.url),
      "EMISSINGSIGNATUREKEY",
      "signed-b@1.0.0",
    );
  });
});
