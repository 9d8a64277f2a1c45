import { proxiedDocument } from "../agent/proxied-package.ts";
import type { Deps, ServiceContext } from "../context.ts";
import { uplinkAnalyses } from "../db/schema/index.ts";
import { isPackrError } from "../errors.ts";
import { ANALYZE_UPLINK_VERSION } from "../jobs/topics.ts";
import { isRecord } from "../packages/manifest.ts";
import { parsePackageName } from "../packages/names.ts";
import { getUplinkTarball } from "../uplink/get-uplink-tarball.ts";
import { type Analyzer, deriveAnalysis } from "./derive-analysis.ts";

export type UplinkAnalyzePayload = { name: string; version: string };

/**
 * The `uplink.analyze` job, committed when an agent first asks about a proxied package's version:
 * the tarball comes through the uplink as for an install (verified against the document's
 * integrity, kept in the blob store), the same analyzer as for a publish derives its signals and
 * capabilities, and they are stored in `uplink_analyses`. A version the uplink no longer has, or
 * whose tarball it serves wrong, is recorded as failed (`error`) rather than retried; an uplink
 * that is down throws, so the relay retries later. Idempotent: a re-run overwrites.
 */
export async function analyzeUplinkVersion(
  deps: Deps,
  payload: UplinkAnalyzePayload,
  opts: { analyzer?: Analyzer },
): Promise<"analyzed" | "failed" | "no-uplink"> {
  const uplink = deps.uplink;
  // The uplink was switched off since the job was committed: nothing to read the version from.
  if (!uplink) return "no-uplink";
  const ctx: ServiceContext = {
    deps,
    actor: { type: "system", reason: ANALYZE_UPLINK_VERSION },
    requestId: `job:${ANALYZE_UPLINK_VERSION}`,
  };
  const name = parsePackageName(payload.name);
  const record = async (values: {
    signals?: Record<string, unknown>;
    typed?: Record<string, unknown>;
    error?: string;
  }) => {
    const set = {
      signals: values.signals ?? null,
      typed: values.typed ?? null,
      error: values.error ?? null,
      analyzedAt: deps.now(),
    };
    await deps.db
      .insert(uplinkAnalyses)
      .values({ name: name.name, version: payload.version, ...set })
      .onConflictDoUpdate({ target: [uplinkAnalyses.name, uplinkAnalyses.version], set });
  };
  try {
    const doc = await proxiedDocument(ctx, uplink, name);
    const versions = isRecord(doc.versions) ? doc.versions : {};
    const manifest = versions[payload.version];
    if (!isRecord(manifest)) {
      await record({ error: `${name.name}@${payload.version} is no longer on the uplink.` });
      return "failed";
    }
    const stored = await getUplinkTarball(ctx, uplink, name, payload.version);
    const stream = await deps.blobStore.get(stored.key);
    // The blob went missing under us: throw, the relay retries and the tarball is fetched again.
    if (!stream) throw new Error(`The stored tarball of ${name.name}@${payload.version} is gone.`);
    const tarball = new Uint8Array(await new Response(stream).arrayBuffer());
    const analyze = opts.analyzer ?? deriveAnalysis;
    const derived = await analyze({
      manifest,
      readme: typeof doc.readme === "string" ? doc.readme : null,
      tarballSize: stored.size,
      releaseCount: Object.keys(versions).length,
      tarball,
    });
    await record({
      signals: derived.signals as unknown as Record<string, unknown>,
      typed: derived.typed as unknown as Record<string, unknown>,
    });
    return "analyzed";
  } catch (err) {
    // Down or slow (503): retried by the relay. Gone (404) or served wrong (502): final.
    if (isPackrError(err) && (err.code === "NOT_FOUND" || err.code === "BAD_GATEWAY")) {
      await record({ error: err.message });
      return "failed";
    }
    throw err;
  }
}
