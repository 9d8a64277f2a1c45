import { assertCanRead } from "../auth/policy.ts";
import type { Actor, ServiceContext } from "../context.ts";
import { findPackageMeta, notFound } from "../packages/get-packument.ts";
import { type PackageName, parsePackageName } from "../packages/names.ts";
import type { PackageMeta } from "../packages/package-cache.ts";

/** A package the caller may read, by the packument's rules (same 401/404 answers). */
export async function readablePackage(
  ctx: ServiceContext,
  raw: string,
): Promise<{ name: PackageName; meta: PackageMeta }> {
  const name = parsePackageName(raw);
  const meta = await findPackageMeta(ctx, name.name);
  assertCanRead(ctx.actor, name, meta);
  if (!meta) throw notFound(name.name);
  return { name, meta };
}

/** Whether listings (search, graphs, co-occurrence) may include restricted packages. */
export const seesRestricted = (actor: Actor): boolean =>
  actor.type === "system" || (actor.type === "token" && actor.permissions.includes("read"));
