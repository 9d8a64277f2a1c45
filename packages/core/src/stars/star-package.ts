import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { emitAudit } from "../audit/emit-audit.ts";
import { requirePermission } from "../auth/policy.ts";
import { assertCanRead } from "../auth/read-rule.ts";
import type { ServiceContext } from "../context.ts";
import { packageSearch, packageStars } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { revString } from "../packages/build-packument.ts";
import { findPackageMeta, notFound } from "../packages/get-packument.ts";
import { parsePackageName } from "../packages/names.ts";
import { bumpRevision, forgetPackage, lockPackage } from "../packages/package-change.ts";

/** npm star / unstar PUT `{_id, _rev, users}` (protocol §3.7); nothing else is accepted. */
const StarBody = z.strictObject({
  _id: z.string().optional(),
  _rev: z.string().optional(),
  users: z.record(z.string(), z.unknown()),
});

export type StarResult = { ok: true; id: string; rev: string; starred: boolean };

/**
 * npm star / unstar. The body is the package's `users` map with the caller added (`true`) or
 * removed; only the caller's own entry is read, so no one can star or unstar for someone else,
 * and nothing but the caller's star can change. Any token that may read the package may star it.
 * `_rev` is not checked: the caller's entry is not a diff against the document, so a concurrent
 * change in between cannot be undone by it.
 */
export async function starPackage(args: {
  ctx: ServiceContext;
  input: { name: string; body: unknown };
}): Promise<StarResult> {
  const { ctx } = args;
  const name = parsePackageName(args.input.name);
  const token = requirePermission(ctx.actor, "read", `star ${name.name}`);
  const parsed = StarBody.safeParse(args.input.body);
  if (!parsed.success) {
    throw new PackrError(
      "VALIDATION",
      "A star request carries only {_id, _rev, users} (what npm star and npm unstar send).",
    );
  }
  if (parsed.data._id !== undefined && parsed.data._id !== name.name) {
    throw new PackrError(
      "VALIDATION",
      `The package name in the URL (${name.name}) does not match the body (${parsed.data._id.slice(0, 100)}).`,
    );
  }
  const starred = parsed.data.users[token.userName] === true;

  // Judged before the transaction: the access snapshot may need the database, which an open
  // transaction on the embedded (single-connection) database would hold.
  const meta = await findPackageMeta(ctx, name.name);
  await assertCanRead(ctx, name, meta);
  if (!meta) throw notFound(name.name);
  const result = await ctx.deps.db.transaction(async (tx) => {
    const pkg = await lockPackage(tx, name);
    const changed = starred
      ? await tx
          .insert(packageStars)
          .values({ packageId: pkg.id, userId: token.userId, createdAt: ctx.deps.now() })
          .onConflictDoNothing()
          .returning({ one: packageStars.userId })
      : await tx
          .delete(packageStars)
          .where(and(eq(packageStars.packageId, pkg.id), eq(packageStars.userId, token.userId)))
          .returning({ one: packageStars.userId });
    if (changed.length === 0) return { id: pkg.id, rev: pkg.rev, changed: false };
    await tx
      .update(packageSearch)
      .set({ stars: sql`${packageSearch.stars} + ${starred ? 1 : -1}` })
      .where(eq(packageSearch.packageId, pkg.id));
    // `users` is in the full packument: a new revision, but not a content change (`modified` stays).
    const rev = await bumpRevision(tx, pkg, name, ctx.deps.now(), {}, { content: false });
    await emitAudit(tx, ctx, {
      action: starred ? "package.star" : "package.unstar",
      targetType: "package",
      targetId: pkg.id,
      orgId: pkg.orgId,
      data: { name: name.name },
    });
    return { id: pkg.id, rev, changed: true };
  });
  if (result.changed) forgetPackage(ctx, name);
  return { ok: true, id: name.name, rev: revString(result.id, result.rev), starred };
}
