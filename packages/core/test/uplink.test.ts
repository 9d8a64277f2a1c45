import { createHash, createPublicKey, verify } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ServiceContext } from "../src/context.ts";
import { uplinkCache, uplinkTarballs, usageMetrics } from "../src/db/schema/index.ts";
import { getPackument } from "../src/packages/get-packument.ts";
import { getTarball } from "../src/packages/get-tarball.ts";
import { getVersionManifest } from "../src/packages/get-version.ts";
import { publishPackage } from "../src/packages/publish-package.ts";
import { unpublishPackage } from "../src/packages/unpublish-package.ts";
import { auditBulk } from "../src/security/audit-bulk.ts";
import { auditQuick, patchedVersions } from "../src/security/audit-quick.ts";
import {
  createTestDeps,
  makeTarballSync,
  publishBody,
  startUplinkServer,
  type TestDeps,
  testDrivers,
  tokenContext,
  type UplinkServer,
} from "../src/testing/index.ts";
import { anonymous, type Doc, failure, later, publish, readDoc } from "./helpers.ts";

const MAX_AGE_MS = 60_000;
const TIMEOUT_MS = 400;

const bytesOf = (name: string, version: string) =>
  makeTarballSync({ name, version }, { "README.md": `upstream ${name}@${version}` });
const sri = (b: Buffer) => `sha512-${createHash("sha512").update(b).digest("base64")}`;

/** A small tarball comes from the tarball cache as bytes; a larger one as a stream. */
async function readAll(body: Uint8Array | ReadableStream<Uint8Array>): Promise<Buffer> {
  return Buffer.from(await new Response(body).arrayBuffer());
}

async function tarballBytes(ctx: ServiceContext, name: string, version: string) {
  const basename = name.includes("/") ? name.split("/")[1] : name;
  const res = await getTarball({ ctx, input: { name, filename: `${basename}-${version}.tgz` } });
  if (res.kind !== "stream") throw new Error("expected a stream");
  return readAll(res.body);
}

