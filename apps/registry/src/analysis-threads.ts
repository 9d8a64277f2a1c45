import { availableParallelism } from "node:os";
import type { AnalysisInput, Analyzer, DerivedAnalysis, DocsReader } from "@packr/core";
import { Piscina } from "piscina";

const WORKER = new URL("./analysis-worker.mjs", import.meta.url).href;

/** By default one analysis may take this long before its thread is ended and the job retried. */
const TASK_TIMEOUT_MS = 120_000;
/** Heap per thread: a hostile tarball (a huge `.d.ts`) ends its thread, not the registry. */
const THREAD_HEAP_MB = 512;

export type AnalysisThreads = {
  analyze: Analyzer;
  /** `docs.generate`'s tarball reading (gunzip, tar, the `.d.ts` parse), on the same threads. */
  readDocs: DocsReader;
  /** Threads running now (0 until the first task, and again after a minute idle). */
  size(): number;
  close(): Promise<void>;
};

/**
 * The CPU-bound half of `version.analyze` (gunzip, tar, TypeScript's parser over `.d.ts` files)
 * on worker threads, so that the registry's request thread, which also runs the embedded
 * database, is never held up by it: on the embedded default a publish's analysis otherwise runs
 * between the next requests and costs them tens of milliseconds each. Threads start on first use
 * and stop after a minute idle. A task that throws, times out or runs its thread out of memory
 * rejects, and the outbox relay retries the job with backoff.
 */
export function createAnalysisThreads(opts: {
  threads: number;
  /** Read per task, so a test can lower it for one task and restore it for the next. */
  timeoutMs?: number;
}): AnalysisThreads {
  const pool = new Piscina({
    filename: WORKER,
    name: "deriveAnalysis",
    minThreads: 0,
    maxThreads: Math.max(1, Math.min(opts.threads, availableParallelism())),
    idleTimeout: 60_000,
    // The parent's flags (--cpu-prof, --inspect) are not the worker's; it loads tsx itself.
    execArgv: [],
    resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB },
  });
  return {
    analyze: (input: AnalysisInput): Promise<DerivedAnalysis> =>
      // The tarball is copied once, not transferred: the caller may still hold it.
      pool.run(input, { signal: AbortSignal.timeout(opts.timeoutMs ?? TASK_TIMEOUT_MS) }),
    readDocs: (input) =>
      pool.run(input, {
        name: "deriveDocsInput",
        signal: AbortSignal.timeout(opts.timeoutMs ?? TASK_TIMEOUT_MS),
      }),
    size: () => pool.threads.length,
    close: () => pool.close({ force: true }),
  };
}
