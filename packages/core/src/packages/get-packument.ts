import { eq } from "drizzle-orm";
import { assertCanRead } from "../auth/policy.ts";
import type { ServiceContext } from "../context.ts";
import { packages, packuments } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { parsePackageName } from "./names.ts";
import { storePackument } from "./store-packument.ts";

export type PackumentResponse = {
  access: "public" | "restricted";
  etag: string;
  modifiedAt: Date;
  plain: Uint8Array;
  gzip: Uint8Array;
};

/**
 * The hot path of every install: one indexed query for access and the current ETag, then bytes
 * from the in-process cache (or one more query on a miss). Nothing is built or parsed here; the
 * documents were precomputed when the package last changed.
 */
export async function getPackument(args: {
  ctx: ServiceContext;
  input: { name: string; abbreviated: boolean };
}): Promise<PackumentResponse> {
  const { ctx, input } = args;
  const name = parsePackageName(input.name);
  const { db } = ctx.deps;
  const [meta] = await db
    .select({
      packageId: packages.id,
      access: packages.access,
      etagFull: packuments.etagFull,
      etagAbbreviated: packuments.etagAbbreviated,
      baseUrl: packuments.baseUrl,
      modifiedAt: packuments.modifiedAt,
    })
    .from(packages)
    .innerJoin(packuments, eq(packuments.packageId, packages.id))
    .where(eq(packages.name, name.name))
    .limit(1);
  assertCanRead(ctx.actor, name, meta ?? null);
  if (!meta) throw notFound(name.name);

  if (meta.baseUrl !== ctx.deps.publicUrl()) {
    return {
      access: meta.access,
      ...(await rebuildForNewBaseUrl(ctx, meta.packageId, input.abbreviated)),
    };
  }
  const etag = input.abbreviated ? meta.etagAbbreviated : meta.etagFull;
  const cached = ctx.deps.packumentCache.get(etag);
  if (cached) return { access: meta.access, etag, modifiedAt: meta.modifiedAt, ...cached };

  const [bytes] = await db
    .select(
      input.abbreviated
        ? {
            plain: packuments.abbreviated,
            gzip: packuments.abbreviatedGzip,
            etag: packuments.etagAbbreviated,
          }
        : { plain: packuments.full, gzip: packuments.fullGzip, etag: packuments.etagFull },
    )
    .from(packuments)
    .where(eq(packuments.packageId, meta.packageId));
  if (!bytes) throw notFound(name.name);
  const value = { plain: bytes.plain, gzip: bytes.gzip };
  ctx.deps.packumentCache.set(bytes.etag, value);
  return { access: meta.access, etag: bytes.etag, modifiedAt: meta.modifiedAt, ...value };
}

/** PACKR_PUBLIC_URL changed since the documents were built: rebuild once, under the package lock. */
async function rebuildForNewBaseUrl(
  ctx: ServiceContext,
  packageId: string,
  abbreviated: boolean,
): Promise<Omit<PackumentResponse, "access">> {
  return ctx.deps.db.transaction(async (tx) => {
    const [pkg] = await tx.select().from(packages).where(eq(packages.id, packageId)).for("update");
    if (!pkg) throw notFound(packageId);
    const [current] = await tx
      .select({ modifiedAt: packuments.modifiedAt })
      .from(packuments)
      .where(eq(packuments.packageId, packageId));
    const stored = await storePackument(
      tx,
      pkg,
      parsePackageName(pkg.name),
      ctx.deps.publicUrl(),
      current?.modifiedAt ?? pkg.updatedAt,
    );
    return abbreviated
      ? {
          etag: stored.etagAbbreviated,
          modifiedAt: stored.modifiedAt,
          plain: stored.abbreviated,
          gzip: stored.abbreviatedGzip,
        }
      : {
          etag: stored.etagFull,
          modifiedAt: stored.modifiedAt,
          plain: stored.full,
          gzip: stored.fullGzip,
        };
  });
}

export const notFound = (name: string): PackrError =>
  new PackrError("NOT_FOUND", `Package ${name} is not in this registry.`);
