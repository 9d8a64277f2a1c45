import { type DocsReader, deriveDocsInput } from "../analysis/derive-analysis.ts";
import { loadStoredTarball } from "../analysis/load-stored-version.ts";
import type { Deps } from "../context.ts";
import { packageDocs } from "../db/schema/index.ts";
import { type DocGenConfig, generateAiDocs } from "./generate-ai-docs.ts";

/**
 * The `docs.generate` job: Claude writes the version's docs from its `.d.ts` files and README;
 * stored as the `ai` kind in `package_docs`. A failure (API down, rate limit) throws, and the
 * relay retries with backoff; the typed docs are served meanwhile. The tarball is read by
 * `docsReader` (the registry's analysis threads; inline without one, as in apps/worker).
 */
export async function generateDocsJob(
  deps: Deps,
  config: DocGenConfig,
  payload: { packageId: string; version: string },
  opts: { docsReader?: DocsReader } = {},
): Promise<"generated" | "gone"> {
  const row = await loadStoredTarball(deps, payload);
  if (!row) return "gone";
  const read = opts.docsReader ?? deriveDocsInput;
  const { readme, typed, dtsText } = await read({
    manifest: row.manifest,
    readme: row.readme,
    tarball: row.tarball,
  });
  const ai = await generateAiDocs(config, {
    name: row.name,
    version: payload.version,
    readme,
    typed,
    dtsText,
  });
  const now = deps.now();
  const content = {
    markdown: ai.markdown,
    inputTokens: ai.inputTokens,
    outputTokens: ai.outputTokens,
  };
  await deps.db
    .insert(packageDocs)
    .values({
      packageId: payload.packageId,
      version: payload.version,
      kind: "ai",
      content,
      model: ai.model,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoUpdate({
      target: [packageDocs.packageId, packageDocs.version, packageDocs.kind],
      set: { content, model: ai.model, updatedAt: now },
    });
  return "generated";
}
