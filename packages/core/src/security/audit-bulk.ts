import { z } from "zod";
import type { ServiceContext } from "../context.ts";
import { PackrError } from "../errors.ts";

/** npm 11's bulk advisory query (protocol §5.1): `{"<name>": ["<version>", …], …}`. */
const BulkBody = z.record(z.string().max(214), z.array(z.string().max(256)));

export type BulkAdvisories = Record<string, unknown[]>;

/**
 * `POST /-/npm/v1/security/advisories/bulk` (npm audit, and after every npm install): the
 * advisories that affect the given versions. Packr has no advisory source of its own, so a valid
 * query answers `{}` ("found 0 vulnerabilities").
 * TODO(uplink): forward to the uplink's audit service when one is configured (issue #3).
 */
export async function auditBulk(args: {
  ctx: ServiceContext;
  input: { body: unknown };
}): Promise<BulkAdvisories> {
  const parsed = BulkBody.safeParse(args.input.body);
  if (!parsed.success) {
    throw new PackrError(
      "VALIDATION",
      'A bulk advisory query is a JSON object of package names to version lists: {"name": ["1.0.0"]}.',
    );
  }
  return {};
}
