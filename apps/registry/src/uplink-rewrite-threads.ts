import type { DocumentRewriter } from "@packr/core";
import type { RewriteOutcome, RewriteTask } from "@packr/core/uplink-rewrite";
import { Piscina } from "piscina";

const WORKER = new URL("./uplink-rewrite-worker.mjs", import.meta.url).href;

/** A document rewrite that takes longer than this is an uplink failure (served stale or 503). */
const TASK_TIMEOUT_MS = 60_000;
/** Heap per thread: parsing a 100 MB document (the largest taken) needs several times that. */
const THREAD_HEAP_MB = 1024;

export type RewriteThreads = { rewrite: DocumentRewriter; close(): Promise<void> };

/**
 * Large uplink documents parsed, rewritten and re-serialised on one worker thread, off the
 * request thread (which on the embedded default also runs the database). One thread: rewrites
 * happen once per uplink change, and a second parse of 100 MB at once would only add memory.
 * The thread starts on first use and stops after a minute idle. Lives here, not in core, because
 * starting a TypeScript worker is the runtime's business (see analysis-threads.ts).
 */
export function createRewriteThreads(signingKey: string): RewriteThreads {
  const pool = new Piscina<RewriteTask, RewriteOutcome>({
    filename: WORKER,
    name: "rewriteTask",
    minThreads: 0,
    maxThreads: 1,
    idleTimeout: 60_000,
    execArgv: [],
    resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB },
  });
  return {
    rewrite: async (request) => {
      try {
        return await pool.run(
          { name: request.name.name, raw: request.raw, baseUrl: request.baseUrl, signingKey },
          { signal: AbortSignal.timeout(TASK_TIMEOUT_MS) },
        );
      } catch (err) {
        // A thread that ran out of memory or time: the document is refused like a bad answer.
        return { failure: `the uplink's document could not be processed (${String(err)})` };
      }
    },
    close: () => pool.close({ force: true }),
  };
}
