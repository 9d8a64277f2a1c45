import { assertCanRead } from "../auth/read-rule.ts";
import type { ServiceContext } from "../context.ts";
import { liveDistTags } from "./dist-tag-rules.ts";
import { findPackageMeta, notFound } from "./get-packument.ts";
import { parsePackageName } from "./names.ts";

/**
 * `GET /-/package/<name>/dist-tags` (npm dist-tag ls, yarn npm tag list): `{tag: version}`, under
 * the same read rules as the packument.
 */
export async function getDistTags(args: {
  ctx: ServiceContext;
  input: { name: string };
}): Promise<Record<string, string>> {
  const { ctx } = args;
  const name = parsePackageName(args.input.name);
  const meta = await findPackageMeta(ctx, name.name);
  await assertCanRead(ctx, name, meta);
  if (!meta) throw notFound(name.name);
  return liveDistTags(ctx.deps.db, meta.id);
}
