import { assertCanRead } from "../auth/read-rule.ts";
import type { ServiceContext } from "../context.ts";
import { findPackageMeta, notFound } from "../packages/get-packument.ts";
import { type PackageName, parsePackageName } from "../packages/names.ts";
import type { PackageMeta } from "../packages/package-cache.ts";
import { isPrivateName } from "../uplink/private-names.ts";
import type { Uplink } from "../uplink/uplink.ts";

/** A package the caller may read, by the packument's rules (same 401/404 answers). */
export async function readablePackage(
  ctx: ServiceContext,
  raw: string,
): Promise<{ name: PackageName; meta: PackageMeta }> {
  const name = parsePackageName(raw);
  const meta = await findPackageMeta(ctx, name.name);
  await assertCanRead(ctx, name, meta);
  if (!meta) throw notFound(name.name);
  return { name, meta };
}

/** Where an agent answer about a name comes from: this registry, or its uplink (proxied). */
export type AgentSource =
  | { source: "local"; name: PackageName; meta: PackageMeta }
  | { source: "uplink"; name: PackageName; uplink: Uplink };

/**
 * `readablePackage`, or a proxied one: a name not published here, outside the scopes Packr owns,
 * is read through the uplink exactly as its packument would be (public, so whoever may read
 * public packages may ask about it). The uplink's own 404 is the answer for a name it lacks.
 */
export async function readableOrProxied(ctx: ServiceContext, raw: string): Promise<AgentSource> {
  const name = parsePackageName(raw);
  const meta = await findPackageMeta(ctx, name.name);
  const uplink = ctx.deps.uplink;
  if (!meta && uplink && !(await isPrivateName(ctx, uplink, name))) {
    return { source: "uplink", name, uplink };
  }
  await assertCanRead(ctx, name, meta);
  if (!meta) throw notFound(name.name);
  return { source: "local", name, meta };
}
