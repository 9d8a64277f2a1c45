// Entry of the analysis worker threads (analysis-threads.ts). Plain JavaScript because a worker
// starts without the parent's loader: it registers tsx itself, then loads the TypeScript
// analysis from @packr/core. Piscina calls the export named in analysis-threads.ts per task.
import { register } from "tsx/esm/api";

register();
const analysis = await import("@packr/core/analysis");

export const deriveAnalysis = analysis.deriveAnalysis;
export const deriveDocsInput = analysis.deriveDocsInput;
