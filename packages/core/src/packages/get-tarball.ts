import { and, eq, isNull } from "drizzle-orm";
import semver from "semver";
import { assertCanRead } from "../auth/read-rule.ts";
import type { ServiceContext } from "../context.ts";
import { versions } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { getUplinkTarball } from "../uplink/get-uplink-tarball.ts";
import { isPrivateName } from "../uplink/private-names.ts";
import { findPackageMeta } from "./get-packument.ts";
import { parsePackageName } from "./names.ts";
import type { TarballMeta } from "./package-cache.ts";

export type TarballResponse =
  | { kind: "redirect"; url: string }
  | {
      kind: "stream";
      access: "public" | "restricted";
      /** In memory when small (from the tarball cache), otherwise streamed from the store. */
      body: Uint8Array | ReadableStream<Uint8Array>;
      size: number;
      integrity: string;
    };

/**
 * A tarball by its file name (`widget-1.0.0.tgz`). Access and the blob key come from the process
 * cache (a query on a miss); then a presigned redirect when the store offers one, otherwise the
 * bytes: from the tarball cache, or read from the store (and kept when small).
 */
export async function getTarball(args: {
  ctx: ServiceContext;
  /** `countDownload: false` for HEAD: only a GET that serves the bytes is a download. */
  input: { name: string; filename: string; countDownload?: boolean };
}): Promise<TarballResponse> {
  const { ctx, input } = args;
  const name = parsePackageName(input.name);
  const prefix = `${name.basename}-`;
  const missing = () =>
    new PackrError(
      "NOT_FOUND",
      `Tarball ${input.filename.slice(0, 120)} of ${name.name} is not in this registry.`,
    );
  if (!input.filename.startsWith(prefix) || !input.filename.endsWith(".tgz")) throw missing();
  const version = input.filename.slice(prefix.length, -".tgz".length);
  // Only `<name>-<semver>.tgz` can name a tarball: anything else is refused before any lookup.
  if (semver.valid(version) !== version) throw missing();

  const meta = await findPackageMeta(ctx, name.name);
  const uplink = ctx.deps.uplink;
  let row: TarballMeta & { access: "public" | "restricted" };
  if (!meta && uplink && !(await isPrivateName(ctx, uplink, name))) {
    row = { ...(await getUplinkTarball(ctx, uplink, name, version)), access: "public" };
  } else {
    await assertCanRead(ctx, name, meta, missing);
    if (!meta) throw missing();
    const tarball = await findTarball(ctx, meta.id, name.name, version);
    if (!tarball) throw missing();
    row = { ...tarball, access: meta.access };
    // Only this registry's own packages count; uplink tarballs are npmjs's downloads.
    if (input.countDownload !== false) ctx.deps.downloads.record(meta.id, version);
  }

  const url = await ctx.deps.blobStore.downloadUrl(row.key, input.filename);
  if (url) return { kind: "redirect", url };
  const served = (body: Uint8Array | ReadableStream<Uint8Array>): TarballResponse => ({
    kind: "stream",
    access: row.access,
    body,
    size: row.size,
    integrity: row.integrity,
  });
  const cache = ctx.deps.tarballCache;
  const cached = cache.get(row.key);
  if (cached) return served(cached);
  const body = await ctx.deps.blobStore.get(row.key);
  if (!body) {
    throw new PackrError(
      "INTERNAL",
      `The stored tarball of ${name.name}@${version} is missing from blob storage.`,
    );
  }
  if (row.size > cache.maxItemBytes) return served(body);
  const bytes = new Uint8Array(await new Response(body).arrayBuffer());
  cache.set(row.key, bytes);
  return served(bytes);
}

/** A live version's blob key: from the process cache, or one indexed lookup. */
async function findTarball(
  ctx: ServiceContext,
  packageId: string,
  name: string,
  version: string,
): Promise<TarballMeta | null> {
  const cached = ctx.deps.packageCache.getTarball(name, version);
  if (cached) return cached;
  const [row] = await ctx.deps.db
    .select({ key: versions.tarballKey, size: versions.tarballSize, integrity: versions.integrity })
    .from(versions)
    .where(
      and(
        eq(versions.packageId, packageId),
        eq(versions.version, version),
        isNull(versions.unpublishedAt),
      ),
    )
    .limit(1);
  if (row) ctx.deps.packageCache.setTarball(name, version, row);
  return row ?? null;
}
