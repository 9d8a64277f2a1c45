import { inArray, isNotNull } from "drizzle-orm";
import type { ServiceContext } from "../context.ts";
import { packages } from "../db/schema/index.ts";
import type { PackageName } from "../packages/names.ts";
import { isOwnClientName } from "../packages/own-clients.ts";
import type { Uplink } from "./uplink.ts";

/**
 * The dependency-confusion guard for a name that is not a local package: true when its scope is
 * Packr's — configured in PACKR_PRIVATE_SCOPES, or holding any local package (live, unpublished,
 * restricted or public). Such a name is never looked up upstream, so a package published to the
 * uplink under a scope Packr owns can never reach Packr's clients. Packr's own package names
 * (`packr-cli`, `@packr/*`) are always private. Warm, this is two set lookups.
 */
export async function isPrivateName(
  ctx: ServiceContext,
  uplink: Uplink,
  name: PackageName,
): Promise<boolean> {
  if (isOwnClientName(name.name)) return true;
  if (name.scope === null) return false;
  const scope = name.scope.toLowerCase();
  if (uplink.privateScopes.has(scope)) return true;
  return ownsScope(ctx, scope);
}

async function ownsScope(ctx: ServiceContext, scope: string): Promise<boolean> {
  const cache = ctx.deps.packageCache;
  const known = cache.ownsScope(scope);
  if (known !== undefined) return known;
  const rows = await ctx.deps.db
    .selectDistinct({ scope: packages.scope })
    .from(packages)
    .where(isNotNull(packages.scope));
  const scopes = rows.flatMap((r) => (r.scope ? [r.scope.toLowerCase()] : []));
  cache.setOwnedScopes(scopes);
  return scopes.includes(scope);
}

/**
 * Of the given names, those that are Packr's own: a local package of that name, or a name in a
 * scope Packr owns. An audit forwards only the others, so private names never leave Packr.
 */
export async function privateNames(
  ctx: ServiceContext,
  uplink: Uplink,
  names: readonly string[],
): Promise<Set<string>> {
  const out = new Set<string>();
  if (names.length === 0) return out;
  for (let i = 0; i < names.length; i += 1000) {
    const batch = names.slice(i, i + 1000);
    const rows = await ctx.deps.db
      .select({ name: packages.name })
      .from(packages)
      .where(inArray(packages.name, batch));
    for (const r of rows) out.add(r.name);
  }
  for (const name of names) {
    if (out.has(name)) continue;
    if (isOwnClientName(name)) {
      out.add(name);
      continue;
    }
    const slash = name.indexOf("/");
    if (!name.startsWith("@") || slash < 2) continue;
    const scope = name.slice(1, slash);
    if (await isPrivateName(ctx, uplink, { name, scope, basename: name.slice(slash + 1) })) {
      out.add(name);
    }
  }
  return out;
}
