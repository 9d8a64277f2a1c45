import { analyzeUplinkVersion } from "../analysis/analyze-uplink-version.ts";
import { analyzeVersion } from "../analysis/analyze-version.ts";
import type { Analyzer, DocsReader } from "../analysis/derive-analysis.ts";
import type { Deps } from "../context.ts";
import type { DocGenConfig } from "../docs/generate-ai-docs.ts";
import { generateDocsJob } from "../docs/generate-docs-job.ts";
import { deliverAttempt, deliverJobOf } from "../webhooks/deliver.ts";
import { committedEventOf, fanOutEvent } from "../webhooks/fan-out.ts";
import type { JobHandlers } from "./job-runner.ts";
import {
  ANALYZE_UPLINK_VERSION,
  ANALYZE_VERSION,
  DELIVER_EVENT,
  DELIVER_WEBHOOK,
  GENERATE_DOCS,
} from "./topics.ts";

const versionPayload = (payload: Record<string, unknown>) => {
  const { packageId, version } = payload;
  if (typeof packageId !== "string" || typeof version !== "string") {
    throw new Error(`Malformed job payload: ${JSON.stringify(payload).slice(0, 200)}`);
  }
  return { packageId, version };
};

/**
 * Every job topic Packr commits, and what runs it. The worker app and the in-process runner share
 * it. `analyzer` and `docsReader` run the CPU-bound parts of the analysis and of AI docs (the
 * registry passes its worker threads'); without them those parts run inline.
 */
export function createJobHandlers(
  deps: Deps,
  opts: { docGen: DocGenConfig | undefined; analyzer?: Analyzer; docsReader?: DocsReader },
): JobHandlers {
  return {
    [ANALYZE_VERSION]: async (job) => {
      await analyzeVersion(deps, versionPayload(job.payload), {
        aiDocs: opts.docGen !== undefined,
        analyzer: opts.analyzer,
      });
    },
    [ANALYZE_UPLINK_VERSION]: async (job) => {
      const { name, version } = job.payload;
      if (typeof name !== "string" || typeof version !== "string") {
        throw new Error(`Malformed job payload: ${JSON.stringify(job.payload).slice(0, 200)}`);
      }
      await analyzeUplinkVersion(deps, { name, version }, { analyzer: opts.analyzer });
    },
    [GENERATE_DOCS]: async (job) => {
      // Enabled when the job was committed but not any more: nothing to do, and nothing to retry.
      if (!opts.docGen) return;
      await generateDocsJob(deps, opts.docGen, versionPayload(job.payload), {
        docsReader: opts.docsReader,
      });
    },
    // Fan-out: one pending delivery and one DELIVER_WEBHOOK job per hook that receives the event.
    [DELIVER_EVENT]: async (job) => {
      const event = committedEventOf(job.payload);
      if (event) await fanOutEvent(deps, event);
    },
    // One attempt; resolves once recorded (a failed attempt's retry is its own row and job).
    [DELIVER_WEBHOOK]: async (job) => {
      await deliverAttempt(deps, deliverJobOf(job.payload));
    },
  };
}
