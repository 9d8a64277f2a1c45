/**
 * What the registry refuses, seen through the real npm (non-zero exit, the registry's sentence in
 * its output) and, where npm cannot send the request, through raw HTTP: republishing a version,
 * tokens without the permission or outside their scopes, anonymous installs of restricted
 * packages, hostile package names, and a tarball that does not match its declared integrity.
 */
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type RegistryProcess,
  seedOrgRoles,
  seedTokens,
  startRegistryProcess,
} from "../test/harness.ts";
import {
  buildTarball,
  Clients,
  describeRun,
  escapeName,
  expectFailure,
  expectSuccess,
  getJson,
  loginToken,
  makeProject,
  npmrc,
  publishBody,
  putPackage,
  rawRequest,
  sha512Integrity,
  stopRegistry,
} from "./clients.ts";

// Client runs time out on their own (120 s) with their output; the test allows several of them.
vi.setConfig({ testTimeout: 300_000 });

let registry: RegistryProcess;
let clients: Clients;
let admin: string;
let readonly: string;
let acmeOnly: string;

beforeAll(async () => {
  clients = await Clients.create("refusals");
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-e2e-refusals-data-"));
  // Seed first: the embedded database belongs to one process at a time.
  [readonly = "", acmeOnly = ""] = await seedTokens(dataDir, [
    { user: "reader", role: "ci-readonly" },
    { user: "acmebot", role: "ci-publish", scopes: ["@acme"] },
  ]);
  // @acme is an org: the bot publishes into it as a maintainer, the reader reads it as a reader.
  await seedOrgRoles(dataDir, [
    { org: "acme", user: "acmebot", role: "maintainer" },
    { org: "acme", user: "reader", role: "reader" },
  ]);
  registry = await startRegistryProcess({ dataDir });
  admin = await loginToken(registry.url, "admin", registry.adminPassword);
});

afterAll(async () => {
  await stopRegistry(registry);
  await clients?.cleanup();
});

/** A publishable package directory whose .npmrc carries `token`. */
async function pkgDir(name: string, version: string, token: string | undefined, text = "v1") {
  return makeProject(clients, name.replace(/[@/]/g, "_"), {
    manifest: { name, version, main: "index.js", license: "MIT" },
    files: { "index.js": `module.exports = ${JSON.stringify(text)};\n` },
    npmrc: npmrc(registry.url, token),
  });
}

describe("publishing a version that exists", () => {
  const name = "dup-pkg";
  const EXISTS = "You cannot publish over the previously published versions: 1.0.0";

  beforeAll(async () => {
    const dir = await pkgDir(name, "1.0.0", admin);
    expectSuccess(await clients.npm(["publish"], { cwd: dir }));
  });

  it("a PUT of other bytes under the same version is 409 with the registry's sentence", async () => {
    const manifest = { name, version: "1.0.0", main: "index.js" };
    const tarball = await buildTarball(manifest, { "index.js": "module.exports = 'other';\n" });
    const res = await putPackage(
      registry.url,
      admin,
      name,
      publishBody({ registryUrl: registry.url, manifest, tarball }),
    );
    expect(res.status, res.text).toBe(409);
    const body = res.json as { error: string; code: string };
    expect(body.code).toBe("VERSION_EXISTS");
    expect(body.error).toContain(EXISTS);

    // The stored bytes did not change.
    const doc = await getJson(registry.url, `/${name}`);
    const dist = (doc.json as { versions: Record<string, { dist: { integrity: string } }> })
      .versions["1.0.0"]?.dist;
    expect(dist?.integrity).not.toBe(sha512Integrity(tarball));
  });

  it("a re-PUT of the very same bytes (npm retrying a PUT) is an idempotent success", async () => {
    const doc = await getJson(registry.url, `/${name}`);
    const version = (doc.json as { versions: Record<string, Record<string, unknown>> }).versions[
      "1.0.0"
    ] as { dist: { tarball: string } } & Record<string, unknown>;
    const tgz = Buffer.from(await (await fetch(version.dist.tarball)).arrayBuffer());
    const manifest = { name, version: "1.0.0", main: "index.js", license: "MIT" };
    const res = await putPackage(
      registry.url,
      admin,
      name,
      publishBody({ registryUrl: registry.url, manifest, tarball: tgz }),
    );
    expect(res.status, res.text).toBe(200);
  });

  it("npm publish of the same version refuses (npm's pre-check words it like the registry)", async () => {
    const dir = await pkgDir(name, "1.0.0", admin, "changed");
    const r = await clients.npm(["publish"], { cwd: dir });
    expectFailure(r, EXISTS);
  });

  it("npm publish --force skips npm's pre-check and prints the registry's 409", async () => {
    const dir = await pkgDir(name, "1.0.0", admin, "changed again");
    const r = await clients.npm(["publish", "--force"], { cwd: dir });
    expectFailure(r, "409 Conflict", `PUT ${registry.url}/${name}`, EXISTS);
  });
});

