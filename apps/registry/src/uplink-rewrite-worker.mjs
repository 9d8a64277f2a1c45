// Entry of the uplink document threads (uplink-rewrite-threads.ts). Plain JavaScript because a
// worker starts without the parent's loader: it registers tsx itself, then loads the rewrite.
import { register } from "tsx/esm/api";

register();
const rewrite = await import("@packr/core/uplink-rewrite");

export const rewriteTask = rewrite.rewriteTask;
