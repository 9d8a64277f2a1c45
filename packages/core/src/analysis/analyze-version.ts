import { and, eq, isNull, sql } from "drizzle-orm";
import type { Deps } from "../context.ts";
import { packageDocs, versionAnalyses, versions } from "../db/schema/index.ts";
import { enqueueJob } from "../jobs/outbox.ts";
import { GENERATE_DOCS } from "../jobs/topics.ts";
import { type Analyzer, deriveAnalysis } from "./derive-analysis.ts";
import { loadStoredTarball } from "./load-stored-version.ts";

export type AnalyzePayload = { packageId: string; version: string };

/**
 * The `version.analyze` job, committed with every publish: read the stored tarball, have the
 * analyzer derive the signals, capabilities, search terms and typed docs (`deriveAnalysis`, on a
 * worker thread in the registry), store them, and, when AI docs are enabled, commit a
 * `docs.generate` job in the same transaction. Idempotent: a re-run overwrites. A version that
 * was unpublished since is skipped.
 */
export async function analyzeVersion(
  deps: Deps,
  payload: AnalyzePayload,
  opts: { aiDocs: boolean; analyzer?: Analyzer },
): Promise<"analyzed" | "gone"> {
  const row = await loadStoredTarball(deps, payload);
  if (!row) return "gone";
  const [count] = await deps.db
    .select({ n: sql<number>`count(*)::int` })
    .from(versions)
    .where(and(eq(versions.packageId, payload.packageId), isNull(versions.unpublishedAt)));
  const analyze = opts.analyzer ?? deriveAnalysis;
  const derived = await analyze({
    manifest: row.manifest,
    readme: row.readme,
    tarballSize: row.tarballSize,
    releaseCount: Number(count?.n ?? 1),
    tarball: row.tarball,
  });
  const now = deps.now();

  await deps.db.transaction(async (tx) => {
    const values = {
      packageId: payload.packageId,
      version: payload.version,
      signals: derived.signals,
      capabilities: derived.capabilities,
      terms: derived.terms,
      dependencyNames: derived.dependencyNames,
      analyzedAt: now,
    };
    await tx
      .insert(versionAnalyses)
      .values(values)
      .onConflictDoUpdate({
        target: [versionAnalyses.packageId, versionAnalyses.version],
        set: values,
      });
    const doc = {
      packageId: payload.packageId,
      version: payload.version,
      kind: "typed" as const,
      content: derived.typed as unknown as Record<string, unknown>,
      model: null,
      createdAt: now,
      updatedAt: now,
    };
    await tx
      .insert(packageDocs)
      .values(doc)
      .onConflictDoUpdate({
        target: [packageDocs.packageId, packageDocs.version, packageDocs.kind],
        set: { content: doc.content, updatedAt: now },
      });
    if (opts.aiDocs) {
      await enqueueJob(tx, { topic: GENERATE_DOCS, payload: { ...payload } });
    }
  });
  return "analyzed";
}
