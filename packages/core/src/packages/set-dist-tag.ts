import { and, eq } from "drizzle-orm";
import semver from "semver";
import { emitAudit } from "../audit/emit-audit.ts";
import { assertScopeAllowed, requirePermission } from "../auth/policy.ts";
import { assertMayChange } from "../auth/write-rule.ts";
import type { ServiceContext } from "../context.ts";
import { distTags, versions } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { emitEvent } from "../events/emit-event.ts";
import { assertTagName, liveDistTags } from "./dist-tag-rules.ts";
import { parsePackageName } from "./names.ts";
import { bumpRevision, forgetPackage, lockPackage } from "./package-change.ts";

/**
 * `PUT /-/package/<name>/dist-tags/<tag>` with a JSON string body (npm dist-tag add, yarn npm tag
 * add): point a tag at a live version. Maintainers only; moving `latest` is allowed. Answers the
 * package's tags after the change.
 */
export async function setDistTag(args: {
  ctx: ServiceContext;
  input: { name: string; tag: string; body: unknown };
}): Promise<Record<string, string>> {
  const { ctx, input } = args;
  const name = parsePackageName(input.name);
  const token = requirePermission(ctx.actor, "publish", `change the dist-tags of ${name.name}`);
  assertScopeAllowed(token, name);
  assertTagName(input.tag);
  const version = input.body;
  if (typeof version !== "string" || semver.valid(version) !== version) {
    throw new PackrError(
      "VALIDATION",
      'The body of a dist-tag PUT is the version as a JSON string, e.g. "1.2.3".',
    );
  }

  let changed = false;
  const tags = await ctx.deps.db.transaction(async (tx) => {
    const pkg = await lockPackage(tx, name);
    await assertMayChange(tx, pkg, token, name, {
      kind: "write",
      activity: `changing the dist-tags of ${name.name}`,
    });
    const [row] = await tx
      .select({ unpublishedAt: versions.unpublishedAt })
      .from(versions)
      .where(and(eq(versions.packageId, pkg.id), eq(versions.version, version)));
    if (!row || row.unpublishedAt) {
      throw new PackrError(
        "NOT_FOUND",
        row
          ? `${name.name}@${version} was unpublished; a tag can only point at a published version.`
          : `${name.name} has no version ${version}.`,
      );
    }
    const [existing] = await tx
      .select({ version: distTags.version })
      .from(distTags)
      .where(and(eq(distTags.packageId, pkg.id), eq(distTags.tag, input.tag)));
    if (existing?.version === version) return liveDistTags(tx, pkg.id);

    const now = ctx.deps.now();
    await tx
      .insert(distTags)
      .values({ packageId: pkg.id, tag: input.tag, version, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({
        target: [distTags.packageId, distTags.tag],
        set: { version, updatedAt: now },
      });
    await bumpRevision(tx, pkg, name, now);
    await emitAudit(tx, ctx, {
      action: "package.dist_tag.set",
      targetType: "package",
      targetId: pkg.id,
      orgId: pkg.orgId,
      data: { name: name.name, tag: input.tag, version, previous: existing?.version ?? null },
    });
    await emitEvent(
      tx,
      ctx,
      {
        type: "package.dist-tag.changed",
        orgId: pkg.orgId,
        packageName: name.name,
        version,
        data: { action: "set", tag: input.tag, version, previous: existing?.version ?? null },
      },
      now,
    );
    changed = true;
    return liveDistTags(tx, pkg.id);
  });
  if (changed) forgetPackage(ctx, name);
  return tags;
}
