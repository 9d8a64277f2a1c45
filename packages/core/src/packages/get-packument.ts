import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
import { assertCanRead } from "../auth/read-rule.ts";
import type { ServiceContext } from "../context.ts";
import { packages } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { getUplinkPackument } from "../uplink/get-uplink-packument.ts";
import { isPrivateName } from "../uplink/private-names.ts";
import { buildPackument } from "./build-packument.ts";
import { parsePackageName } from "./names.ts";
import type { PackageMeta } from "./package-cache.ts";
import type { PackumentBytes } from "./packument-cache.ts";

export type PackumentResponse = {
  access: "public" | "restricted";
  etag: string;
  modifiedAt: Date;
  /**
   * An operator message for npm's `npm-notice` header (npm prints it on every response): today,
   * that the whole package is deprecated. From the cached package row: it costs no query.
   */
  notice: string | null;
  /** The document's bytes; callers answering 304 never need to call it. */
  load(): Promise<PackumentBytes>;
  /** A proxied document the uplink could not confirm just now: why (the route warns the client). */
  stale?: string;
};

const baseUrlTags = new Map<string, string>();
/** A short digest of the public URL: documents built for another base URL carry another ETag. */
function baseUrlTag(baseUrl: string): string {
  let tag = baseUrlTags.get(baseUrl);
  if (!tag) {
    tag = createHash("sha256").update(baseUrl).digest("base64url").slice(0, 8);
    baseUrlTags.set(baseUrl, tag);
  }
  return tag;
}

/**
 * The hot path of every install. The package's access and revision come from the process cache
 * (one indexed lookup on a miss), the ETag follows from them, and a matching If-None-Match is
 * answered without touching the document. The bytes come from the packument cache, assembled from
 * precomputed version entries on a miss.
 */
export async function getPackument(
  args: {
    ctx: ServiceContext;
    input: { name: string; abbreviated: boolean };
  },
  attempt = 1,
): Promise<PackumentResponse> {
  const { ctx, input } = args;
  const name = parsePackageName(input.name);
  const meta = await findPackageMeta(ctx, name.name);
  const kind = input.abbreviated ? "abbreviated" : "full";
  const uplink = ctx.deps.uplink;
  // Not local: a public package from the uplink, unless the name is in a scope Packr owns
  // (the dependency-confusion guard). Public, so anyone who may read public packages may read it.
  if (!meta && uplink && !(await isPrivateName(ctx, uplink, name))) {
    const { doc, stale } = await getUplinkPackument(ctx, uplink, name, kind);
    return {
      access: "public",
      etag: doc.etag,
      modifiedAt: doc.modifiedAt,
      // The uplink's own deprecations reach npm through the versions' `deprecated`.
      notice: null,
      load: async () => doc.bytes,
      ...(stale ? { stale } : {}),
    };
  }
  await assertCanRead(ctx, name, meta);
  if (!meta) throw notFound(name.name);

  const baseUrl = ctx.deps.publicUrl();
  const tag = `${meta.id.slice(4)}.${meta.rev}.${kind === "full" ? "f" : "a"}.${baseUrlTag(baseUrl)}`;
  return {
    access: meta.access,
    // Weak: the same document is served plain and gzipped (RFC 9110 §8.8.1).
    etag: `W/"${tag}"`,
    modifiedAt: meta.modifiedAt,
    notice: meta.deprecated === null ? null : `${name.name} is deprecated: ${meta.deprecated}`,
    async load() {
      const bytes = await ctx.deps.packumentCache.getOrBuild(tag, () =>
        buildPackument(ctx.deps.db, { packageId: meta.id, rev: meta.rev, name, kind, baseUrl }),
      );
      if (bytes) return bytes;
      // The package changed between the lookup and the build: answer with the newer document.
      if (attempt >= 3) {
        throw new PackrError(
          "UNAVAILABLE",
          `${name.name} is changing faster than it can be read; try again.`,
        );
      }
      return (await getPackument(args, attempt + 1)).load();
    },
  };
}

export const notFound = (name: string): PackrError =>
  new PackrError("NOT_FOUND", `Package ${name} is not in this registry.`);

/** Access and revision of a package: from the process cache, or one indexed lookup. */
export async function findPackageMeta(
  ctx: ServiceContext,
  name: string,
): Promise<PackageMeta | null> {
  const cached = ctx.deps.packageCache.getMeta(name);
  if (cached !== undefined) return cached;
  const [row] = await ctx.deps.db
    .select({
      id: packages.id,
      access: packages.access,
      rev: packages.rev,
      modifiedAt: packages.modifiedAt,
      deprecated: packages.deprecated,
    })
    .from(packages)
    .where(eq(packages.name, name))
    .limit(1);
  // rev 0 is a package row whose first publish has not committed.
  const meta = row && row.rev > 0 ? row : null;
  ctx.deps.packageCache.setMeta(name, meta);
  return meta;
}
