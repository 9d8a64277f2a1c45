/**
 * Reads the report `@verdaccio/e2e-cli` prints (its reporter.ts: one block per package manager,
 * one line per check, sub-checks above their check) into per-check results, so a test can say
 * which check failed and print one compact table instead of the suite's whole log.
 */

import { stripVTControlCharacters } from "node:util";

export type CheckStatus = "pass" | "fail" | "skip";

export type SubCheck = { label: string; passed: boolean; duration: string };

export type Check = {
  name: string;
  status: CheckStatus;
  duration: string;
  subChecks: SubCheck[];
  /** The error lines the suite printed under a failed check. */
  error: string[];
};

export type SuiteReport = {
  /** As the suite names it: `npm@11.19.1`, `pnpm@10.34.9`, `yarn-modern@4.18.1`. */
  client: string;
  checks: Check[];
};

/** Every suite block in the output, in order. */
export function parseSuiteReport(output: string): SuiteReport[] {
  const suites: SuiteReport[] = [];
  let current: SuiteReport | undefined;
  let pendingSubs: SubCheck[] = [];
  let lastFailed: Check | undefined;
  for (const raw of stripVTControlCharacters(output).split("\n")) {
    const line = raw.replace(/\s+$/, "");
    if (/^(npm|pnpm|yarn-modern|bun|deno|upm|nub)@\S+$/.test(line)) {
      current = { client: line, checks: [] };
      suites.push(current);
      pendingSubs = [];
      lastFailed = undefined;
      continue;
    }
    if (!current) continue;
    if (/^={10,}$/.test(line)) {
      current = undefined;
      continue;
    }
    const top = /^ {2}(✓|PASS|FAIL|SKIP) (\S+)(?: (\S+))?$/.exec(line);
    if (top) {
      const [, mark, name = "", duration = ""] = top;
      const status: CheckStatus = mark === "FAIL" ? "fail" : mark === "SKIP" ? "skip" : "pass";
      const check: Check = { name, status, duration, subChecks: pendingSubs, error: [] };
      current.checks.push(check);
      pendingSubs = [];
      lastFailed = status === "fail" ? check : undefined;
      continue;
    }
    const sub = /^ {4}(✓|✗) (.+?)(?: (\d+(?:\.\d+)?m?s))?$/.exec(line);
    if (sub) {
      const [, mark, label = "", duration = ""] = sub;
      pendingSubs.push({ label, passed: mark === "✓", duration });
      continue;
    }
    if (/^ {2}running /.test(line)) {
      lastFailed = undefined;
      continue;
    }
    // A failed check's message follows it, indented by four.
    if (lastFailed && /^ {4}\S/.test(line)) lastFailed.error.push(line.trim());
  }
  return suites;
}

/** One line per check (and per sub-check), for a test's log. */
export function formatSuiteReport(report: SuiteReport): string {
  const lines = [report.client];
  for (const check of report.checks) {
    const mark = { pass: "PASS", fail: "FAIL", skip: "SKIP" }[check.status];
    lines.push(`  ${mark} ${check.name}${check.duration ? ` (${check.duration})` : ""}`);
    for (const sub of check.subChecks) {
      lines.push(
        `      ${sub.passed ? "✓" : "✗"} ${sub.label}${sub.duration ? ` (${sub.duration})` : ""}`,
      );
    }
    for (const err of check.error.slice(0, 8)) lines.push(`      ! ${err}`);
  }
  const count = (s: CheckStatus) => report.checks.filter((c) => c.status === s).length;
  lines.push(`  = ${count("pass")} passed, ${count("fail")} failed, ${count("skip")} skipped`);
  return lines.join("\n");
}
