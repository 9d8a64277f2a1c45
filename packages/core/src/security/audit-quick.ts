import type { ServiceContext } from "../context.ts";
import { PackrError } from "../errors.ts";

export type AuditReport = {
  actions: unknown[];
  advisories: Record<string, unknown>;
  muted: unknown[];
  metadata: {
    vulnerabilities: {
      info: number;
      low: number;
      moderate: number;
      high: number;
      critical: number;
    };
    dependencies: number;
    devDependencies: number;
    optionalDependencies: number;
    totalDependencies: number;
  };
};

/**
 * `POST /-/npm/v1/security/audits/quick` and `/-/npm/v1/security/audits` (pnpm ≤ 10, npm ≤ 10.9):
 * the npm-6 tree `{name, version, requires, dependencies: {<name>: {version, dev, dependencies}}}`
 * in, an npm-6 report out. With no advisory source the report is empty; its metadata counts the
 * distinct `name@version` nodes of the tree, dev-only ones apart. Top-level nodes without an
 * `integrity` are pnpm's workspace projects ("." and friends), not dependencies.
 * TODO(uplink): forward to the uplink's audit service when one is configured (issue #3).
 */
export async function auditQuick(args: {
  ctx: ServiceContext;
  input: { body: unknown };
}): Promise<AuditReport> {
  const body = args.input.body;
  if (!isRecord(body) || (body.dependencies !== undefined && !isRecord(body.dependencies))) {
    throw new PackrError(
      "VALIDATION",
      "An audit request is the npm-6 dependency tree: a JSON object with a dependencies object.",
    );
  }
  const prod = new Set<string>();
  const dev = new Set<string>();
  // Iterative walk: a hostile body may nest deeper than the call stack.
  const stack: Array<{ deps: Record<string, unknown>; top: boolean }> = [];
  if (isRecord(body.dependencies)) stack.push({ deps: body.dependencies, top: true });
  let visited = 0;
  while (stack.length > 0) {
    const next = stack.pop();
    if (!next) break;
    for (const [name, node] of Object.entries(next.deps)) {
      if (!isRecord(node)) continue;
      if (++visited > 1_000_000) {
        throw new PackrError("VALIDATION", "The audit tree is too large.");
      }
      const importer = next.top && typeof node.integrity !== "string";
      if (!importer && typeof node.version === "string") {
        (node.dev === true ? dev : prod).add(`${name}@${node.version}`);
      }
      if (isRecord(node.dependencies)) stack.push({ deps: node.dependencies, top: false });
    }
  }
  for (const id of prod) dev.delete(id);
  return {
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
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
