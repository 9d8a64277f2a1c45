import { and, eq, isNull } from "drizzle-orm";
import { assertCanRead } from "../auth/policy.ts";
import type { ServiceContext } from "../context.ts";
import { packages, versions } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { parsePackageName } from "./names.ts";

export type TarballResponse =
  | { kind: "redirect"; url: string }
  | {
      kind: "stream";
      access: "public" | "restricted";
      body: ReadableStream<Uint8Array>;
      size: number;
      integrity: string;
    };

/**
 * A tarball by its file name (`widget-1.0.0.tgz`). One query for access and the blob key; then a
 * presigned redirect when the store offers one, otherwise a stream.
 */
export async function getTarball(args: {
  ctx: ServiceContext;
  input: { name: string; filename: string };
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

  const [row] = await ctx.deps.db
    .select({
      access: packages.access,
      key: versions.tarballKey,
      size: versions.tarballSize,
      integrity: versions.integrity,
    })
    .from(packages)
    .innerJoin(
      versions,
      and(
        eq(versions.packageId, packages.id),
        eq(versions.version, version),
        isNull(versions.unpublishedAt),
      ),
    )
    .where(eq(packages.name, name.name))
    .limit(1);
  assertCanRead(ctx.actor, name, row ?? null);
  if (!row) throw missing();

  const url = await ctx.deps.blobStore.downloadUrl(row.key, input.filename);
  if (url) return { kind: "redirect", url };
  const body = await ctx.deps.blobStore.get(row.key);
  if (!body) {
    throw new PackrError(
      "INTERNAL",
      `The stored tarball of ${name.name}@${version} is missing from blob storage.`,
    );
  }
  return { kind: "stream", access: row.access, body, size: row.size, integrity: row.integrity };
}
