/**
 * The agent API for packages this registry proxies from its uplink (a second Packr on loopback,
 * never the internet): answered from the uplink's document at once, analysed in the background by
 * the `uplink.analyze` job, with `pending` naming what is not there yet; and what it refuses.
 */
import { schema } from "@packr/core";
import { makeTarball, publishBody } from "@packr/core/testing";
import { and, eq, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, expectError } from "./http.ts";
import { createUplinkPair, type UplinkPair } from "./uplink-fixture.ts";

const DTS = "/** Parse a duration. */\nexport declare function ms(value: string): number;\n";
const README = `# tiny-ms\n\nConvert time strings to milliseconds.\n\n## Usage\n\n${"Explains. ".repeat(120)}\n`;

type Info = Record<string, unknown> & {
  pending: string[];
  quality: { score: number } | null;
  trust: Record<string, unknown> | null;
};

describe("agent API: proxied (uplink) packages", () => {
  let pair: UplinkPair;

  /** Publish a real tarball to the uplink, public, under a dist-tag. */
  async function publishUpstream(
    name: string,
    version: string,
    manifest: Record<string, unknown>,
    opts: { tag?: string; files?: Record<string, string> } = {},
  ): Promise<void> {
    const full = { name, version, ...manifest };
    const bytes = await makeTarball(full, opts.files ?? {});
    const res = await client(pair.upstream.registry.app, pair.upstreamToken).put(
      `/${name.replace("/", "%2f")}`,
      publishBody(name, version, {
        bytes,
        manifest: full,
        access: "public",
        ...(opts.tag ? { tag: opts.tag } : {}),
      }),
    );
    expect(res.status, `upstream publish ${name}@${version}: ${await res.text()}`).toBe(201);
  }

  beforeAll(async () => {
    // A short max age, so the last test sees the uplink withdraw a package within a second.
    pair = await createUplinkPair({ PACKR_UPLINK_MAX_AGE: "1s" });
    const common = {
      description: "Convert time strings to milliseconds",
      keywords: ["time", "duration"],
      license: "MIT",
      types: "index.d.ts",
      scripts: { test: "node test.js" },
    };
    const files = { "index.d.ts": DTS, "README.md": README, "test/ms.test.js": "" };
    await publishUpstream("tiny-ms", "1.0.0", { ...common, engines: { node: ">=14" } }, { files });
    await publishUpstream(
      "tiny-ms",
      "2.1.0",
      { ...common, engines: { node: ">=22" }, dependencies: { "left-pad": "^1.0.0" } },
      { files },
    );
    await publishUpstream("tiny-ms", "3.0.0-beta.1", common, { tag: "next", files });
    // A package published here, to compare against.
    const local = { name: "local-ms", version: "1.0.0", description: "Local durations" };
    const res = await client(pair.reg.app, pair.token).put(
      "/local-ms",
      publishBody("local-ms", "1.0.0", { bytes: await makeTarball(local), manifest: local }),
    );
    expect(res.status).toBe(201);
    await pair.reg.runJobs();
  });
  afterAll(async () => pair?.close());

  const anon = () => client(pair.reg.app);

  it("answers from the uplink's document at once, the analysis fields pending; the job fills them", async () => {
    const res = await anon().get("/agent/tiny-ms");
    expect(res.status).toBe(200);
    const first = (await res.json()) as Info;
    expect(first).toMatchObject({
      name: "tiny-ms",
      version: "2.1.0",
      source: "uplink",
      description: "Convert time strings to milliseconds",
      license: "MIT",
      access: "public",
      distTags: { latest: "2.1.0", next: "3.0.0-beta.1" },
      dependencies: { "left-pad": "^1.0.0" },
      engines: { node: ">=22" },
      versionCount: 3,
      deprecated: null,
      analysis: "pending",
      pending: ["quality", "capabilities", "trust"],
      analysisError: null,
      quality: null,
      trust: null,
      capabilities: [],
      // Downloads count this registry's packages; proxied ones are not counted.
      downloads: { lastWeek: 0, lastMonth: 0 },
    });
    expect(Date.parse(first.lastPublish as string)).not.toBeNaN();

    // Asking again commits no second job: one analysis for the version.
    expect((await anon().get("/agent/tiny-ms")).status).toBe(200);
    const tarballAsks = () =>
      pair.askedAbout("tiny-ms").filter((r) => r.path.endsWith(".tgz")).length;
    expect(tarballAsks()).toBe(0);
    expect(await pair.reg.runJobs()).toBe(1);
    // The job fetched the tarball through the uplink, as an install would.
    expect(tarballAsks()).toBe(1);

    const done = (await (await anon().get("/agent/tiny-ms")).json()) as Info;
    expect(done).toMatchObject({
      source: "uplink",
      version: "2.1.0",
      analysis: "complete",
      pending: [],
      analysisError: null,
      trust: { hasTypes: true, hasTests: true, hasCI: false },
    });
    expect(done.quality?.score).toBeGreaterThan(0);
    expect(await pair.reg.runJobs()).toBe(0);
  });

  it("latest?node= and previous?version= read the uplink's versions", async () => {
    const node20 = await anon().get("/agent/tiny-ms/latest?node=20");
    expect(await node20.json()).toMatchObject({
      name: "tiny-ms",
      version: "1.0.0",
      enginesNode: ">=14",
      node: "20.0.0",
    });
    const node22 = (await (await anon().get("/agent/tiny-ms/latest?node=22")).json()) as Info;
    expect(node22.version).toBe("2.1.0");
    expect(typeof node22.publishedAt).toBe("string");
    const prev = await anon().get("/agent/tiny-ms/previous?version=2.1.0");
    expect(await prev.json()).toMatchObject({ version: "2.1.0", previous: { version: "1.0.0" } });
    await expectError(await anon().get("/agent/tiny-ms/previous?version=9.9.9"), 404, "NOT_FOUND");
    await expectError(await anon().get("/agent/tiny-ms/latest?node=banana"), 400, "VALIDATION");
  });

  it("docs, deps and recommendations answer for a proxied package too", async () => {
    // Analysed by the first test: the typed docs from its .d.ts.
    const docs = (await (await anon().get("/agent/tiny-ms/docs")).json()) as Record<
      string,
      unknown
    > & { entries: { name: string }[] };
    expect(docs).toMatchObject({
      version: "2.1.0",
      kind: "typed",
      status: "ready",
      markdown: null,
    });
    expect(docs.entries.map((e) => e.name)).toContain("ms");

    // Its dependency resolves through the uplink too (not held here: inRegistry false).
    await publishUpstream("left-pad", "1.3.0", { description: "Pad strings" });
    const graph = (await (await anon().get("/agent/tiny-ms/deps")).json()) as {
      root: string;
      nodes: { id: string; inRegistry: boolean; unresolved: string | null }[];
    };
    expect(graph.root).toBe("tiny-ms@2.1.0");
    expect(graph.nodes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: "tiny-ms@2.1.0", inRegistry: false, unresolved: null }),
        expect.objectContaining({ id: "left-pad@1.3.0", inRegistry: false, unresolved: null }),
      ]),
    );

    // What this registry's own packages use alongside it.
    const app = {
      name: "uses-ms",
      version: "1.0.0",
      dependencies: { "tiny-ms": "^2.0.0", "local-ms": "^1.0.0" },
    };
    const put = await client(pair.reg.app, pair.token).put(
      "/uses-ms",
      publishBody("uses-ms", "1.0.0", { bytes: await makeTarball(app), manifest: app }),
    );
    expect(put.status).toBe(201);
    await pair.reg.runJobs();
    const recs = await (await anon().get("/agent/tiny-ms/recommendations")).json();
    expect(recs).toMatchObject({
      name: "tiny-ms",
      dependents: 1,
      recommendations: [{ name: "local-ms", count: 1, inRegistry: true }],
    });
  });

  it("docs for a proxied package nobody asked about yet: pending, and the job is committed", async () => {
    await publishUpstream(
      "fresh-dts",
      "1.0.0",
      { types: "index.d.ts" },
      {
        files: { "index.d.ts": "export declare const answer: 42;\n" },
      },
    );
    const first = await (await anon().get("/agent/fresh-dts/docs")).json();
    expect(first).toMatchObject({ kind: "none", status: "pending", entries: [] });
    expect(await pair.reg.runJobs()).toBe(1);
    const done = (await (await anon().get("/agent/fresh-dts/docs")).json()) as {
      kind: string;
      entries: { name: string }[];
    };
    expect(done.kind).toBe("typed");
    expect(done.entries.map((e) => e.name)).toContain("answer");
  });

  it("compare takes local and proxied packages side by side", async () => {
    const res = await anon().get("/agent/compare?packages=local-ms,tiny-ms");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { packages: Info[] };
    expect(body.packages.map((p) => [p.name, p.source])).toEqual([
      ["local-ms", "local"],
      ["tiny-ms", "uplink"],
    ]);
    // A local package's answer carries its dist-tags and an empty `pending` once analysed.
    expect(body.packages[0]).toMatchObject({ distTags: { latest: "1.0.0" }, pending: [] });
  });

  it("refuses what it must: names the uplink lacks, private scopes, hostile names, a down uplink", async () => {
    const missing = await expectError(await anon().get("/agent/not-anywhere"), 404, "NOT_FOUND");
    expect(missing.error).toContain("nor on its uplink");
    // A scope Packr owns is never asked of the uplink (dependency confusion): unknown here.
    const before = pair.askedAbout("@corp/tool").length;
    await expectError(await anon().get("/agent/@corp/tool"), 401, "UNAUTHORIZED");
    await expectError(
      await client(pair.reg.app, pair.token).get("/agent/@corp/tool"),
      404,
      "NOT_FOUND",
    );
    expect(pair.askedAbout("@corp/tool").length).toBe(before);
    for (const path of ["/agent/..%2f..%2fetc", "/agent/%20ms", "/agent/UPPER"]) {
      const res = await anon().get(path);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
    }
    // The uplink is down and nothing is cached for the name: 503, never a 404.
    await pair.upstream.stop();
    try {
      await expectError(await anon().get("/agent/never-fetched"), 503, "UNAVAILABLE");
      // What is cached still answers.
      const cached = await anon().get("/agent/tiny-ms");
      expect(cached.status).toBe(200);
    } finally {
      await pair.upstream.start();
    }
  });

  it("a version the uplink withdrew before the job ran is recorded as failed, not retried", async () => {
    await publishUpstream("short-lived", "1.0.0", { description: "Soon gone" });
    const info = (await (await anon().get("/agent/short-lived")).json()) as Info;
    expect(info.pending).toEqual(["quality", "capabilities", "trust"]);
    // Withdrawn upstream: the whole package is unpublished there.
    const upstream = client(pair.upstream.registry.app, pair.upstreamToken);
    const doc = (await (await upstream.get("/short-lived")).json()) as { _rev: string };
    const gone = await upstream.delete(`/short-lived/-rev/${doc._rev}`);
    expect(gone.status, await gone.text()).toBeLessThan(300);
    // Past this registry's cache of the document (max age) the uplink's 404 is seen.
    await new Promise((r) => setTimeout(r, 1100));
    expect(await pair.reg.runJobs()).toBe(1);
    const [row] = await pair.reg.runtime.deps.db
      .select()
      .from(schema.uplinkAnalyses)
      .where(eq(schema.uplinkAnalyses.name, "short-lived"));
    expect(row).toMatchObject({ version: "1.0.0", signals: null });
    expect(row?.error).toBe("short-lived@1.0.0 is no longer on the uplink.");
    expect(row?.analyzedAt).toBeInstanceOf(Date);
    // Final: nothing left to retry.
    const queued = await pair.reg.runtime.deps.db
      .select()
      .from(schema.outbox)
      .where(and(eq(schema.outbox.topic, "uplink.analyze"), isNull(schema.outbox.processedAt)));
    expect(queued).toEqual([]);
    // And the name now answers as the uplink does: not found.
    await expectError(await anon().get("/agent/short-lived"), 404, "NOT_FOUND");
  });
});
