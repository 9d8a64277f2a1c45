import { and, eq, isNull, sql } from "drizzle-orm";
import type { Deps } from "../context.ts";
import { packageDocs, versionAnalyses, versions } from "../db/schema/index.ts";
import { extractTypedDocs } from "../docs/extract-dts.ts";
import { enqueueJob } from "../jobs/outbox.ts";
import { GENERATE_DOCS } from "../jobs/topics.ts";
import { capabilitySources, extractCapabilities } from "./capabilities.ts";
import { loadStoredVersion } from "./load-stored-version.ts";
import { computeSignals } from "./signals.ts";

export type AnalyzePayload = { packageId: string; version: string };

/**
 * The `version.analyze` job, committed with every publish: read the stored tarball, derive the
 * signals (files, types, tests, CI, README, dependencies), the capabilities and search terms,
 * and the typed documentation from the `.d.ts` files; store them; and, when AI docs are enabled,
 * commit a `docs.generate` job in the same transaction. Idempotent: a re-run overwrites.
 * A version that was unpublished since is skipped.
 */
export async function analyzeVersion(
  deps: Deps,
  payload: AnalyzePayload,
  opts: { aiDocs: boolean },
): Promise<"analyzed" | "gone"> {
  const row = await loadStoredVersion(deps, payload);
  if (!row) return "gone";
  const { contents } = row;
  const [count] = await deps.db
    .select({ n: sql<number>`count(*)::int` })
    .from(versions)
    .where(and(eq(versions.packageId, payload.packageId), isNull(versions.unpublishedAt)));
  const signals = computeSignals({
    manifest: row.manifest,
    contents,
    readme: row.readme,
    tarballSize: row.tarballSize,
    releaseCount: Number(count?.n ?? 1),
  });
  const readme = longestReadme(row.readme, contents.texts);
  const extracted = extractCapabilities(capabilitySources(row.manifest, readme));
  const entry =
    typeof row.manifest.types === "string"
      ? row.manifest.types
      : typeof row.manifest.typings === "string"
        ? row.manifest.typings
        : null;
  const typed = await extractTypedDocs(contents.texts, entry);
  const now = deps.now();
  const dependencyNames = [
    ...new Set([...Object.keys(signals.dependencies), ...Object.keys(signals.peerDependencies)]),
  ];

  await deps.db.transaction(async (tx) => {
    const values = {
      packageId: payload.packageId,
      version: payload.version,
      signals: { ...signals, capabilityMatches: extracted.capabilities },
      capabilities: extracted.capabilities.map((c) => c.id),
      terms: extracted.terms,
      dependencyNames,
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
      content: typed as unknown as Record<string, unknown>,
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

export function longestReadme(stored: string | null, texts: Map<string, string>): string | null {
  let best = stored;
  for (const [path, text] of texts) {
    if (/^readme(\.[a-z]+)?$/i.test(path) && text.length > (best?.length ?? 0)) best = text;
  }
  return best;
}
