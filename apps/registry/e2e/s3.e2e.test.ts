/**
 * The scale-out blob store end to end: the registry process keeps tarballs in a real S3-protocol
 * server (s3rver on loopback) and answers tarball GETs with a 302 to a presigned URL, which npm,
 * pnpm and yarn follow; with S3_TARBALL_DELIVERY=proxy it streams them itself.
 */
import { access } from "node:fs/promises";
import path from "node:path";
import { type LocalS3, startLocalS3 } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RegistryProcess, startRegistryProcess } from "../test/harness.ts";
import {
  Clients,
  expectSuccess,
  loginToken,
  makeProject,
  npmrc,
  stopRegistry,
  yarnrc,
} from "./clients.ts";

vi.setConfig({ testTimeout: 300_000 });

let s3: LocalS3;
let registry: RegistryProcess;
let clients: Clients;
let token: string;

const consumer = {
  name: "s3-consumer",
  version: "1.0.0",
  private: true,
  dependencies: { "@acme/in-s3": "^1.0.0" },
};
const requireIt = `console.log(require("@acme/in-s3"))`;

beforeAll(async () => {
  // A hostname other than the registry's, as in production; see startLocalS3.
  s3 = await startLocalS3("packr-e2e", "localhost");
  clients = await Clients.create("s3");
  registry = await startRegistryProcess({ env: s3.env });
  token = await loginToken(registry.url, "admin", registry.adminPassword);
  const dir = await makeProject(clients, "publish", {
    manifest: { name: "@acme/in-s3", version: "1.0.0", main: "index.js" },
    files: { "index.js": 'module.exports = "from s3";\n' },
    npmrc: npmrc(registry.url, token),
  });
  expectSuccess(await clients.npm(["publish"], { cwd: dir }));
});

afterAll(async () => {
  await stopRegistry(registry);
  await s3?.close();
  await clients?.cleanup();
});

describe("tarballs in S3, delivered by presigned redirect", () => {
  it("keeps tarballs out of the data directory", async () => {
    await expect(access(path.join(registry.dataDir, "blobs"))).rejects.toThrow();
  });

  it("redirects an authorized tarball GET to a short-lived presigned URL, and refuses anonymous ones", async () => {
    const tgz = `${registry.url}/@acme/in-s3/-/in-s3-1.0.0.tgz`;
    const res = await fetch(tgz, {
      headers: { authorization: `Bearer ${token}` },
      redirect: "manual",
    });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location") ?? "");
    expect(location.origin).toBe(s3.config.endpoint);
    expect(location.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
    expect(Number(location.searchParams.get("X-Amz-Expires"))).toBeLessThanOrEqual(900);
    const bytes = Buffer.from(await (await fetch(location)).arrayBuffer());
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])); // a gzip stream
    expect((await fetch(tgz, { redirect: "manual" })).status).toBe(401);
  });

  it("npm, pnpm and yarn install through the redirect", async () => {
    const npmDir = await makeProject(clients, "npm", {
      manifest: consumer,
      npmrc: npmrc(registry.url, token),
    });
    expectSuccess(await clients.npm(["install"], { cwd: npmDir }));
    expect(expectSuccess(await clients.nodeEval(requireIt, { cwd: npmDir })).output).toContain(
      "from s3",
    );

    const pnpmDir = await makeProject(clients, "pnpm", {
      manifest: consumer,
      npmrc: npmrc(registry.url, token),
    });
    expectSuccess(await clients.pnpm(["install"], { cwd: pnpmDir }));
    expect(expectSuccess(await clients.nodeEval(requireIt, { cwd: pnpmDir })).output).toContain(
      "from s3",
    );

    const yarnDir = await makeProject(clients, "yarn", {
      manifest: consumer,
      yarnrc: yarnrc(registry.url, token),
    });
    expectSuccess(await clients.yarn(["install", "--no-immutable"], { cwd: yarnDir }));
    expect(expectSuccess(await clients.nodeEval(requireIt, { cwd: yarnDir })).output).toContain(
      "from s3",
    );
  });

  it("streams through the registry with S3_TARBALL_DELIVERY=proxy", async () => {
    await registry.stop();
    registry = await startRegistryProcess({
      dataDir: registry.dataDir,
      port: registry.port,
      env: { ...s3.env, S3_TARBALL_DELIVERY: "proxy" },
    });
    const res = await fetch(`${registry.url}/@acme/in-s3/-/in-s3-1.0.0.tgz`, {
      headers: { authorization: `Bearer ${token}` },
      redirect: "manual",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toContain("immutable");
    expect(Buffer.from(await res.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const dir = await makeProject(clients, "npm-proxy", {
      manifest: consumer,
      npmrc: npmrc(registry.url, token),
    });
    expectSuccess(await clients.npm(["install"], { cwd: dir }));
    expect(expectSuccess(await clients.nodeEval(requireIt, { cwd: dir })).output).toContain(
      "from s3",
    );
  });
});