describe("tokens that may not publish", () => {
  it("a ci-readonly token: npm publish fails with 403 and names the missing permission", async () => {
    const dir = await pkgDir("readonly-attempt", "1.0.0", readonly);
    const r = await clients.npm(["publish"], { cwd: dir });
    expectFailure(r, "E403", 'lacks the "publish" permission');
    expect((await getJson(registry.url, "/readonly-attempt")).status).toBe(404);
  });

  it("a token scoped to @acme: @other/x is refused with 403 SCOPE_FORBIDDEN naming @acme", async () => {
    const dir = await pkgDir("@other/x", "1.0.0", acmeOnly);
    const r = await clients.npm(["publish", "--access", "public"], { cwd: dir });
    expectFailure(
      r,
      "E403",
      "This token may publish only to @acme",
      "@other/x is outside its scopes",
    );

    const manifest = { name: "@other/x", version: "1.0.0" };
    const tarball = await buildTarball(manifest);
    const res = await putPackage(
      registry.url,
      acmeOnly,
      manifest.name,
      publishBody({ registryUrl: registry.url, manifest, tarball, access: "public" }),
    );
    expect(res.status, res.text).toBe(403);
    expect(res.json).toMatchObject({ code: "SCOPE_FORBIDDEN", allowedScopes: ["@acme"] });
    expect((await getJson(registry.url, "/@other%2fx", admin)).status).toBe(404);
  });

  it("the same @acme token publishes inside its scope", async () => {
    const dir = await pkgDir("@acme/bot-made", "1.0.0", acmeOnly);
    const r = expectSuccess(await clients.npm(["publish"], { cwd: dir }));
    expect(r.output, describeRun(r)).toContain("+ @acme/bot-made@1.0.0");
  });
});

describe("reading a restricted package", () => {
  const consumer = (dep: string) => ({
    name: "consumer",
    version: "1.0.0",
    private: true,
    dependencies: { [dep]: "^1.0.0" },
  });

  beforeAll(async () => {
    const dir = await pkgDir("@acme/private-thing", "1.0.0", admin, "private-thing");
    expectSuccess(await clients.npm(["publish", "--access", "restricted"], { cwd: dir }));
  });

  it("npm install with no token fails with E401", async () => {
    const dir = await makeProject(clients, "anon-install", {
      manifest: consumer("@acme/private-thing"),
      npmrc: npmrc(registry.url),
    });
    const r = await clients.npm(["install"], { cwd: dir });
    // npm words a 401 from its challenge alone; the registry's own sentence reaches the user as
    // an npm notice.
    expectFailure(r, "E401", "npm notice You must be logged in to read @acme/private-thing");
    const direct = await getJson(registry.url, "/@acme%2fprivate-thing");
    expect(direct.status).toBe(401);
    expect((direct.json as { error: string }).error).toContain(
      "You must be logged in to read @acme/private-thing",
    );
    const tgz = await getJson(registry.url, "/@acme/private-thing/-/private-thing-1.0.0.tgz");
    expect(tgz.status).toBe(401);
  });

  it("npm install with a ci-readonly token of an org reader works", async () => {
    const dir = await makeProject(clients, "reader-install", {
      manifest: consumer("@acme/private-thing"),
      npmrc: npmrc(registry.url, readonly),
    });
    expectSuccess(await clients.npm(["install"], { cwd: dir }));
    const node = expectSuccess(
      await clients.nodeEval('console.log(require("@acme/private-thing"))', { cwd: dir }),
    );
    expect(node.stdout.trim()).toBe("private-thing");
  });
});

