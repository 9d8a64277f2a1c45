/**
 * Verdaccio's public end-to-end suite (`@verdaccio/e2e-cli`, on npm) against a booted Packr, for
 * npm, pnpm and yarn 4: a second opinion on the npm protocol written by another registry's team.
 * Each client's battery runs as its own e2e-cli process (in parallel: they publish under unique
 * names), the suite's per-check report is printed, and the test fails on any failed check, on a
 * non-zero exit, and on a check that is skipped without being one of the skips listed below.
 *
 * The registry is the open-registry setup the suite assumes: scoped packages published without
 * --access are public (PACKR_SCOPED_DEFAULT_ACCESS=public), since its metadata and tarball
 * scenarios read a freshly published scoped package without a token. Its uplink scenarios run
 * against a second registry whose uplink is the suite's mock (see BATTERIES).
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
const YARN_PLUGIN_CHECKS = ["deprecate", "login", "ping"];

/**
 * The suite's "pending contract checks" (npmjs behaviour that current Verdaccio releases still
 * miss, off by default) that Packr meets, so they are held to as well: names npm refuses are
 * refused, tarballs carry Content-Length and are not gzipped twice, search's `total`, 400 without
 * `text`, ISO `time`. Not `reserved-names`: its pending check publishes a new unscoped name while
 * the uplink is down, which Packr refuses on purpose (503: it cannot check that the name does not
 * shadow a public package).
 */
const PENDING_CHECKS = "package-names,tarballs,search";

type Battery = {
  label: string;
  /** The adapter's name as the suite reports it, before `@<version>`. */
  client: string;
  registry: "main" | "uplink";
  args: string[];
  expectedSkips: string[];
};

const BATTERIES: Battery[] = [
  {
    label: "npm",
    client: "npm",
    registry: "main",
    args: ["--pm", "npm"],
    expectedSkips: ["login", "scenario:minimum-release-age", ...UPLINK_SCENARIOS],
  },
  {
    label: "pnpm",
    client: "pnpm",
    registry: "main",
    args: ["--pm", `pnpm=${PNPM_CJS}`],
    expectedSkips: [
      "login",
      "scenario:minimum-release-age",
      "scenario:tarballs",
      "scenario:metadata",
      "scenario:search",
      ...UPLINK_SCENARIOS,
    ],
  },
  {
    label: "yarn 4",
    client: "yarn-modern",
    registry: "main",
    args: [
      "--pm",
      `yarn-modern=${YARN_JS}`,
      ...YARN_PLUGIN_CHECKS.flatMap((t) => ["--skip-test", t]),
    ],
    expectedSkips: [
      "audit",
      "dist-tags",
      "search",
      "unpublish",
      "scenario:minimum-release-age",
      "scenario:tarballs",
      "scenario:metadata",
      "scenario:search",
      ...YARN_PLUGIN_CHECKS,
      ...UPLINK_SCENARIOS,
    ],
  },
  // The uplink scenarios (npm only) against a second registry whose uplink is the suite's mock.
  // Apart: Packr proxies every name it does not hold, and while the mock is down it refuses to
  // publish a name it cannot check upstream (503), which the other checks would trip over.
  {
    label: "npm, uplink scenarios",
    client: "npm",
    registry: "uplink",
    args: ["--pm", "npm", ...UPLINK_SCENARIOS.flatMap((t) => ["--test", t])],
    expectedSkips: [],
  },
];

type Target = { registry: RegistryProcess; url: string; token: string; uplinkPort?: number };

let clients: Clients;
const targets: Partial<Record<Battery["registry"], Target>> = {};

/**
 * The suite writes `//localhost:<port>/:_authToken` into .npmrc and allows plain http for
 * "localhost" only in .yarnrc.yml, so a registry must be reached (and advertise itself) so.
 */
