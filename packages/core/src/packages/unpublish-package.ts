import { emitAudit } from "../audit/emit-audit.ts";
import { assertScopeAllowed, requirePermission } from "../auth/policy.ts";
import { assertMayChange } from "../auth/write-rule.ts";
import type { ServiceContext } from "../context.ts";
import { emitEvent } from "../events/emit-event.ts";
import { parsePackageName } from "./names.ts";
import { assertCurrentRev, bumpRevision, lockPackage } from "./package-change.ts";
import {
  assertWithinUnpublishWindow,
  finishUnpublish,
  liveVersions,
  tombstone,
  type UnpublishResult,
} from "./unpublish-rules.ts";

/**
 * `DELETE /<name>/-rev/<rev>` (npm unpublish <pkg> --force, or of its last version): every live
 * version becomes a tombstone, every tag goes, and the tarballs are deleted after commit. The
 * package row stays, so its documents show `time.unpublished` (npm view prints "Unpublished on …")
 * and no version number can be reused. Every live version must be inside the unpublish window
 * (admins excepted).
 */
export async function unpublishPackage(args: {
  ctx: ServiceContext;
  input: { name: string; rev: string };
}): Promise<UnpublishResult> {
  const { ctx, input } = args;
  const name = parsePackageName(input.name);
  const token = requirePermission(ctx.actor, "unpublish", `unpublish ${name.name}`);
  assertScopeAllowed(token, name);

  const now = ctx.deps.now();
  const result = await ctx.deps.db.transaction(async (tx) => {
    const pkg = await lockPackage(tx, name);
    await assertMayChange(tx, pkg, token, name, {
      kind: "write",
      activity: `unpublishing ${name.name}`,
    });
    assertCurrentRev(pkg, name, input.rev);
    const gone = await liveVersions(tx, pkg);
    if (gone.length === 0) return { id: pkg.id, rev: pkg.rev, gone, changed: false };
    assertWithinUnpublishWindow(token, name, gone, now);
    await tombstone(tx, pkg, gone, [], now);
    const rev = await bumpRevision(tx, pkg, name, now);
    await emitAudit(tx, ctx, {
      action: "package.unpublish",
      targetType: "package",
      targetId: pkg.id,
      orgId: pkg.orgId,
      data: { name: name.name, versions: gone.map((v) => v.version), wholePackage: true },
    });
    await emitEvent(
      tx,
      ctx,
      {
        type: "package.unpublished",
        orgId: pkg.orgId,
        packageName: name.name,
        version: gone.length === 1 ? (gone[0]?.version ?? null) : null,
        data: { versions: gone.map((v) => v.version), wholePackage: true },
      },
      now,
    );
    return { id: pkg.id, rev, gone, changed: true };
  });
  return finishUnpublish(ctx, name, result);
}
