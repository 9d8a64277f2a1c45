import semver from "semver";
import type { ServiceContext } from "../context.ts";
import { PackrError } from "../errors.ts";
import { auditWarning, type BulkAdvisory, forwardBulkAudit } from "../uplink/forward-audit.ts";
import { privateNames } from "../uplink/private-names.ts";
import { UplinkFailure } from "../uplink/uplink-http.ts";
import type { AuditAnswer } from "./audit-bulk.ts";

type Severity = "info" | "low" | "moderate" | "high" | "critical";
const SEVERITIES: readonly Severity[] = ["info", "low", "moderate", "high", "critical"];

export type AuditReport = {
  actions: unknown[];
  advisories: Record<string, unknown>;
  muted: unknown[];
  metadata: {
    vulnerabilities: Record<Severity, number>;
    dependencies: number;
    devDependencies: number;
    optionalDependencies: number;
    totalDependencies: number;
  };
};

/** Where one name@version sits in the tree: its dependency paths (`.>a>b`), capped. */
type Node = { paths: string[] };
const MAX_PATHS_PER_NODE = 100;

/**
 * `POST /-/npm/v1/security/audits/quick` and `/-/npm/v1/security/audits` (pnpm ≤ 10, npm ≤ 10.9):
 * the npm-6 tree `{name, version, requires, dependencies: {<name>: {version, dev, dependencies}}}`
 * in, an npm-6 report out. Top-level nodes without an `integrity` are pnpm's workspace projects
 * ("." and friends), not dependencies; the metadata counts the distinct `name@version` nodes,
 * dev-only ones apart.
 *
 * npmjs retired these endpoints (410 since 2026), so Packr does not forward the tree: it asks the
 * uplink's bulk advisory service about the tree's public names and builds the npm-6 report here —
 * findings with their paths from the tree, `patched_versions` inferred from simple ranges — so
 * `pnpm audit` keeps working through Packr. Without an uplink, or when it fails, the report is
 * empty (with a warning), never a 5xx.
 */
export async function auditQuick(args: {
  ctx: ServiceContext;
  input: { body: unknown };
}): Promise<AuditAnswer<AuditReport>> {
  const body = args.input.body;
  if (!isRecord(body) || (body.dependencies !== undefined && !isRecord(body.dependencies))) {
    throw new PackrError(
      "VALIDATION",
      "An audit request is the npm-6 dependency tree: a JSON object with a dependencies object.",
    );
  }
  const prod = new Set<string>();
  const dev = new Set<string>();
  const nodes = new Map<string, Map<string, Node>>();
  // Paths are only needed for findings, which only an uplink can produce.
  const trackPaths = args.ctx.deps.uplink !== undefined;
  // Iterative walk: a hostile body may nest deeper than the call stack.
  const stack: Array<{ deps: Record<string, unknown>; top: boolean; path: string }> = [];
  if (isRecord(body.dependencies)) stack.push({ deps: body.dependencies, top: true, path: "" });
  let visited = 0;
  while (stack.length > 0) {
    const next = stack.pop();
    if (!next) break;
    for (const [name, node] of Object.entries(next.deps)) {
      if (!isRecord(node)) continue;
      if (++visited > 1_000_000) {
        throw new PackrError("VALIDATION", "The audit tree is too large.");
      }
      const path = next.path ? `${next.path}>${name}` : name;
      const importer = next.top && typeof node.integrity !== "string";
      if (!importer && typeof node.version === "string") {
        (node.dev === true ? dev : prod).add(`${name}@${node.version}`);
        const versions = nodes.get(name) ?? new Map<string, Node>();
        nodes.set(name, versions);
        const entry = versions.get(node.version) ?? { paths: [] };
        versions.set(node.version, entry);
        if (trackPaths && entry.paths.length < MAX_PATHS_PER_NODE) entry.paths.push(path);
      }
      if (isRecord(node.dependencies)) {
        stack.push({
          deps: node.dependencies,
          top: false,
          path: trackPaths ? path.slice(0, 1024) : "",
        });
      }
    }
  }
  for (const id of prod) dev.delete(id);
  const report: AuditReport = {
    actions: [],
    advisories: {},
    muted: [],
    metadata: {
      vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0 },
      dependencies: prod.size,
      devDependencies: dev.size,
      optionalDependencies: 0,
      totalDependencies: prod.size + dev.size,
    },
  };

  const uplink = args.ctx.deps.uplink;
  if (!uplink || nodes.size === 0) return { report };
  const own = await privateNames(args.ctx, uplink, [...nodes.keys()]);
  const query: Record<string, string[]> = {};
  for (const [name, versions] of nodes) {
    if (!own.has(name)) query[name] = [...versions.keys()];
  }
  if (Object.keys(query).length === 0) return { report };
  let found: Record<string, BulkAdvisory[]>;
  try {
    found = await forwardBulkAudit(uplink, query);
  } catch (err) {
    if (err instanceof UplinkFailure) return { report, warning: auditWarning(err) };
    throw err;
  }
  for (const [name, advisories] of Object.entries(found)) {
    const versions = nodes.get(name);
    if (!versions) continue;
    for (const advisory of advisories) {
      const range = advisory.vulnerable_versions ?? "*";
      const findings = [...versions]
        .filter(([version]) => affects(version, range))
        .map(([version, node]) => ({ version, paths: node.paths }));
      if (findings.length === 0) continue;
      // npm's metavuln calculator reads a missing severity as high.
      const severity = SEVERITIES.includes(advisory.severity as Severity)
        ? (advisory.severity as Severity)
        : "high";
      const patched = patchedVersions(range);
      report.advisories[String(advisory.id)] = {
        ...advisory,
        id: advisory.id,
        title: advisory.title ?? `Advisory ${advisory.id}`,
        module_name: name,
        vulnerable_versions: range,
        patched_versions: patched,
        severity,
        url: advisory.url ?? "",
        cwe: advisory.cwe ?? [],
        findings,
        overview: advisory.title ?? "",
        recommendation: patched === "<0.0.0" ? "None." : `Upgrade to version ${patched}.`,
        github_advisory_id: ghsaOf(advisory.url),
      };
      report.metadata.vulnerabilities[severity] += 1;
    }
  }
  return { report };
}

function affects(version: string, range: string): boolean {
  try {
    return semver.satisfies(version, range, { includePrerelease: true, loose: true });
  } catch {
    return true;
  }
}

/**
 * The versions that fix a range, for the shapes advisories use: `<1.2.3` → `>=1.2.3`,
 * `<=1.2.3` → `>1.2.3`, `>=1.0.0 <1.2.3` → `>=1.2.3`; otherwise npm's "no fix" `<0.0.0`.
 */
export function patchedVersions(range: string): string {
  const sets = range.split("||").map((s) => s.trim());
  const last = sets[sets.length - 1] ?? "";
  const upper = /(<=?)\s*v?(\d+\.\d+\.\d+[\w.+-]*)\s*$/.exec(last);
  if (!upper?.[1] || !upper[2] || !semver.valid(upper[2])) return "<0.0.0";
  return `${upper[1] === "<" ? ">=" : ">"}${upper[2]}`;
}

const ghsaOf = (url: string | undefined): string | undefined => /GHSA-[\w-]+/i.exec(url ?? "")?.[0];

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
