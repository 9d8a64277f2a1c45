import { parsePackageName } from "../packages/names.ts";
import { RegistrySigner } from "../signing/registry-signer.ts";
import { type RewriteOutcome, rewriteOutcome } from "./rewrite-document.ts";

export type { RewriteOutcome };

/** One rewrite as a worker thread receives it: plain data (the signing key as its PEM). */
export type RewriteTask = { name: string; raw: Uint8Array; baseUrl: string; signingKey: string };

let signer: { pem: string; signer: RegistrySigner } | undefined;

/**
 * The worker-thread side of a `DocumentRewriter`: only what a rewrite needs, so a thread starts
 * without the database, storage or HTTP modules. The signer is built once per thread and key.
 */
export function rewriteTask(task: RewriteTask): RewriteOutcome {
  if (signer?.pem !== task.signingKey) {
    signer = { pem: task.signingKey, signer: new RegistrySigner(task.signingKey) };
  }
  return rewriteOutcome(
    { name: parsePackageName(task.name), raw: task.raw, baseUrl: task.baseUrl },
    signer.signer,
  );
}
