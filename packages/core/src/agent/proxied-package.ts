import { and, eq } from "drizzle-orm";
import semver from "semver";
import type { ServiceContext } from "../context.ts";
import { uplinkAnalyses } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { enqueueJob } from "../jobs/outbox.ts";
import { ANALYZE_UPLINK_VERSION } from "../jobs/topics.ts";
import { isRecord } from "../packages/manifest.ts";
import type { PackageName } from "../packages/names.ts";
import { getUplinkPackument } from "../uplink/get-uplink-packument.ts";
import type { Uplink } from "../uplink/uplink.ts";
import { analysisFields, type StoredSignals, strings } from "./load-package.ts";
import type { AgentPackage } from "./types.ts";

/** The uplink's full document of a package, as parsed JSON (what the agent reads of it). */
export type ProxiedDocument = {
  description?: unknown;
  readme?: unknown;
  "dist-tags"?: unknown;
  versions?: unknown;
  time?: unknown;
};

/** One version of a proxied package, as the agent verbs read versions. */
export type ProxiedVersion = {
  version: string;
  manifest: Record<string, unknown>;
  publishedAt: Date | null;
  deprecated: string | null;
};

/** The full document through the uplink (cached as for `npm view`), parsed. */
export async function proxiedDocument(
  ctx: ServiceContext,
  uplink: Uplink,
  name: PackageName,
): Promise<ProxiedDocument> {
  const { doc } = await getUplinkPackument(ctx, uplink, name, "full");
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(doc.bytes.plain));
  } catch {
    parsed = undefined;
  }
  if (!isRecord(parsed)) {
    throw new PackrError("BAD_GATEWAY", `The uplink's document of ${name.name} is not JSON.`);
  }
  return parsed;
}

/** Every version the document lists, newest first (what `versions` rows give for a local one). */
export function proxiedVersions(doc: ProxiedDocument): ProxiedVersion[] {
  const versions = isRecord(doc.versions) ? doc.versions : {};
  const time = isRecord(doc.time) ? doc.time : {};
  const out: ProxiedVersion[] = [];
  for (const [version, manifest] of Object.entries(versions)) {
    if (!semver.valid(version) || !isRecord(manifest)) continue;
    const at = typeof time[version] === "string" ? new Date(time[version] as string) : null;
    out.push({
      version,
      manifest,
      publishedAt: at && !Number.isNaN(at.getTime()) ? at : null,
      deprecated: typeof manifest.deprecated === "string" ? manifest.deprecated : null,
    });
  }
  return out.sort((a, b) => semver.rcompare(a.version, b.version));
}

/**
 * The agent view of a proxied package's latest version: what its uplink document gives
 * (description, license, dist-tags, dependencies, engines, deprecation, publish times) at once,
 * and the analysis (quality, capabilities, trust) once the `uplink.analyze` job has run. The
 * first question about a version commits that job; until it has run those fields are listed in
 * `pending`. Downloads count this registry's packages only, so a proxied one has none.
 */
export async function loadProxiedAgentPackage(
  ctx: ServiceContext,
  uplink: Uplink,
  name: PackageName,
): Promise<AgentPackage> {
  const doc = await proxiedDocument(ctx, uplink, name);
  const distTags = strings(doc["dist-tags"]);
  const all = proxiedVersions(doc);
  const latest = proxiedLatest(name, doc, all);
  const manifest = latest.manifest;
  const analysis = await uplinkAnalysis(ctx, name.name, latest.version);
  const signals = analysis.signals;
  const lastPublish =
    all.reduce<Date | null>(
      (max, v) => (v.publishedAt && (!max || v.publishedAt > max) ? v.publishedAt : max),
      null,
    ) ?? ctx.deps.now();
  const description =
    typeof manifest.description === "string"
      ? manifest.description
      : typeof doc.description === "string"
        ? doc.description
        : null;
  return {
    name: name.name,
    version: latest.version,
    source: "uplink",
    description,
    license: licenseOf(manifest.license),
    access: "public",
    ...analysisFields(signals, {
      version: latest.version,
      lastPublishAt: lastPublish,
      now: ctx.deps.now(),
    }),
    analysisError: analysis.error,
    downloads: { lastWeek: 0, lastMonth: 0 },
    dependencies: strings(manifest.dependencies),
    peerDependencies: strings(manifest.peerDependencies),
    deprecated: latest.deprecated,
    lastPublish: lastPublish.toISOString(),
    engines: strings(manifest.engines),
    versionCount: all.length,
    distTags,
  };
}

/** The version `latest` names (else the highest), as the agent answers about it. */
export function proxiedLatest(
  name: PackageName,
  doc: ProxiedDocument,
  all = proxiedVersions(doc),
): ProxiedVersion {
  const tag = strings(doc["dist-tags"]).latest;
  const latest = all.find((v) => v.version === tag) ?? all[0];
  if (!latest) throw new PackrError("NOT_FOUND", `${name.name} has no version on the uplink.`);
  return latest;
}

/** `"MIT"`, or the old `{ "type": "MIT" }` form. */
function licenseOf(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (isRecord(value) && typeof value.type === "string") return value.type;
  return null;
}

/**
 * The stored analysis of a proxied version; the first question about it claims the row and
 * commits the job in one transaction, so concurrent questions commit it once.
 */
export async function uplinkAnalysis(
  ctx: ServiceContext,
  name: string,
  version: string,
): Promise<{
  signals: StoredSignals | null;
  typed: Record<string, unknown> | null;
  error: string | null;
  analyzedAt: Date | null;
}> {
  const { db } = ctx.deps;
  const [row] = await db
    .select({
      signals: uplinkAnalyses.signals,
      typed: uplinkAnalyses.typed,
      error: uplinkAnalyses.error,
      analyzedAt: uplinkAnalyses.analyzedAt,
    })
    .from(uplinkAnalyses)
    .where(and(eq(uplinkAnalyses.name, name), eq(uplinkAnalyses.version, version)));
  if (row) return { ...row, signals: row.signals as StoredSignals | null };
  await db.transaction(async (tx) => {
    const claimed = await tx
      .insert(uplinkAnalyses)
      .values({ name, version, requestedAt: ctx.deps.now() })
      .onConflictDoNothing()
      .returning({ name: uplinkAnalyses.name });
    if (claimed.length > 0) {
      await enqueueJob(tx, { topic: ANALYZE_UPLINK_VERSION, payload: { name, version } });
    }
  });
  return { signals: null, typed: null, error: null, analyzedAt: null };
}
