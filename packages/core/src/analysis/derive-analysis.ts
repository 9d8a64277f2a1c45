import { extractTypedDocs, type TypedDocs, typesEntry } from "../docs/extract-dts.ts";
import { type CapabilityMatch, capabilitySources, extractCapabilities } from "./capabilities.ts";
import { readTarball } from "./read-tarball.ts";
import { computeSignals, type VersionSignals } from "./signals.ts";

/** What the analysis of one version reads: its row's facts and the raw bytes of its tarball. */
export type AnalysisInput = {
  manifest: Record<string, unknown>;
  /** The README the registry stored with the version. */
  readme: string | null;
  tarballSize: number;
  /** Live versions of the package, this one included. */
  releaseCount: number;
  /** The stored `.tgz`, gzip'd as published. */
  tarball: Uint8Array;
};

/** Everything the analysis derives, as plain data (it crosses a thread boundary). */
export type DerivedAnalysis = {
  signals: VersionSignals & { capabilityMatches: CapabilityMatch[] };
  capabilities: string[];
  terms: string[];
  dependencyNames: string[];
  typed: TypedDocs;
};

/**
 * Runs `deriveAnalysis`, here or elsewhere: the registry hands it to a worker thread so that
 * gunzip, tar and TypeScript's parser never hold up its request thread; tests and the worker app
 * call it inline.
 */
export type Analyzer = (input: AnalysisInput) => Promise<DerivedAnalysis>;

/**
 * The CPU-bound half of `version.analyze`: the tarball's files, the signals (types, tests, CI,
 * README, dependencies), capabilities and search terms, and the typed docs from the `.d.ts`
 * files. Pure: no database, no clock, the same input gives the same output.
 */
export async function deriveAnalysis(input: AnalysisInput): Promise<DerivedAnalysis> {
  const contents = await readTarball(input.tarball);
  const signals = computeSignals({
    manifest: input.manifest,
    contents,
    readme: input.readme,
    tarballSize: input.tarballSize,
    releaseCount: input.releaseCount,
  });
  const readme = longestReadme(input.readme, contents.texts);
  const extracted = extractCapabilities(capabilitySources(input.manifest, readme));
  const typed = await extractTypedDocs(contents.texts, typesEntry(input.manifest));
  return {
    signals: { ...signals, capabilityMatches: extracted.capabilities },
    capabilities: extracted.capabilities.map((c) => c.id),
    terms: extracted.terms,
    dependencyNames: [
      ...new Set([...Object.keys(signals.dependencies), ...Object.keys(signals.peerDependencies)]),
    ],
    typed,
  };
}

/** What `docs.generate` reads from a stored version (the README, the typed docs, the `.d.ts` text). */
export type DocsInput = { readme: string | null; typed: TypedDocs; dtsText: string };
export type DocsSource = Pick<AnalysisInput, "manifest" | "readme" | "tarball">;

/**
 * Runs `deriveDocsInput`, here or elsewhere: the registry hands it to its analysis threads, so
 * `docs.generate` never gunzips or parses a tarball on the request thread.
 */
export type DocsReader = (input: DocsSource) => Promise<DocsInput>;

/**
 * The CPU-bound half of `docs.generate`: list the tarball, keep the longest README, and parse the
 * `.d.ts` files (the same entry the analysis used for the typed docs). Pure, like `deriveAnalysis`.
 */
export async function deriveDocsInput(input: DocsSource): Promise<DocsInput> {
  const contents = await readTarball(input.tarball);
  const typed = await extractTypedDocs(contents.texts, typesEntry(input.manifest));
  return {
    readme: longestReadme(input.readme, contents.texts),
    typed,
    dtsText: typed.files.map((f) => `// ${f}\n${contents.texts.get(f) ?? ""}`).join("\n\n"),
  };
}

/** The README worth reading: the stored one, or a longer README file from the tarball. */
export function longestReadme(stored: string | null, texts: Map<string, string>): string | null {
  let best = stored;
  for (const [path, text] of texts) {
    if (/^readme(\.[a-z]+)?$/i.test(path) && text.length > (best?.length ?? 0)) best = text;
  }
  return best;
}
