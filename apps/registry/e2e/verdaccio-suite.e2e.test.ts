/**
 * Verdaccio's public end-to-end suite (`@verdaccio/e2e-cli`, on npm) against a booted Packr, for
 * npm, pnpm and yarn 4: a second opinion on the npm protocol written by another registry's team.
 * Each client's battery runs as its own e2e-cli process (in parallel: they publish under unique
 * names), the suite's per-check report is printed, and the test fails on any failed check, on a
 * non-zero exit, and on a check that is skipped without being one of the skips listed below.
 *
 * The registry is the open-registry setup the suite assumes: scoped packages published without
 * --access are public (PACKR_SCOPED_DEFAULT_ACCESS=public), since its metadata and tarball
 * scenarios read a freshly published scoped package without a token. No uplink: the suite's
 * uplink scenarios skip themselves without --uplink-port.
 */
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { freePort, type RegistryProcess, startRegistryProcess } from "../test/harness.ts";
import {
  Clients,
  clientEnv,
  loginToken,
  PNPM_CJS,
  type RunResult,
  run,
  stopRegistry,
  YARN_JS,
} from "./clients.ts";
import { type Check, formatSuiteReport, parseSuiteReport } from "./verdaccio-report.ts";

vi.setConfig({ testTimeout: 1_200_000 });

/**
 * Per check. The suite's default (50 s) is about what pnpm's `deprecate` and `dist-tags` take on
 * a quiet two-core machine (each runs a dozen pnpm processes); with three batteries in parallel,
 * beside other test files, a slow machine must not read as a failed check.
 */
const CHECK_TIMEOUT_MS = 300_000;

const require = createRequire(import.meta.url);
// The package exports only its code; its bin sits two directories above the CommonJS entry.
const E2E_CLI = path.join(
  path.dirname(require.resolve("@verdaccio/e2e-cli")),
  "..",
  "..",
  "bin",
  "e2e-cli.js",
);

/**
 * Checks the suite itself skips for a client (it says which commands each adapter supports and
 * which scenarios need a given client or an uplink), plus three we skip for yarn: its yarn
 * `deprecate`, `login` and `ping` checks first `npm pack @verdaccio/yarn-plugin-npm-<name>` from
 * the public registry, and those plugin packages are not published there (npm answers 404), so
 * those three cannot run against any registry. (yarn 4 itself has no `npm ping` or `npm
 * deprecate`, and its `npm login` only prompts.)
 */
const UPLINK_SCENARIOS = ["scenario:uplink-failure", "scenario:reserved-names"];
const EXPECTED_SKIPS: Record<string, string[]> = {
  npm: ["login", "scenario:minimum-release-age", ...UPLINK_SCENARIOS],
  pnpm: [
    "login",
    "scenario:minimum-release-age",
    "scenario:tarballs",
    "scenario:metadata",
    "scenario:search",
    ...UPLINK_SCENARIOS,
  ],
  "yarn-modern": [
    "audit",
    "deprecate",
    "dist-tags",
    "login",
    "ping",
    "search",
    "unpublish",
    "scenario:minimum-release-age",
    "scenario:tarballs",
    "scenario:metadata",
    "scenario:search",
    ...UPLINK_SCENARIOS,
  ],
};
const YARN_PLUGIN_CHECKS = ["deprecate", "login", "ping"];

const BATTERIES: { client: string; pm: string; extra: string[] }[] = [
  { client: "npm", pm: "npm", extra: [] },
  { client: "pnpm", pm: `pnpm=${PNPM_CJS}`, extra: [] },
  {
    client: "yarn-modern",
    pm: `yarn-modern=${YARN_JS}`,
    extra: YARN_PLUGIN_CHECKS.flatMap((t) => ["--skip-test", t]),
  },
];

let registry: RegistryProcess;
let clients: Clients;
let registryUrl: string;
let token: string;

