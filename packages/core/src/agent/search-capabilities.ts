import { and, arrayOverlaps, eq, or, sql } from "drizzle-orm";
import {
  type CapabilityMatch,
  capabilitiesForQuery,
  type TermSource,
  termsForQuery,
} from "../analysis/capabilities.ts";
import { qualityScore } from "../analysis/quality-score.ts";
import { readableCondition } from "../auth/read-rule.ts";
import type { ServiceContext } from "../context.ts";
import { distTags, packages, versionAnalyses, versions } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { isLatestTagOfAnalysis, isLiveVersionOfAnalysis } from "./latest-analyses.ts";
import type { StoredSignals } from "./load-package.ts";
import type { SearchResponse, SearchResult } from "./types.ts";

/** How much a match counts, by where it was found. */
const CAPABILITY_WEIGHT: Record<TermSource, number> = {
  name: 3,
  keywords: 3,
  description: 2,
  readme: 1,
};
const TERM_WEIGHT: Record<TermSource, number> = {
  name: 3,
  keywords: 2,
  description: 1.5,
  readme: 1,
};
const CANDIDATES = 500;

/**
 * `GET /agent/search?q=`: packages whose latest version has the capability the query names, or
 * the query's words in its name, keywords, description or README headings. Candidates come from
 * the GIN-indexed arrays; each is scored for relevance (capability matches and word matches,
 * weighted by where they were found) and ranked by relevance × (0.5 + quality/100), so between
 * two equally relevant packages the better one wins, and a much more relevant one still beats a
 * polished but off-topic one. Every result says why it matched. Restricted packages are listed
 * only to callers who may read them.
 */
export async function searchCapabilities(args: {
  ctx: ServiceContext;
  input: { q: string; limit?: number };
}): Promise<SearchResponse> {
  const { ctx } = args;
  const query = args.input.q.trim();
  if (query.length === 0 || query.length > 200) {
    throw new PackrError("VALIDATION", "The search query q must be 1 to 200 characters.");
  }
  const limit = args.input.limit ?? 10;
  const caps = capabilitiesForQuery(query);
  const terms = termsForQuery(query);
  if (caps.length === 0 && terms.length === 0) {
    return { query, recognizedCapabilities: [], results: [] };
  }
  const capIds = caps.map((c) => c.id);
  const termList = terms.map((t) => t.term);
  const matches = [];
  if (capIds.length > 0) matches.push(arrayOverlaps(versionAnalyses.capabilities, capIds));
  if (termList.length > 0) matches.push(arrayOverlaps(versionAnalyses.terms, termList));
  const rows = await ctx.deps.db
    .select({
      name: packages.name,
      description: packages.description,
      version: versionAnalyses.version,
      signals: versionAnalyses.signals,
      capabilities: versionAnalyses.capabilities,
      terms: versionAnalyses.terms,
      deprecated: versions.deprecated,
      lastPublish: sql<string>`(select max(v2.published_at) from versions v2 where v2.package_id = ${packages.id} and v2.unpublished_at is null)`,
    })
    .from(versionAnalyses)
    .innerJoin(packages, eq(packages.id, versionAnalyses.packageId))
    .innerJoin(distTags, isLatestTagOfAnalysis)
    .innerJoin(versions, isLiveVersionOfAnalysis)
    .where(and(or(...matches), readableCondition(ctx.actor)))
    .limit(CANDIDATES);

  const now = ctx.deps.now();
  const results: SearchResult[] = rows.map((row) => {
    const signals = row.signals as StoredSignals;
    const reasons: string[] = [];
    let relevance = 0;
    const evidence = new Map<string, CapabilityMatch>(
      (signals.capabilityMatches ?? []).map((c) => [c.id, c]),
    );
    for (const cap of caps) {
      const found = evidence.get(cap.id);
      if (!found || !row.capabilities.includes(cap.id)) continue;
      const sources = (Object.keys(found.evidence) as TermSource[]).sort(
        (a, b) => CAPABILITY_WEIGHT[b] - CAPABILITY_WEIGHT[a],
      );
      const best = sources[0];
      if (!best) continue;
      relevance += CAPABILITY_WEIGHT[best];
      const where = sources.map((s) => `${s}: ${(found.evidence[s] ?? []).join(", ")}`).join("; ");
      reasons.push(`capability "${cap.label}" (${where})`);
    }
    const have = new Set(row.terms);
    const byStem = new Map<string, TermSource[]>();
    for (const t of terms) {
      if (!have.has(t.term)) continue;
      byStem.set(t.stem, [...(byStem.get(t.stem) ?? []), t.source]);
    }
    for (const [stem, sources] of byStem) {
      relevance += Math.max(...sources.map((s) => TERM_WEIGHT[s]));
      reasons.push(`"${stem}" in ${sources.join(", ")}`);
    }
    const lastPublish = new Date(row.lastPublish);
    const quality = qualityScore(signals, {
      version: row.version,
      lastPublishAt: lastPublish,
      now,
    }).score;
    const rank = Math.round(relevance * (0.5 + quality / 100) * 100) / 100;
    return {
      name: row.name,
      version: row.version,
      description: row.description,
      relevance,
      qualityScore: quality,
      rank,
      reasons,
      capabilities: row.capabilities,
      deprecated: row.deprecated,
    };
  });
  results.sort(
    (a, b) => b.rank - a.rank || b.qualityScore - a.qualityScore || a.name.localeCompare(b.name),
  );
  return {
    query,
    recognizedCapabilities: caps.map((c) => ({ id: c.id, label: c.label })),
    results: results.filter((r) => r.relevance > 0).slice(0, limit),
  };
}
