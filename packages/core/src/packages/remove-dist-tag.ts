import { and, eq } from "drizzle-orm";
import { emitAudit } from "../audit/emit-audit.ts";
import { assertScopeAllowed, requirePermission } from "../auth/policy.ts";
import { assertMayChange } from "../auth/write-rule.ts";
import type { ServiceContext } from "../context.ts";
import { distTags } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { emitEvent } from "../events/emit-event.ts";
import { liveDistTags } from "./dist-tag-rules.ts";
import { parsePackageName } from "./names.ts";
import { bumpRevision, forgetPackage, lockPackage } from "./package-change.ts";

/**
 * `DELETE /-/package/<name>/dist-tags/<tag>` (npm dist-tag rm, yarn npm tag remove). `latest`
 * cannot be removed, only moved: every installer resolves a bare name through it.
 */
export async function removeDistTag(args: {
  ctx: ServiceContext;
  input: { name: string; tag: string };
}): Promise<Record<string, string>> {
  const { ctx, input } = args;
  const name = parsePackageName(input.name);
  const token = requirePermission(ctx.actor, "publish", `change the dist-tags of ${name.name}`);
  assertScopeAllowed(token, name);
  if (input.tag === "latest") {
    throw new PackrError(
      "VALIDATION",
      `The latest tag of ${name.name} cannot be removed, only moved: npm dist-tag add ${name.name}@<version> latest.`,
    );
  }

  const tags = await ctx.deps.db.transaction(async (tx) => {
    const pkg = await lockPackage(tx, name);
    await assertMayChange(tx, pkg, token, name, {
      kind: "write",
      activity: `changing the dist-tags of ${name.name}`,
    });
    const removed = await tx
      .delete(distTags)
      .where(and(eq(distTags.packageId, pkg.id), eq(distTags.tag, input.tag)))
      .returning({ version: distTags.version });
    const [row] = removed;
    if (!row) {
      throw new PackrError(
        "NOT_FOUND",
        `${name.name} has no dist-tag "${input.tag.slice(0, 64)}".`,
      );
    }
    const now = ctx.deps.now();
    await bumpRevision(tx, pkg, name, now);
    await emitAudit(tx, ctx, {
      action: "package.dist_tag.remove",
      targetType: "package",
      targetId: pkg.id,
      orgId: pkg.orgId,
      data: { name: name.name, tag: input.tag, version: row.version },
    });
    await emitEvent(
      tx,
      ctx,
      {
        type: "package.dist-tag.changed",
        orgId: pkg.orgId,
        packageName: name.name,
        data: { action: "removed", tag: input.tag, version: null, previous: row.version },
      },
      now,
    );
    return liveDistTags(tx, pkg.id);
  });
  forgetPackage(ctx, name);
  return tags;
}
