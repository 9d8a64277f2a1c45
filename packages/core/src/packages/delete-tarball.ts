import { and, eq } from "drizzle-orm";
import { assertScopeAllowed, requirePermission } from "../auth/policy.ts";
import { assertMayChange } from "../auth/write-rule.ts";
import type { ServiceContext } from "../context.ts";
import { versions } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { parsePackageName } from "./names.ts";
import { lockPackage } from "./package-change.ts";
import { releaseTarballs } from "./unpublish-rules.ts";

/**
 * `DELETE /<name>/-/<file>.tgz/-rev/<rev>`, step 5 of npm's unpublish dance: delete the blob of a
 * version that is already unpublished. The unpublish itself already deleted it, so this mostly
 * confirms; it is a success when the blob is gone already. A live version's tarball is refused
 * (unpublish the version first). The revision is not compared: the request carries no diff to
 * apply, and refusing it would fail an unpublish that has already happened.
 */
export async function deleteTarball(args: {
  ctx: ServiceContext;
  input: { name: string; filename: string; rev: string };
}): Promise<{ ok: true }> {
  const { ctx, input } = args;
  const name = parsePackageName(input.name);
  const token = requirePermission(ctx.actor, "unpublish", `delete tarballs of ${name.name}`);
  assertScopeAllowed(token, name);
  const prefix = `${name.basename}-`;
  const version =
    input.filename.startsWith(prefix) && input.filename.endsWith(".tgz")
      ? input.filename.slice(prefix.length, -".tgz".length)
      : null;
  const missing = () =>
    new PackrError(
      "NOT_FOUND",
      `Tarball ${input.filename.slice(0, 120)} of ${name.name} is not in this registry.`,
    );
  if (!version) throw missing();

  const row = await ctx.deps.db.transaction(async (tx) => {
    const pkg = await lockPackage(tx, name);
    await assertMayChange(tx, pkg, token, name, {
      kind: "write",
      activity: `deleting tarballs of ${name.name}`,
    });
    const [found] = await tx
      .select({ key: versions.tarballKey, unpublishedAt: versions.unpublishedAt })
      .from(versions)
      .where(and(eq(versions.packageId, pkg.id), eq(versions.version, version)));
    return found;
  });
  if (!row) throw missing();
  if (!row.unpublishedAt) {
    throw new PackrError(
      "CONFLICT",
      `${name.name}@${version} is still published; unpublish it first (npm unpublish ${name.name}@${version}).`,
    );
  }
  await releaseTarballs(ctx, [row.key]);
  return { ok: true };
}