async function bootRegistry(env: Record<string, string>, uplinkPort?: number): Promise<Target> {
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const registry = await startRegistryProcess({
    port,
    env: { PACKR_PUBLIC_URL: url, PACKR_SCOPED_DEFAULT_ACCESS: "public", ...env },
  });
  const token = await loginToken(url, "admin", registry.adminPassword);
  return { registry, url, token, ...(uplinkPort ? { uplinkPort } : {}) };
}

beforeAll(async () => {
  clients = await Clients.create("verdaccio");
  const uplinkPort = await freePort();
  const [main, uplink] = await Promise.all([
    bootRegistry({}),
    // The suite's own registry config (--print-config) gives its mock uplink a 3 s timeout.
    bootRegistry(
      { PACKR_UPLINK_URL: `http://localhost:${uplinkPort}`, PACKR_UPLINK_TIMEOUT: "3s" },
      uplinkPort,
    ),
  ]);
  targets.main = main;
  targets.uplink = uplink;
});

afterAll(async () => {
  await Promise.all(Object.values(targets).map((t) => stopRegistry(t.registry)));
  await clients?.cleanup();
});

/** One battery in its own HOME and TMPDIR (the suite leaves its projects in TMPDIR). */
async function runBattery(b: Battery): Promise<RunResult> {
  const target = targets[b.registry] as Target;
  const sb = await clients.sandbox();
  const tmp = path.join(sb.cache, "tmp");
  await mkdir(tmp, { recursive: true });
  return run(
    process.execPath,
    [
      E2E_CLI,
      ...["--registry", target.url, "--token", target.token, "--timeout", String(CHECK_TIMEOUT_MS)],
      ...(target.uplinkPort ? ["--uplink-port", String(target.uplinkPort)] : []),
      ...b.args,
    ],
    {
      cwd: sb.home,
      env: clientEnv(sb.home, {
        npm_config_cache: path.join(sb.cache, "npm"),
        TMPDIR: tmp,
        ...(b.registry === "main" ? { E2E_PENDING_CONTRACT_CHECKS: PENDING_CHECKS } : {}),
      }),
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
        problems.push(`${b.label}: no report (exit ${r.code}):\n${tail(r.output)}`);
        return;
      }
      reports.push(
        `[${b.label}] ${formatSuiteReport(report)}\n  (exit ${r.code}, ${(r.ms / 1000).toFixed(1)} s)`,
      );
      if (!report.client.startsWith(`${b.client}@`)) {
        problems.push(`${b.label}: the suite ran ${report.client}`);
      }
      const byStatus = (s: Check["status"]) =>
        report.checks.filter((c) => c.status === s).map((c) => c.name);
      for (const failed of byStatus("fail")) problems.push(`${b.label}: ${failed} failed`);
      const skipped = byStatus("skip").sort();
      const expected = [...b.expectedSkips].sort();
      if (JSON.stringify(skipped) !== JSON.stringify(expected)) {
        problems.push(
          `${b.label}: skipped ${JSON.stringify(skipped)}, expected ${JSON.stringify(expected)}`,
        );
      }
      if (byStatus("pass").length === 0) problems.push(`${b.label}: no check passed`);
      if (r.code !== 0 || r.timedOut) {
        problems.push(`${b.label}: exit ${r.code}${r.timedOut ? " (timed out)" : ""}`);
      }
    });

    console.log(
      `Verdaccio e2e suite against Packr (${seconds} s wall):\n\n${reports.join("\n\n")}`,
    );
    if (problems.length > 0) {
      const logs = BATTERIES.map(
        (b, i) => `----- ${b.label} -----\n${tail((runs[i] as RunResult).output)}`,
      ).join("\n");
      const registryLogs = Object.entries(targets)
        .map(([name, t]) => `----- registry ${name} -----\n${tail(t.registry.output())}`)
        .join("\n");
      expect.fail(`${problems.join("\n")}\n\n${logs}\n\n${registryLogs}`);
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
