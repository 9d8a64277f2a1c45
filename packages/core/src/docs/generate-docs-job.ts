import { longestReadme } from "../analysis/derive-analysis.ts";
import { loadStoredVersion } from "../analysis/load-stored-version.ts";
import type { Deps } from "../context.ts";
import { packageDocs } from "../db/schema/index.ts";
import { extractTypedDocs, typesEntry } from "./extract-dts.ts";
import { type DocGenConfig, generateAiDocs } from "./generate-ai-docs.ts";

/**
 * The `docs.generate` job: Claude writes the version's docs from its `.d.ts` files and README;
 * stored as the `ai` kind in `package_docs`. A failure (API down, rate limit) throws, and the
 * relay retries with backoff; the typed docs are served meanwhile.
 */
export async function generateDocsJob(
  deps: Deps,
  config: DocGenConfig,
  payload: { packageId: string; version: string },
): Promise<"generated" | "gone"> {
  const row = await loadStoredVersion(deps, payload);
  if (!row) return "gone";
  const { contents } = row;
  // The same entry the analysis used for the typed docs (`types`, else `typings`).
  const typed = await extractTypedDocs(contents.texts, typesEntry(row.manifest));
  const dtsText = typed.files.map((f) => `// ${f}\n${contents.texts.get(f) ?? ""}`).join("\n\n");
  const ai = await generateAiDocs(config, {
    name: row.name,
    version: payload.version,
    readme: longestReadme(row.readme, contents.texts),
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
