import { eq } from "drizzle-orm";
import { isAdminToken } from "../auth/policy.ts";
import type { ServiceContext, TokenActor } from "../context.ts";
import { uplinkCache, uplinkTarballs } from "../db/schema/index.ts";
import { isPackrError, PackrError } from "../errors.ts";
import { findPackageMeta } from "../packages/get-packument.ts";
import type { PackageName } from "../packages/names.ts";
import { getUplinkPackument, UPLINK_RETRY_AFTER_SECONDS } from "./get-uplink-packument.ts";
import { isPrivateName } from "./private-names.ts";

/**
 * The first publish of a name outside Packr's own scopes must not shadow a public package: every
 * client of Packr would silently get the local one instead of the public one (the reverse of a
 * dependency-confusion attack, and as dangerous). So, like Verdaccio, Packr asks its uplink and
 * refuses a name it has (409). An administrator may still publish it deliberately — a patched
 * fork — and from then on the name is local and never looked up upstream again. When the uplink
 * cannot be asked, the publish is refused with a 503 rather than guessed at; npm retries it.
 * Names that exist locally, and names in private scopes, need no check.
 */
export async function assertNotUpstream(
  ctx: ServiceContext,
  name: PackageName,
  token: TokenActor,
): Promise<void> {
  const uplink = ctx.deps.uplink;
  if (!uplink) return;
  if (await findPackageMeta(ctx, name.name)) return;
  if (await isPrivateName(ctx, uplink, name)) return;
  try {
    await getUplinkPackument(ctx, uplink, name, "abbreviated");
  } catch (err) {
    if (isPackrError(err) && err.code === "NOT_FOUND") return;
    if (isPackrError(err) && err.code === "UNAVAILABLE") {
      throw new PackrError(
        "UNAVAILABLE",
        `Packr could not ask its uplink (${uplink.url}) whether ${name.name} is a public package there, and will not publish a name that might shadow one. Try again shortly, or publish under a scope of your own.`,
        { details: { retryAfter: UPLINK_RETRY_AFTER_SECONDS } },
      );
    }
    throw err;
  }
  if (isAdminToken(token)) {
    await ctx.deps.db.delete(uplinkCache).where(eq(uplinkCache.name, name.name));
    await ctx.deps.db.delete(uplinkTarballs).where(eq(uplinkTarballs.name, name.name));
    uplink.forget(name.name);
    return;
  }
  throw new PackrError(
    "CONFLICT",
    `${name.name} is a public package on this registry's uplink (${uplink.url}); publishing it here would shadow it for every client of this registry. Publish under a scope of your own (@yourorg/${name.basename}), or ask an administrator to publish a deliberate fork.`,
  );
}
