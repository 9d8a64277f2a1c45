import { and, arrayContains, eq, inArray } from "drizzle-orm";
import { readableCondition } from "../auth/read-rule.ts";
import type { ServiceContext } from "../context.ts";
import { distTags, packages, versionAnalyses, versions } from "../db/schema/index.ts";
import { isLatestTagOfAnalysis, isLiveVersionOfAnalysis } from "./latest-analyses.ts";
import { readableOrProxied } from "./read-access.ts";
import type { RecommendationsResponse } from "./types.ts";

const MAX_DEPENDENTS = 2000;

/**
 * `GET /agent/:pkg/recommendations`: the packages most often depended on together with this one.
 * Dependents are the latest versions, in this registry, that depend on it (dependencies or peers,
 * from the GIN-indexed `dependency_names`); each other name they depend on counts once per
 * dependent. Only dependents the caller may read are counted, so the answer cannot reveal what
 * private packages use.
 */
export async function getRecommendations(args: {
  ctx: ServiceContext;
  input: { name: string; limit?: number };
}): Promise<RecommendationsResponse> {
  const { ctx } = args;
  // A proxied package counts too: what this registry's packages use alongside it.
  const { name } = await readableOrProxied(ctx, args.input.name);
  const rows = await ctx.deps.db
    .select({ name: packages.name, deps: versionAnalyses.dependencyNames })
    .from(versionAnalyses)
    .innerJoin(packages, eq(packages.id, versionAnalyses.packageId))
    .innerJoin(distTags, isLatestTagOfAnalysis)
    .innerJoin(versions, isLiveVersionOfAnalysis)
    .where(
      and(
        arrayContains(versionAnalyses.dependencyNames, [name.name]),
        readableCondition(ctx.actor),
      ),
    )
    .limit(MAX_DEPENDENTS);
  const counts = new Map<string, number>();
  for (const row of rows) {
    for (const dep of new Set(row.deps)) {
      if (dep === name.name || dep === row.name) continue;
      counts.set(dep, (counts.get(dep) ?? 0) + 1);
    }
  }
  const top = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, args.input.limit ?? 10);
  const visible = top.length
    ? await ctx.deps.db
        .select({ name: packages.name })
        .from(packages)
        .where(
          and(
            inArray(
              packages.name,
              top.map(([n]) => n),
            ),
            readableCondition(ctx.actor),
          ),
        )
    : [];
  const inRegistry = new Set(visible.map((p) => p.name));
  return {
    name: name.name,
    dependents: rows.length,
    recommendations: top.map(([n, count]) => ({ name: n, count, inRegistry: inRegistry.has(n) })),
  };
}
