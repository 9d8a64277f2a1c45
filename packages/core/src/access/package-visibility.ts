import { assertCanRead } from "../auth/read-rule.ts";
import type { ServiceContext } from "../context.ts";
import { findPackageMeta, notFound } from "../packages/get-packument.ts";
import { parsePackageName } from "../packages/names.ts";

/**
 * `GET /-/package/<name>/visibility` (npm access get status, and npm's provenance pre-check):
 * `{public}`, under the packument's read rules.
 */
export async function getPackageVisibility(args: {
  ctx: ServiceContext;
  input: { name: string };
}): Promise<{ public: boolean }> {
  const { ctx } = args;
  const name = parsePackageName(args.input.name);
  const meta = await findPackageMeta(ctx, name.name);
  await assertCanRead(ctx, name, meta);
  if (!meta) throw notFound(name.name);
  return { public: meta.access === "public" };
}
