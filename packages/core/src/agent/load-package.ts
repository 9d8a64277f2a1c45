import { and, eq, isNull, max, sql } from "drizzle-orm";
import type { CapabilityMatch, TermSource } from "../analysis/capabilities.ts";
import { TERM_SOURCES } from "../analysis/capabilities.ts";
import { qualityScore } from "../analysis/quality-score.ts";
import type { VersionSignals } from "../analysis/signals.ts";
import type { ServiceContext } from "../context.ts";
import { distTags, packages, versionAnalyses, versions } from "../db/schema/index.ts";
import { utcDay } from "../downloads/download-counter.ts";
import { countDownloads } from "../downloads/get-download-point.ts";
import { PackrError } from "../errors.ts";
import { isRecord } from "../packages/manifest.ts";
import type { PackageMeta } from "../packages/package-cache.ts";
import type { AgentCapability, AgentPackage } from "./types.ts";

/** What the analysis gives; listed in `pending` until it has run. */
export const ANALYSIS_FIELDS = ["quality", "capabilities", "trust"] as const;

export type StoredSignals = VersionSignals & { capabilityMatches?: CapabilityMatch[] };

const DAY_MS = 86_400_000;

/** The agent view of a package's latest version (the caller's access already checked). */
export async function loadAgentPackage(
  ctx: ServiceContext,
  name: string,
  meta: PackageMeta,
): Promise<AgentPackage> {
  const { db } = ctx.deps;
  const [row] = await db
    .select({
      description: packages.description,
      version: versions.version,
      manifest: versions.manifest,
      publishedAt: versions.publishedAt,
      deprecated: versions.deprecated,
      signals: versionAnalyses.signals,
    })
    .from(distTags)
    .innerJoin(packages, eq(packages.id, distTags.packageId))
    .innerJoin(
      versions,
      and(eq(versions.packageId, distTags.packageId), eq(versions.version, distTags.version)),
    )
    .leftJoin(
      versionAnalyses,
      and(
        eq(versionAnalyses.packageId, distTags.packageId),
        eq(versionAnalyses.version, distTags.version),
      ),
    )
    .where(and(eq(distTags.packageId, meta.id), eq(distTags.tag, "latest")));
  if (!row) throw new PackrError("NOT_FOUND", `${name} has no live version.`);
  const [stats] = await db
    .select({ last: max(versions.publishedAt), n: sql<number>`count(*)::int` })
    .from(versions)
    .where(and(eq(versions.packageId, meta.id), isNull(versions.unpublishedAt)));
  const now = ctx.deps.now();
  const lastPublish = stats?.last ?? row.publishedAt;
  const today = utcDay(now.getTime());
  const [lastWeek, lastMonth] = await Promise.all([
    countDownloads(ctx, meta.id, { start: utcDay(now.getTime() - 6 * DAY_MS), end: today }),
    countDownloads(ctx, meta.id, { start: utcDay(now.getTime() - 29 * DAY_MS), end: today }),
  ]);
  const signals = row.signals as StoredSignals | null;
  const manifest = row.manifest;
  const tags = await db
    .select({ tag: distTags.tag, version: distTags.version })
    .from(distTags)
    .where(eq(distTags.packageId, meta.id));
  return {
    name,
    version: row.version,
    source: "local",
    description:
      row.description ?? (typeof manifest.description === "string" ? manifest.description : null),
    license: typeof manifest.license === "string" ? manifest.license : null,
    access: meta.access,
    ...analysisFields(signals, { version: row.version, lastPublishAt: lastPublish, now }),
    analysisError: null,
    downloads: { lastWeek, lastMonth },
    dependencies: strings(manifest.dependencies),
    peerDependencies: strings(manifest.peerDependencies),
    deprecated: row.deprecated,
    lastPublish: lastPublish.toISOString(),
    engines: strings(manifest.engines),
    versionCount: Number(stats?.n ?? 1),
    distTags: Object.fromEntries(tags.map((t) => [t.tag, t.version])),
  };
}

export function toAgentCapability(c: CapabilityMatch): AgentCapability {
  return {
    id: c.id,
    label: c.label,
    matchedIn: TERM_SOURCES.filter((s: TermSource) => c.evidence[s]).map((source) => ({
      source,
      triggers: c.evidence[source] ?? [],
    })),
  };
}

export function strings(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(value)) return out;
  for (const [k, v] of Object.entries(value)) if (typeof v === "string") out[k] = v;
  return out;
}

/**
 * What a version's stored analysis says in an agent answer — the same for local and proxied
 * packages: status, what is still pending, quality (computed now: freshness depends on the clock),
 * capabilities and trust signals.
 */
export function analysisFields(
  signals: StoredSignals | null,
  at: { version: string; lastPublishAt: Date; now: Date },
): Pick<AgentPackage, "analysis" | "pending" | "quality" | "capabilities" | "trust"> {
  return {
    analysis: signals ? "complete" : "pending",
    pending: signals ? [] : [...ANALYSIS_FIELDS],
    quality: signals ? qualityScore(signals, at) : null,
    capabilities: (signals?.capabilityMatches ?? []).map(toAgentCapability),
    trust: signals
      ? {
          hasCI: signals.hasCI,
          hasTests: signals.hasTests,
          hasTypes: signals.hasTypes,
          packageSize: signals.packageSize,
        }
      : null,
  };
}
