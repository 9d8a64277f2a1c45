import { describe, expect, it } from "vitest";
import { formatSuiteReport, parseSuiteReport } from "./verdaccio-report.ts";

// Lines as @verdaccio/e2e-cli 3.4.0's reporter writes them (colours included), trimmed.
const dim = (s: string) => `\x1b[2m${s}\x1b[0m`;
const OUTPUT = [
  "Adapters: npm@11.19.1, yarn-modern@4.18.1",
  "",
  "\x1b[1m\x1b[36mnpm@11.19.1\x1b[0m",
  `  ${dim("running")} npm@11.19.1 > publish...`,
  `  \x1b[32m✓\x1b[0m publish ${dim("4.9s")}`,
  `  ${dim("running")} npm@11.19.1 > deprecate...`,
  "",
  `    \x1b[1m\x1b[32m✓\x1b[0m \x1b[1mdeprecate single version\x1b[0m ${dim("1.8s")}`,
  "",
  `      ${dim("» a trace line")}`,
  `    \x1b[1m\x1b[32m✓\x1b[0m \x1b[1mun-deprecate\x1b[0m ${dim("312ms")}`,
  "",
  `  \x1b[32mPASS\x1b[0m deprecate ${dim("2.1s")}`,
  `  ${dim("running")} npm@11.19.1 > scenario:metadata...`,
  `    \x1b[1m\x1b[31m✗\x1b[0m \x1b[1mscoped packument via %2f-encoded URL\x1b[0m ${dim("805ms")}`,
  `  \x1b[31mFAIL\x1b[0m scenario:metadata ${dim("3.2s")}`,
  "    \x1b[31mExpected 200 for @verdaccio/e2e-metadata-x\x1b[0m",
  "    \x1b[31m401 !== 200\x1b[0m",
  "  \x1b[33mSKIP\x1b[0m login",
  "",
  "\x1b[1m\x1b[36myarn-modern@4.18.1\x1b[0m",
  "  \x1b[33mSKIP\x1b[0m audit",
  `  \x1b[32m✓\x1b[0m info ${dim("5.2s")}`,
  "",
  `\x1b[1m${"=".repeat(50)}\x1b[0m`,
  "\x1b[1mSummary\x1b[0m",
  "  \x1b[31mx\x1b[0m npm@11.19.1: 2 passed, 1 failed, 1 skipped (5.0s)",
].join("\n");

describe("parseSuiteReport", () => {
  it("reads each client's checks, their sub-checks and a failure's message", () => {
    const [npm, yarn, ...rest] = parseSuiteReport(OUTPUT);
    expect(rest).toEqual([]);
    expect(npm?.client).toBe("npm@11.19.1");
    expect(npm?.checks).toEqual([
      { name: "publish", status: "pass", duration: "4.9s", subChecks: [], error: [] },
      {
        name: "deprecate",
        status: "pass",
        duration: "2.1s",
        subChecks: [
          { label: "deprecate single version", passed: true, duration: "1.8s" },
          { label: "un-deprecate", passed: true, duration: "312ms" },
        ],
        error: [],
      },
      {
        name: "scenario:metadata",
        status: "fail",
        duration: "3.2s",
        subChecks: [
          { label: "scoped packument via %2f-encoded URL", passed: false, duration: "805ms" },
        ],
        error: ["Expected 200 for @verdaccio/e2e-metadata-x", "401 !== 200"],
      },
      { name: "login", status: "skip", duration: "", subChecks: [], error: [] },
    ]);
    expect(yarn?.client).toBe("yarn-modern@4.18.1");
    expect(yarn?.checks.map((c) => [c.name, c.status])).toEqual([
      ["audit", "skip"],
      ["info", "pass"],
    ]);
  });

  it("finds nothing in output that has no report (the suite could not start)", () => {
    expect(parseSuiteReport("Error: Registry at http://localhost:1 is not reachable\n")).toEqual(
      [],
    );
  });

  it("formats one line per check and sub-check, with the counts", () => {
    const [npm] = parseSuiteReport(OUTPUT);
    const text = formatSuiteReport(npm as NonNullable<typeof npm>);
    expect(text.split("\n")).toEqual([
      "npm@11.19.1",
      "  PASS publish (4.9s)",
      "  PASS deprecate (2.1s)",
      "      ✓ deprecate single version (1.8s)",
      "      ✓ un-deprecate (312ms)",
      "  FAIL scenario:metadata (3.2s)",
      "      ✗ scoped packument via %2f-encoded URL (805ms)",
      "      ! Expected 200 for @verdaccio/e2e-metadata-x",
      "      ! 401 !== 200",
      "  SKIP login",
      "  = 2 passed, 1 failed, 1 skipped",
    ]);
  });
});