describe("hostile package names", () => {
  const body = JSON.stringify({ name: "x", versions: {}, _attachments: {} });
  const expect400 = async (
    method: "GET" | "PUT",
    rawPath: string,
    problem: RegExp,
  ): Promise<void> => {
    const res = await rawRequest(registry.port, method, rawPath, {
      token: admin,
      ...(method === "PUT" ? { body } : {}),
    });
    const shown = `${method} ${rawPath.slice(0, 80)} → ${res.status} ${res.text}`;
    expect(res.status, shown).toBe(400);
    const error = (res.json as { error?: unknown } | undefined)?.error;
    expect(typeof error, shown).toBe("string");
    expect(String(error), shown).toMatch(problem);
  };

  it("PUT /%2e%2e (a dot-dot segment)", async () => {
    // The server resolves encoded dot segments (WHATWG URL) before routing, so the PUT arrives as
    // `PUT /`, which names no package: 400, but the sentence cannot mention the `..` itself.
    await expect400("PUT", "/%2e%2e", /does not name a package/);
    await expect400("PUT", "/%2e%2e/%2e%2e/etc%2fpasswd", /Invalid package name "etc\/passwd"/);
  });

  it("GET through dot-dot segments never reaches outside the registry", async () => {
    for (const raw of ["/%2e%2e/%2e%2e/etc/passwd", "/@acme%2f%2e%2e%2f%2e%2e/etc%2fpasswd"]) {
      const res = await rawRequest(registry.port, "GET", raw, { token: admin });
      const shown = `GET ${raw} → ${res.status} ${res.text}`;
      expect([400, 404], shown).toContain(res.status);
      expect(typeof (res.json as { error?: unknown } | undefined)?.error, shown).toBe("string");
      expect(res.text, shown).not.toContain("root:");
    }
  });

  it("GET /@acme%2f.. (a scoped name that is a path segment)", async () => {
    await expect400("GET", "/@acme%2f..", /Invalid package name "@acme\/\.\.".*period/);
    await expect400("PUT", "/@acme%2f..", /Invalid package name "@acme\/\.\.".*period/);
  });

  it("a name with a control character (%01)", async () => {
    await expect400("GET", "/bad%01name", /control characters/);
    await expect400("PUT", "/bad%01name", /control characters/);
    await expect400("GET", "/@acme%2fbad%01name", /control characters/);
  });

  it("a 300-character name", async () => {
    const long = "a".repeat(300);
    await expect400("GET", `/${long}`, /longer than 214 characters/);
    await expect400("PUT", `/${long}`, /longer than 214 characters/);
    await expect400("GET", `/@acme%2f${long}`, /longer than 214 characters/);
  });
});

describe("a tarball that does not match its declared integrity", () => {
  it("is refused with 400 INTEGRITY_MISMATCH and nothing is published", async () => {
    const manifest = { name: "@acme/tampered", version: "1.0.0" };
    const tarball = await buildTarball(manifest, { "index.js": "module.exports = 1;\n" });
    const other = await buildTarball(manifest, { "index.js": "module.exports = 2;\n" });
    const res = await putPackage(
      registry.url,
      admin,
      manifest.name,
      publishBody({
        registryUrl: registry.url,
        manifest,
        tarball,
        integrity: sha512Integrity(other),
      }),
    );
    expect(res.status, res.text).toBe(400);
    expect(res.json).toMatchObject({ code: "INTEGRITY_MISMATCH" });
    expect((res.json as { error: string }).error).toContain("does not match its dist.integrity");

    const name = escapeName(manifest.name);
    expect((await getJson(registry.url, `/${name}/1.0.0`, admin)).status).toBe(404);
    expect((await getJson(registry.url, `/${name}`, admin)).status).toBe(404);
    expect(
      (await getJson(registry.url, `/@acme/tampered/-/tampered-1.0.0.tgz`, admin)).status,
    ).toBe(404);
  });

  it("a wrong attachment length is refused the same way", async () => {
    const manifest = { name: "@acme/truncated", version: "1.0.0" };
    const tarball = await buildTarball(manifest);
    const bodyJson = publishBody({ registryUrl: registry.url, manifest, tarball }) as {
      _attachments: Record<string, { length: number }>;
    };
    const attachment = bodyJson._attachments["@acme/truncated-1.0.0.tgz"];
    if (attachment) attachment.length += 10;
    const res = await putPackage(registry.url, admin, manifest.name, bodyJson);
    expect(res.status, res.text).toBe(400);
    expect(res.json).toMatchObject({ code: "INTEGRITY_MISMATCH" });
    expect((await getJson(registry.url, "/@acme%2ftruncated", admin)).status).toBe(404);
  });
});
