import { and, eq } from "drizzle-orm";
import type { ServiceContext } from "../context.ts";
import { distTags, packageDocs } from "../db/schema/index.ts";
import type { DocEntry } from "../docs/extract-dts.ts";
import { PackrError } from "../errors.ts";
import type { PackageName } from "../packages/names.ts";
import type { Uplink } from "../uplink/uplink.ts";
import { proxiedDocument, proxiedLatest, uplinkAnalysis } from "./proxied-package.ts";
import { readableOrProxied } from "./read-access.ts";
import type { DocsResponse } from "./types.ts";

/**
 * `GET /agent/:pkg/docs`: the latest version's API documentation. Claude's (`ai`) when it has
 * been generated, else the deterministic one from the `.d.ts` files (`typed`); the typed entries
 * come along either way. `pending` until the analysis job has run.
 */
export async function getPackageDocs(args: {
  ctx: ServiceContext;
  input: { name: string };
}): Promise<DocsResponse> {
  const { ctx } = args;
  const found = await readableOrProxied(ctx, args.input.name);
  if (found.source === "uplink") return proxiedDocs(ctx, found.uplink, found.name);
  const { name, meta } = found;
  const [latest] = await ctx.deps.db
    .select({ version: distTags.version })
    .from(distTags)
    .where(and(eq(distTags.packageId, meta.id), eq(distTags.tag, "latest")));
  if (!latest) throw new PackrError("NOT_FOUND", `${name.name} has no live version.`);
  const rows = await ctx.deps.db
    .select()
    .from(packageDocs)
    .where(and(eq(packageDocs.packageId, meta.id), eq(packageDocs.version, latest.version)));
  const ai = rows.find((r) => r.kind === "ai");
  const typed = rows.find((r) => r.kind === "typed");
  const entries = ((typed?.content as { entries?: DocEntry[] } | undefined)?.entries ??
    []) as DocEntry[];
  const chosen = ai ?? typed;
  return {
    name: name.name,
    version: latest.version,
    kind: ai ? "ai" : typed ? "typed" : "none",
    status: chosen ? "ready" : "pending",
    model: ai?.model ?? null,
    updatedAt: chosen?.updatedAt.toISOString() ?? null,
    markdown: ai ? String((ai.content as { markdown?: unknown }).markdown ?? "") : null,
    entries,
  };
}

/**
 * A proxied package's docs: the typed ones its `uplink.analyze` job extracted (the question
 * commits that job when nothing has); Claude's are written for this registry's packages only.
 */
async function proxiedDocs(
  ctx: ServiceContext,
  uplink: Uplink,
  name: PackageName,
): Promise<DocsResponse> {
  const latest = proxiedLatest(name, await proxiedDocument(ctx, uplink, name));
  const analysis = await uplinkAnalysis(ctx, name.name, latest.version);
  const typed = analysis.signals ? analysis.typed : null;
  return {
    name: name.name,
    version: latest.version,
    kind: typed ? "typed" : "none",
    status: typed || analysis.error ? "ready" : "pending",
    model: null,
    updatedAt: typed ? (analysis.analyzedAt?.toISOString() ?? null) : null,
    markdown: null,
    entries: ((typed as { entries?: DocEntry[] } | null)?.entries ?? []) as DocEntry[],
  };
}