beforeAll(async () => {
  clients = await Clients.create("verdaccio");
  const port = await freePort();
  // The suite writes `//localhost:<port>/:_authToken` into .npmrc and allows plain http for
  // "localhost" only in .yarnrc.yml, so the registry must be reached (and advertise itself) so.
  registryUrl = `http://localhost:${port}`;
  registry = await startRegistryProcess({
    port,
    env: { PACKR_PUBLIC_URL: registryUrl, PACKR_SCOPED_DEFAULT_ACCESS: "public" },
  });
  token = await loginToken(registryUrl, "admin", registry.adminPassword);
});

afterAll(async () => {
  await stopRegistry(registry);
  await clients?.cleanup();
});

/** One client's battery in its own HOME and TMPDIR (the suite leaves its projects in TMPDIR). */
async function runBattery(b: (typeof BATTERIES)[number]): Promise<RunResult> {
  const sb = await clients.sandbox();
  const tmp = path.join(sb.cache, "tmp");
  await mkdir(tmp, { recursive: true });
  return run(
    process.execPath,
    [
      E2E_CLI,
      ...["--registry", registryUrl, "--token", token, "--pm", b.pm],
      ...["--timeout", String(CHECK_TIMEOUT_MS), ...b.extra],
    ],
    {
      cwd: sb.home,
      env: clientEnv(sb.home, { npm_config_cache: path.join(sb.cache, "npm"), TMPDIR: tmp }),
      timeoutMs: 1_100_000,
    },
  );
}

const tail = (s: string, n = 6_000) => (s.length > n ? `…${s.slice(-n)}` : s);

describe("Verdaccio's e2e suite (@verdaccio/e2e-cli) against Packr", () => {
  it("passes every check for npm, pnpm and yarn 4", async () => {
    const started = Date.now();
    const runs = await Promise.all(BATTERIES.map(runBattery));
    const seconds = ((Date.now() - started) / 1000).toFixed(1);

    const problems: string[] = [];
    const reports: string[] = [];
    BATTERIES.forEach((b, i) => {
      const r = runs[i] as RunResult;
      const [report] = parseSuiteReport(r.stdout);
      if (!report) {
        problems.push(`${b.client}: no report (exit ${r.code}):\n${tail(r.output)}`);
        return;
      }
      reports.push(
        `${formatSuiteReport(report)}\n  (exit ${r.code}, ${(r.ms / 1000).toFixed(1)} s)`,
      );
      if (!report.client.startsWith(`${b.client}@`)) {
        problems.push(`${b.client}: the suite ran ${report.client}`);
      }
      const byStatus = (s: Check["status"]) =>
        report.checks.filter((c) => c.status === s).map((c) => c.name);
      for (const failed of byStatus("fail")) problems.push(`${report.client}: ${failed} failed`);
      const skipped = byStatus("skip").sort();
      const expected = [...(EXPECTED_SKIPS[b.client] ?? [])].sort();
      if (JSON.stringify(skipped) !== JSON.stringify(expected)) {
        problems.push(
          `${report.client}: skipped ${JSON.stringify(skipped)}, expected ${JSON.stringify(expected)}`,
        );
      }
      if (byStatus("pass").length === 0) problems.push(`${report.client}: no check passed`);
      if (r.code !== 0 || r.timedOut) {
        problems.push(`${b.client}: exit ${r.code}${r.timedOut ? " (timed out)" : ""}`);
      }
    });

    console.log(
      `Verdaccio e2e suite against ${registryUrl} (${seconds} s wall):\n\n${reports.join("\n\n")}`,
    );
    if (problems.length > 0) {
      const logs = BATTERIES.map(
        (b, i) => `----- ${b.client} -----\n${tail((runs[i] as RunResult).output)}`,
      ).join("\n");
      expect.fail(`${problems.join("\n")}\n\n${logs}\n\nregistry log:\n${tail(registry.output())}`);
    }
  });
});

describe("PACKR_SCOPED_DEFAULT_ACCESS at start", () => {
  it("a registry given a bad value does not start, and says which setting and what it takes", async () => {
    const err = await startRegistryProcess({
      dataDir: await clients.dir("bad-config"),
      env: { PACKR_SCOPED_DEFAULT_ACCESS: "open" },
    }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^registry exited with 1/);
    expect(err?.message).toContain(
      'PACKR_SCOPED_DEFAULT_ACCESS: expected restricted or public, got "open"',
    );
  });
});
