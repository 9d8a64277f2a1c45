import { z } from "zod";
import type { ServiceContext } from "../context.ts";
import { PackrError } from "../errors.ts";
import { auditWarning, type BulkAdvisory, forwardBulkAudit } from "../uplink/forward-audit.ts";
import { privateNames } from "../uplink/private-names.ts";
import { UplinkFailure } from "../uplink/uplink-http.ts";

/** npm 11's bulk advisory query (protocol §5.1): `{"<name>": ["<version>", …], …}`. */
const BulkBody = z.record(z.string().max(214), z.array(z.string().max(256)));

export type BulkAdvisories = Record<string, BulkAdvisory[]>;

/** An audit answer, and why it may be incomplete (the route turns that into a Warning header). */
export type AuditAnswer<T> = { report: T; warning?: string };

/**
 * `POST /-/npm/v1/security/advisories/bulk` (npm audit, and after every npm install): the
 * advisories that affect the given versions. With an uplink, the query is forwarded to its
 * advisory service minus every private name (local packages and names in Packr's scopes never
 * leave Packr); without one, or when the uplink fails, the answer is `{}` ("found 0
 * vulnerabilities") — never a 5xx, since npm runs this after every install.
 */
export async function auditBulk(args: {
  ctx: ServiceContext;
  input: { body: unknown };
}): Promise<AuditAnswer<BulkAdvisories>> {
  const parsed = BulkBody.safeParse(args.input.body);
  if (!parsed.success) {
    throw new PackrError(
      "VALIDATION",
      'A bulk advisory query is a JSON object of package names to version lists: {"name": ["1.0.0"]}.',
    );
  }
  const uplink = args.ctx.deps.uplink;
  if (!uplink) return { report: {} };
  const names = Object.keys(parsed.data);
  const own = await privateNames(args.ctx, uplink, names);
  const query: Record<string, string[]> = {};
  for (const name of names) {
    const versions = parsed.data[name];
    if (!own.has(name) && versions && versions.length > 0) query[name] = versions;
  }
  if (Object.keys(query).length === 0) return { report: {} };
  try {
    return { report: await forwardBulkAudit(uplink, query) };
  } catch (err) {
    if (err instanceof UplinkFailure) return { report: {}, warning: auditWarning(err) };
    throw err;
  }
}
