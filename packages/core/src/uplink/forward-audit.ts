import { promisify } from "node:util";
import { gzip as gzipCb } from "node:zlib";
import { isRecord } from "../packages/manifest.ts";
import type { Uplink } from "./uplink.ts";
import { requestUplink, UplinkFailure } from "./uplink-http.ts";

const gzip = promisify(gzipCb);

/** An advisory as the bulk endpoint returns it (protocol §5.1); extra fields pass through. */
export type BulkAdvisory = {
  id: number | string;
  url?: string;
  title?: string;
  severity?: string;
  vulnerable_versions?: string;
  cwe?: unknown;
  cvss?: unknown;
  [key: string]: unknown;
};

/** Largest advisory answer accepted from the uplink. */
const MAX_AUDIT_ANSWER_BYTES = 32 * 1024 * 1024;

/**
 * Ask the uplink's bulk advisory service (`/-/npm/v1/security/advisories/bulk`, what npm 11 uses
 * and what npmjs still serves after retiring `audits/quick`) about public names only. Only names
 * that were asked about come back, each with a list of advisories; anything else the uplink
 * answers, including a 4xx, is an `UplinkFailure`.
 */
export async function forwardBulkAudit(
  uplink: Uplink,
  query: Record<string, string[]>,
): Promise<Record<string, BulkAdvisory[]>> {
  const answer = await requestUplink(uplink, `${uplink.url}/-/npm/v1/security/advisories/bulk`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "content-encoding": "gzip",
      accept: "application/json",
      "accept-encoding": "gzip",
    },
    body: await gzip(Buffer.from(JSON.stringify(query))),
    maxBytes: MAX_AUDIT_ANSWER_BYTES,
  });
  if (answer.status !== 200) {
    throw new UplinkFailure(`the uplink's audit service answered ${answer.status}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(answer.body.toString("utf8"));
  } catch {
    throw new UplinkFailure("the uplink's audit service answered something that is not JSON");
  }
  if (!isRecord(body)) throw new UplinkFailure("the uplink's audit answer is not an object");
  const out: Record<string, BulkAdvisory[]> = {};
  for (const name of Object.keys(query)) {
    const list = body[name];
    if (!Array.isArray(list)) continue;
    const advisories = list.filter(
      (a): a is BulkAdvisory =>
        isRecord(a) && (typeof a.id === "number" || typeof a.id === "string"),
    );
    if (advisories.length > 0) out[name] = advisories;
  }
  return out;
}

/** The Warning header text for an audit answered without the uplink. */
export const auditWarning = (err: UplinkFailure): string =>
  `The advisory report is empty because ${err.message}; run the audit again later.`;