describe.each(testDrivers())("uplink on %s", (driver) => {
  /** The public registry: another Packr, served on loopback. */
  let upstream: TestDeps;
  let server: UplinkServer;
  let publisher: ServiceContext;
  /** The Packr under test, with `server` as its uplink. */
  let packr: TestDeps;
  let alice: ServiceContext;
  let admin: ServiceContext;
  let anon: ServiceContext;

  const upstreamPublish = (name: string, version: string, access?: "public") =>
    publishPackage({
      ctx: publisher,
      input: {
        name,
        body: publishBody(name, version, { bytes: bytesOf(name, version), access: access ?? null }),
      },
    });
  const asked = (fragment: string) =>
    server.requests.filter((r) => decodeURIComponent(r.url).includes(fragment));

  beforeAll(async () => {
    upstream = await createTestDeps(driver);
    publisher = await tokenContext(upstream, { user: "npmjs", role: "maintainer" });
    server = await startUplinkServer(upstream);

    packr = await createTestDeps(driver, undefined, {
      uplink: { url: server.url, maxAgeMs: MAX_AGE_MS, timeoutMs: TIMEOUT_MS },
      privateScopes: ["corp"],
    });
    alice = await tokenContext(packr, { user: "alice", role: "maintainer" });
    admin = await tokenContext(packr, { user: "root", role: "admin", isAdmin: true });
    anon = anonymous(packr);
    // Local packages first: @acme is Packr's scope; shared-name and gone-local are local names.
    await publish(alice, "@acme/app", ["1.0.0"]);
    await publish(alice, "shared-name", ["5.0.0"]);
    await publish(alice, "gone-local", ["1.0.0"]);
    const doc = await readDoc(alice, "gone-local");
    await unpublishPackage({ ctx: alice, input: { name: "gone-local", rev: doc._rev } });
    // Then the uplink gets packages, some under names and scopes Packr already has.
    for (const v of ["1.0.0", "1.1.0"]) await upstreamPublish("left-pad", v);
    await upstreamPublish("@types/thing", "1.0.0", "public");
    await upstreamPublish("@acme/x", "9.9.9", "public");
    await upstreamPublish("@corp/y", "1.0.0", "public");
    await upstreamPublish("@newco/b", "1.0.0", "public");
    await upstreamPublish("@newco/c", "1.0.0", "public");
    for (const n of ["shared-name", "gone-local", "taken", "forked", "chain"]) {
      await upstreamPublish(n, "1.0.0");
    }
  });
  afterAll(async () => {
    await server.stop();
    await packr.close();
    await upstream.close();
  });
  beforeEach(() => {
    server.delayMs = 0;
  });

  it("fetches a public package: full and abbreviated as asked, tarballs pointing at Packr, signed by Packr", async () => {
    const full = await readDoc(anon, "left-pad");
    expect(Object.keys(full.versions)).toEqual(["1.0.0", "1.1.0"]);
    expect(full["dist-tags"].latest).toBe("1.1.0");
    const dist = full.versions["1.0.0"].dist;
    expect(dist.tarball).toBe("http://registry.test/left-pad/-/left-pad-1.0.0.tgz");
    expect(dist.integrity).toBe(sri(bytesOf("left-pad", "1.0.0")));
    const [signature] = dist.signatures;
    expect(dist.signatures).toHaveLength(1);
    expect(signature.keyid).toBe(packr.signer.key.keyid);
    const publicKey = createPublicKey({
      key: Buffer.from(packr.signer.key.key, "base64"),
      format: "der",
      type: "spki",
    });
    const message = Buffer.from(`left-pad@1.0.0:${dist.integrity}`);
    expect(verify("sha256", message, publicKey, Buffer.from(signature.sig, "base64"))).toBe(true);
    const abbreviated = await readDoc(anon, "left-pad", true);
    expect(abbreviated.readme).toBeUndefined();
    expect(abbreviated.versions["1.1.0"].dist.tarball).toBe(
      "http://registry.test/left-pad/-/left-pad-1.1.0.tgz",
    );
    const docs = asked("left-pad").filter((r) => !r.url.includes("/-/"));
    expect(docs.map((r) => r.headers.accept)).toEqual([
      "application/json",
      expect.stringContaining("application/vnd.npm.install-v1+json"),
    ]);
    // Asked anonymously: Packr never forwards a caller's credentials upstream.
    expect(docs.every((r) => r.headers.authorization === undefined)).toBe(true);
    const rows = await packr.db
      .select({ kind: uplinkCache.kind })
      .from(uplinkCache)
      .where(eq(uplinkCache.name, "left-pad"));
    expect(rows.map((r) => r.kind).sort()).toEqual(["abbreviated", "full"]);
  });

  it("serves a cached document within the max age without asking the uplink, with a stable ETag", async () => {
    const first = await getPackument({
      ctx: anon,
      input: { name: "left-pad", abbreviated: false },
    });
    const before = server.requests.length;
    const again = await getPackument({
      ctx: anon,
      input: { name: "left-pad", abbreviated: false },
    });
    expect(again.etag).toBe(first.etag);
    expect(again.access).toBe("public");
    expect(again.stale).toBeUndefined();
    expect(server.requests.length).toBe(before);
  });

  it("fetches a tarball once, verifies it and keeps it: the second request needs no uplink", async () => {
    await packr.downloads.flush();
    const countedBefore = (await packr.db.select().from(usageMetrics)).length;
    const before = asked("/-/left-pad-1.0.0.tgz").length;
    expect(await tarballBytes(anon, "left-pad", "1.0.0")).toEqual(bytesOf("left-pad", "1.0.0"));
    expect(asked("/-/left-pad-1.0.0.tgz").length).toBe(before + 1);
    expect(await tarballBytes(anon, "left-pad", "1.0.0")).toEqual(bytesOf("left-pad", "1.0.0"));
    expect(asked("/-/left-pad-1.0.0.tgz").length).toBe(before + 1);
    const [row] = await packr.db
      .select()
      .from(uplinkTarballs)
      .where(eq(uplinkTarballs.name, "left-pad"));
    expect(row?.integrity).toBe(sri(bytesOf("left-pad", "1.0.0")));
    expect(await packr.blobStore.exists(row?.tarballKey ?? "")).toBe(true);
    // A version the uplink does not have is a 404, without fetching anything.
    expect((await failure(tarballBytes(anon, "left-pad", "7.0.0"))).code).toBe("NOT_FOUND");
    // Proxied downloads are the uplink's to count, not this registry's.
    await packr.downloads.flush();
    expect((await packr.db.select().from(usageMetrics)).length).toBe(countedBefore);
  });

  it("serves a version manifest of a proxied package by version, tag and range", async () => {
    const byTag = await getVersionManifest({
      ctx: anon,
      input: { name: "left-pad", spec: "latest" },
    });
    expect(byTag.version).toBe("1.1.0");
    const byRange = await getVersionManifest({
      ctx: anon,
      input: { name: "left-pad", spec: "~1.0.0" },
    });
    expect(byRange.version).toBe("1.0.0");
    expect((byRange.dist as Doc).tarball).toBe(
      "http://registry.test/left-pad/-/left-pad-1.0.0.tgz",
    );
  });

  it("revalidates with the uplink's ETag after the max age: 304 renews, a change is fetched", async () => {
    const first = await getPackument({
      ctx: anon,
      input: { name: "left-pad", abbreviated: false },
    });
    const stale = later(anon, 0.05); // 3 minutes on
    const before = asked("left-pad").length;
    const renewed = await getPackument({
      ctx: stale,
      input: { name: "left-pad", abbreviated: false },
    });
    expect(renewed.etag).toBe(first.etag);
    const revalidation = asked("left-pad").slice(before);
    expect(revalidation).toHaveLength(1);
    expect(revalidation[0]?.headers["if-none-match"]).toMatch(/^W\/"/);

    await upstreamPublish("left-pad", "1.2.0");
    const muchLater = later(anon, 0.1);
    const changed = await getPackument({
      ctx: muchLater,
      input: { name: "left-pad", abbreviated: false },
    });
    expect(changed.etag).not.toBe(first.etag);
    const doc = JSON.parse(Buffer.from((await changed.load()).plain).toString()) as Doc;
    expect(doc["dist-tags"].latest).toBe("1.2.0");
  });

  it("serves the cached copy, marked stale, when the uplink is down; the cached tarball still installs", async () => {
    await readDoc(anon, "chain", true);
    await tarballBytes(anon, "chain", "1.0.0");
    await server.stop();
    try {
      const res = await getPackument({
        ctx: later(anon, 1),
        input: { name: "chain", abbreviated: true },
      });
      expect(res.stale).toMatch(/unreachable/);
      expect(JSON.parse(Buffer.from((await res.load()).plain).toString()).name).toBe("chain");
      expect(await tarballBytes(later(anon, 1), "chain", "1.0.0")).toEqual(
        bytesOf("chain", "1.0.0"),
      );
    } finally {
      await server.start();
    }
  });

  it("answers 503 with a retry hint, never 404, when the uplink is down and nothing is cached", async () => {
    await server.stop();
    try {
      const err = await failure(readDoc(anon, "@types/thing"));
      expect(err.code).toBe("UNAVAILABLE");
      expect(err.status).toBe(503);
      expect(err.details?.retryAfter).toBeGreaterThan(0);
      const tgz = await failure(tarballBytes(anon, "@types/thing", "1.0.0"));
      expect(tgz.code).toBe("UNAVAILABLE");
    } finally {
      await server.start();
    }
    // Back up: the same name is served (scoped, in a scope Packr does not own, anonymously).
    expect((await readDoc(anon, "@types/thing")).versions["1.0.0"]).toBeDefined();
  });

  it("serves stale within the timeout when the uplink is slow, and does not wait again at once", async () => {
    await readDoc(anon, "taken", true);
    server.delayMs = TIMEOUT_MS * 5;
    const ctx = later(anon, 2);
    const started = Date.now();
    const res = await getPackument({ ctx, input: { name: "taken", abbreviated: true } });
    expect(res.stale).toMatch(/did not answer within/);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS * 4);
    const before = server.requests.length;
    const again = await getPackument({ ctx, input: { name: "taken", abbreviated: true } });
    expect(again.stale).toBeDefined();
    expect(server.requests.length).toBe(before);
    // A name with nothing cached cannot be served stale: 503.
    expect((await failure(readDoc(anon, "forked", true))).code).toBe("UNAVAILABLE");
  });

  it("a real 404 from the uplink is a 404, remembered briefly", async () => {
    const err = await failure(readDoc(anon, "no-such-package"));
    expect(err.code).toBe("NOT_FOUND");
    expect(err.message).toContain("uplink");
    const before = server.requests.length;
    expect((await failure(readDoc(anon, "no-such-package", true))).code).toBe("NOT_FOUND");
    expect(server.requests.length).toBe(before);
  });

  it("never asks upstream about a local name, tombstones included, or a name in a scope Packr owns", async () => {
    const before = server.requests.length;
    // @acme holds a local package: @acme/x, published upstream, cannot reach Packr's clients.
    expect((await failure(readDoc(alice, "@acme/x"))).code).toBe("NOT_FOUND");
    expect((await failure(readDoc(anon, "@acme/x"))).code).toBe("UNAUTHORIZED");
    expect((await failure(tarballBytes(alice, "@acme/x", "9.9.9"))).code).toBe("NOT_FOUND");
    // A configured private scope, before it holds any package.
    expect((await failure(readDoc(alice, "@corp/y"))).code).toBe("NOT_FOUND");
    // A local name wins over the uplink's package of the same name.
    expect(Object.keys((await readDoc(anon, "shared-name")).versions)).toEqual(["5.0.0"]);
    // An unpublished local package stays local: its tombstone, never the uplink's package.
    const tomb = await readDoc(anon, "gone-local");
    expect(tomb.versions).toEqual({});
    expect(tomb.time.unpublished).toBeDefined();
    expect(server.requests.length).toBe(before);
    expect(asked("@acme/x")).toEqual([]);
    expect(asked("@corp")).toEqual([]);
  });

  it("a scope becomes Packr's the moment a local package lands in it", async () => {
    expect((await readDoc(alice, "@newco/b")).versions["1.0.0"]).toBeDefined();
    await publish(alice, "@newco/a", ["1.0.0"]);
    const before = server.requests.length;
    expect((await failure(readDoc(alice, "@newco/c"))).code).toBe("NOT_FOUND");
    expect(server.requests.length).toBe(before);
  });

  it("refuses to publish over an upstream name; an admin may fork it, and then it is local", async () => {
    const err = await failure(publish(alice, "taken", ["2.0.0"]));
    expect(err.code).toBe("CONFLICT");
    expect(err.message).toContain("uplink");
    server.delayMs = 0;
    await publish(admin, "forked", ["2.0.0"]);
    const before = server.requests.length;
    const doc = await readDoc(anon, "forked");
    expect(Object.keys(doc.versions)).toEqual(["2.0.0"]);
    expect(server.requests.length).toBe(before);
    // A name the uplink does not have, and names in Packr's scopes, publish as usual.
    await publish(alice, "brand-new-name", ["1.0.0"]);
    const n = server.requests.length;
    await publish(alice, "@acme/another", ["1.0.0"]);
    expect(server.requests.length).toBe(n);
  });

  it("refuses a first publish outside Packr's scopes while the uplink cannot be asked", async () => {
    await server.stop();
    try {
      const err = await failure(publish(alice, "unknown-while-down", ["1.0.0"]));
      expect(err.code).toBe("UNAVAILABLE");
      await publish(alice, "@acme/while-down", ["1.0.0"]);
    } finally {
      await server.start();
    }
  });

  it("refuses a tarball whose bytes do not match the uplink's integrity", async () => {
    await upstreamPublish("tampered", "1.0.0");
    const doc = await readDoc(anon, "tampered", true);
    const key = `tarballs/${createHash("sha512").update(bytesOf("tampered", "1.0.0")).digest("hex")}`;
    // Corrupt the upstream's stored blob behind its back.
    const hex = key.slice("tarballs/".length);
    await upstream.blobStore.put(
      `tarballs/${hex.slice(0, 2)}/${hex.slice(2, 4)}/${hex}.tgz`,
      Buffer.from("evil"),
    );
    expect(doc.versions["1.0.0"].dist.integrity).toBe(sri(bytesOf("tampered", "1.0.0")));
    const err = await failure(tarballBytes(anon, "tampered", "1.0.0"));
    expect(err.code).toBe("BAD_GATEWAY");
    const rows = await packr.db
      .select()
      .from(uplinkTarballs)
      .where(eq(uplinkTarballs.name, "tampered"));
    expect(rows).toEqual([]);
  });

  describe("audit", () => {
    beforeAll(() => {
      server.advisories = {
        "left-pad": [
          {
            id: 1001,
            url: "https://github.com/advisories/GHSA-aaaa-bbbb-cccc",
            title: "Prototype pollution",
            severity: "high",
            vulnerable_versions: "<1.1.0",
            cwe: ["CWE-1321"],
          },
        ],
        "@acme/app": [{ id: 6, severity: "critical", vulnerable_versions: "*" }],
      };
    });

    it("forwards a bulk query to the uplink without the private names", async () => {
      const before = server.requests.length;
      const answer = await auditBulk({
        ctx: anon,
        input: {
          body: {
            "left-pad": ["1.0.0"],
            "@acme/app": ["1.0.0"],
            "@corp/z": ["1.0.0"],
            "shared-name": ["5.0.0"],
            "@types/thing": ["1.0.0"],
          },
        },
      });
      expect(answer.warning).toBeUndefined();
      expect(Object.keys(answer.report)).toEqual(["left-pad"]);
      expect(answer.report["left-pad"]?.[0]?.id).toBe(1001);
      const sent = server.requests.slice(before);
      expect(sent).toHaveLength(1);
      expect(sent[0]?.headers["content-encoding"]).toBe("gzip");
      expect(sent[0]?.body).toEqual({ "left-pad": ["1.0.0"], "@types/thing": ["1.0.0"] });
    });

    it("builds pnpm's npm-6 report from the uplink's advisories, with finding paths", async () => {
      const { report, warning } = await auditQuick({
        ctx: anon,
        input: {
          body: {
            dependencies: {
              ".": {
                version: "1.0.0",
                dependencies: {
                  "left-pad": { version: "1.0.0", integrity: "sha512-a" },
                  "@acme/app": {
                    version: "1.0.0",
                    integrity: "sha512-b",
                    dependencies: { "left-pad": { version: "1.1.0", integrity: "sha512-c" } },
                  },
                },
              },
            },
          },
        },
      });
      expect(warning).toBeUndefined();
      expect(Object.keys(report.advisories)).toEqual(["1001"]);
      expect(report.advisories["1001"]).toMatchObject({
        module_name: "left-pad",
        severity: "high",
        vulnerable_versions: "<1.1.0",
        patched_versions: ">=1.1.0",
        github_advisory_id: "GHSA-aaaa-bbbb-cccc",
        findings: [{ version: "1.0.0", paths: [".>left-pad"] }],
      });
      expect(report.metadata.vulnerabilities.high).toBe(1);
      expect(report.metadata.totalDependencies).toBe(3);
      const last = server.requests.at(-1);
      expect(last?.body).toEqual({ "left-pad": expect.arrayContaining(["1.0.0", "1.1.0"]) });
    });

    it("answers an empty report with a warning when the uplink fails, never an error", async () => {
      await server.stop();
      try {
        const bulk = await auditBulk({ ctx: anon, input: { body: { "left-pad": ["1.0.0"] } } });
        expect(bulk.report).toEqual({});
        expect(bulk.warning).toMatch(/unreachable/);
        const quick = await auditQuick({
          ctx: anon,
          input: { body: { dependencies: { "left-pad": { version: "1.0.0", integrity: "x" } } } },
        });
        expect(quick.report.advisories).toEqual({});
        expect(quick.warning).toBeDefined();
      } finally {
        await server.start();
      }
    });
  });
});

describe("patchedVersions", () => {
  it("infers the fix from the shapes advisories use", () => {
    expect(patchedVersions("<1.2.3")).toBe(">=1.2.3");
    expect(patchedVersions("<=1.2.3")).toBe(">1.2.3");
    expect(patchedVersions(">=1.0.0 <1.4.0")).toBe(">=1.4.0");
    expect(patchedVersions("*")).toBe("<0.0.0");
    expect(patchedVersions(">=2.0.0")).toBe("<0.0.0");
  });
});
