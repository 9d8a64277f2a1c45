/**
 * The registry compares the tarball's package.json with the manifest in the publish body
 * (manifest confusion). Stock clients normalise the body before they send it — npm turns a `bin`
 * string into an object, expands `directories.bin`, adds `node-gyp rebuild` for a binding.gyp,
 * moves optional dependencies out of `dependencies`, rewrites git specs — and none of that may
 * read as a mismatch: each client publishes a package using all of it.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RegistryProcess, startRegistryProcess } from "../test/harness.ts";
import {
  Clients,
  describeRun,
  escapeName,
  expectSuccess,
  getJson,
  loginToken,
  makeProject,
  npmrc,
  stopRegistry,
  yarnrc,
} from "./clients.ts";

vi.setConfig({ testTimeout: 300_000 });

let registry: RegistryProcess;
let clients: Clients;
let token: string;

beforeAll(async () => {
  clients = await Clients.create("normalise");
  registry = await startRegistryProcess();
  token = await loginToken(registry.url, "admin", registry.adminPassword);
});

afterAll(async () => {
  await stopRegistry(registry);
  await clients?.cleanup();
});

/** Everything npm's normalisation touches; dependencies only where the client need not install. */
function manifestFor(name: string, withDeps: boolean): Record<string, unknown> {
  return {
    name,
    version: "1.0.0",
    license: "MIT",
    bin: "./bin/cli.js",
    directories: { bin: "./bin" },
    scripts: { test: "node -e 0", postinstall: "node -e 0" },
    ...(withDeps
      ? {
          dependencies: { "left-pad": "^1.3.0", fsevents: "^2.3.0", gh: "github:acme/gh#v1" },
          optionalDependencies: { fsevents: "^2.3.0" },
          peerDependencies: { react: ">=17" },
        }
      : {}),
  };
}

const files = {
  "bin/cli.js": "#!/usr/bin/env node\nconsole.log('hi');\n",
  "bin/other.js": "#!/usr/bin/env node\n",
  "binding.gyp": "{}\n",
};

async function published(name: string): Promise<Record<string, unknown>> {
  const doc = await getJson(registry.url, `/${escapeName(name)}`, token);
  expect(doc.status, doc.text).toBe(200);
  return (doc.json as { versions: Record<string, Record<string, unknown>> }).versions[
    "1.0.0"
  ] as Record<string, unknown>;
}

describe("stock clients never trip the manifest check", () => {
  it("npm publish", async () => {
    const dir = await makeProject(clients, "npm-norm", {
      manifest: manifestFor("npm-norm", true),
      files,
      npmrc: npmrc(registry.url, token),
    });
    const r = expectSuccess(await clients.npm(["publish"], { cwd: dir }));
    expect(r.output, describeRun(r)).toContain("+ npm-norm@1.0.0");
    const v = await published("npm-norm");
    expect(v.bin).toEqual({ "npm-norm": "bin/cli.js" });
  });

  it("pnpm publish", async () => {
    const dir = await makeProject(clients, "pnpm-norm", {
      manifest: manifestFor("pnpm-norm", true),
      files,
      npmrc: npmrc(registry.url, token),
    });
    const r = expectSuccess(
      await clients.pnpm(["publish", "--no-git-checks", "--access", "public"], { cwd: dir }),
    );
    expect(r.output, describeRun(r)).toContain("+ pnpm-norm@1.0.0");
    await published("pnpm-norm");
  });

  it("yarn npm publish", async () => {
    const dir = await makeProject(clients, "yarn-norm", {
      manifest: manifestFor("yarn-norm", false),
      // yarn would build the project's own binding.gyp on install; the other fields still apply.
      files: { "bin/cli.js": files["bin/cli.js"], "bin/other.js": files["bin/other.js"] },
      npmrc: npmrc(registry.url, token),
      yarnrc: yarnrc(registry.url, token),
    });
    expectSuccess(await clients.yarn(["install", "--no-immutable"], { cwd: dir }));
    const r = expectSuccess(
      await clients.yarn(["npm", "publish", "--access", "public"], { cwd: dir }),
    );
    expect(r.output, describeRun(r)).toContain("Package archive published");
    await published("yarn-norm");
  });
});
