import { and, eq, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAgentPackage } from "../src/agent/get-agent-package.ts";
import { analyzeUplinkVersion } from "../src/analysis/analyze-uplink-version.ts";
import type { ServiceContext } from "../src/context.ts";
import { outbox, uplinkAnalyses } from "../src/db/schema/index.ts";
import { ANALYZE_UPLINK_VERSION } from "../src/jobs/topics.ts";
import { publishPackage } from "../src/packages/publish-package.ts";
import {
  createTestDeps,
  makeTarball,
  publishBody,
  startUplinkServer,
  type TestDeps,
  testDrivers,
  tokenContext,
  type UplinkServer,
} from "../src/testing/index.ts";
import { anonymous, failure } from "./helpers.ts";

/**
 * The `uplink.analyze` job against the uplink stand-in (a second Packr on loopback): the first
 * agent question claims the version and commits one job; the job analyses the tarball fetched
 * through the uplink; an uplink that is down makes it throw (the relay retries) without
 * recording a failure; a registry without an uplink any more has nothing to do.
 */
describe.each(testDrivers())("uplink analysis on %s", (driver) => {
  let upstream: TestDeps;
  let server: UplinkServer;
  let packr: TestDeps;
  let anon: ServiceContext;

  beforeAll(async () => {
    upstream = await createTestDeps(driver);
    const publisher = await tokenContext(upstream, { user: "npmjs", role: "maintainer" });
    server = await startUplinkServer(upstream);
    for (const version of ["1.0.0", "1.1.0"]) {
      const manifest = {
        name: "dur",
        version,
        description: "Durations in milliseconds",
        license: { type: "ISC" },
        types: "index.d.ts",
      };
      const bytes = await makeTarball(manifest, {
        "index.d.ts": "export declare function dur(s: string): number;\n",
      });
      await publishPackage({
        ctx: publisher,
        input: { name: "dur", body: publishBody("dur", version, { bytes, manifest }) },
      });
    }
    packr = await createTestDeps(driver, undefined, {
      uplink: { url: server.url, maxAgeMs: 60_000, timeoutMs: 400 },
      privateScopes: ["corp"],
    });
    anon = anonymous(packr);
  });
  afterAll(async () => {
    await server.stop();
    await packr.close();
    await upstream.close();
  });

  const pendingJobs = () =>
    packr.db
      .select({ payload: outbox.payload })
      .from(outbox)
      .where(and(eq(outbox.topic, ANALYZE_UPLINK_VERSION), isNull(outbox.processedAt)));

  it("the first question claims the latest version and commits one job; asking again commits none", async () => {
    const info = await getAgentPackage({ ctx: anon, input: { name: "dur" } });
    expect(info).toMatchObject({
      source: "uplink",
      version: "1.1.0",
      license: "ISC",
      analysis: "pending",
      pending: ["quality", "capabilities", "trust"],
      versionCount: 2,
    });
    await getAgentPackage({ ctx: anon, input: { name: "dur" } });
    expect(await pendingJobs()).toEqual([{ payload: { name: "dur", version: "1.1.0" } }]);
  });

  it("an uplink that is down: the job throws for a retry and records nothing", async () => {
    await server.stop();
    try {
      // The document is cached; the tarball is not, and cannot be fetched.
      const err = await failure(analyzeUplinkVersion(packr, { name: "dur", version: "1.1.0" }, {}));
      expect(err.code).toBe("UNAVAILABLE");
    } finally {
      await server.start();
    }
    const [row] = await packr.db
      .select()
      .from(uplinkAnalyses)
      .where(eq(uplinkAnalyses.name, "dur"));
    expect(row).toMatchObject({ signals: null, error: null, analyzedAt: null });
  });

  it("once the uplink answers, the job analyses the tarball and the answer is complete", async () => {
    expect(await analyzeUplinkVersion(packr, { name: "dur", version: "1.1.0" }, {})).toBe(
      "analyzed",
    );
    const info = await getAgentPackage({ ctx: anon, input: { name: "dur" } });
    expect(info).toMatchObject({
      analysis: "complete",
      pending: [],
      trust: { hasTypes: true },
    });
    expect(info.quality?.score).toBeGreaterThan(0);
  });

  it("a version the uplink does not have is recorded as failed; without an uplink there is nothing to do", async () => {
    expect(await analyzeUplinkVersion(packr, { name: "dur", version: "9.9.9" }, {})).toBe("failed");
    const [row] = await packr.db
      .select()
      .from(uplinkAnalyses)
      .where(and(eq(uplinkAnalyses.name, "dur"), eq(uplinkAnalyses.version, "9.9.9")));
    expect(row?.error).toBe("dur@9.9.9 is no longer on the uplink.");
    expect(
      await analyzeUplinkVersion(
        { ...packr, uplink: undefined },
        { name: "dur", version: "1.1.0" },
        {},
      ),
    ).toBe("no-uplink");
    // A name in a scope Packr owns is never proxied: the agent answers as for a local name.
    expect((await failure(getAgentPackage({ ctx: anon, input: { name: "@corp/x" } }))).code).toBe(
      "UNAUTHORIZED",
    );
  });
});
