import { eq, sql } from "drizzle-orm";
import type { ServiceContext, Tx } from "../context.ts";
import { packages } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { refreshSearchDocument } from "../search/search-document.ts";
import { revString } from "./build-packument.ts";
import { notFound } from "./get-packument.ts";
import type { PackageName } from "./names.ts";
import { announcePackageChange } from "./package-cache.ts";

export type PackageRow = typeof packages.$inferSelect;

/**
 * Every change to a package goes through here: the package row is locked for the transaction (so
 * changes to one package serialize, while different packages proceed in parallel), and a change
 * that happened bumps the revision — which is what invalidates every cached document — and is
 * announced to every instance. Call `forgetPackage` after the transaction commits.
 */
export async function lockPackage(tx: Tx, name: PackageName): Promise<PackageRow> {
  const [pkg] = await tx.select().from(packages).where(eq(packages.name, name.name)).for("update");
  if (!pkg || pkg.rev === 0) throw notFound(name.name);
  return pkg;
}

/**
 * Record that the locked package changed; returns its new revision. Unless told otherwise the
 * change is also one of content: `time.modified` moves and the search document and package-level
 * deprecation are rewritten here, in the change's transaction. Stars and visibility changes are
 * not content changes (`content: false`): they bump the revision (the documents' ETags and the
 * caches follow it) but leave `modified` and the search document alone.
 */
export async function bumpRevision(
  tx: Tx,
  pkg: PackageRow,
  name: PackageName,
  now: Date,
  set: Partial<Pick<PackageRow, "description" | "access">> = {},
  opts: { content?: boolean } = {},
): Promise<number> {
  const content = opts.content ?? true;
  const [row] = await tx
    .update(packages)
    .set({
      ...set,
      rev: sql`${packages.rev} + 1`,
      ...(content ? { modifiedAt: now } : {}),
      updatedAt: now,
    })
    .where(eq(packages.id, pkg.id))
    .returning({ rev: packages.rev });
  if (content) await refreshSearchDocument(tx, pkg);
  await announcePackageChange(tx, name.name);
  return row?.rev ?? pkg.rev + 1;
}

/** After commit: this instance must not wait for its own NOTIFY to read its write. */
export function forgetPackage(ctx: ServiceContext, name: PackageName): void {
  ctx.deps.packageCache.invalidate(name.name);
}

/**
 * Optimistic lock for writes whose body is a diff against a document the client read (npm's
 * `/-rev/<rev>` writes: unpublish sends the document minus a version, owner changes send the whole
 * maintainer list). Applied to a newer document such a diff would undo what happened in between
 * (a version published since would look "removed"), so a stale revision is a 409 that npm prints.
 */
export function assertCurrentRev(pkg: PackageRow, name: PackageName, rev: string): void {
  const current = revString(pkg.id, pkg.rev);
  if (rev === current) return;
  throw new PackrError(
    "CONFLICT",
    `${name.name} changed since you read it (your revision ${rev.slice(0, 60)}, now ${current}). Run the command again.`,
    { details: { rev: current } },
  );
}
