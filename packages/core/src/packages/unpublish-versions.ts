import { z } from "zod";
import { emitAudit } from "../audit/emit-audit.ts";
import { assertScopeAllowed, requirePermission } from "../auth/policy.ts";
import { assertMayChange } from "../auth/write-rule.ts";
import type { ServiceContext } from "../context.ts";
import { PackrError } from "../errors.ts";
import { emitEvent } from "../events/emit-event.ts";
import { type PackageName, parsePackageName } from "./names.ts";
import { assertCurrentRev, bumpRevision, lockPackage } from "./package-change.ts";
import {
  assertWithinUnpublishWindow,
  finishUnpublish,
  liveVersions,
  tombstone,
  type UnpublishResult,
} from "./unpublish-rules.ts";

/**
 * Step 3 of npm's unpublish dance (protocol §3.2): the document npm read, minus the versions to
 * remove. Only the set of version keys is read; dist-tags, maintainers, time and every manifest in
 * it are ignored (tags are re-pointed here, not taken from the client).
 */
const UnpublishBody = z.object({
  _id: z.string().optional(),
  name: z.string().optional(),
  versions: z.record(z.string(), z.unknown()),
});

/**
 * `PUT /<name>/-rev/<rev>` with versions missing: unpublish those versions. They become tombstones
 * (gone from `versions`, kept in `time`, never publishable again), tags pointing at them go,
 * `latest` moves to the highest remaining release, and their tarballs are deleted after commit
 * when no live version shares the bytes. Needs the `unpublish` permission, a maintainer, the
 * current revision, and each version younger than the unpublish window (admins excepted).
 */
export async function unpublishVersions(args: {
  ctx: ServiceContext;
  input: { name: string; rev: string; body: unknown };
}): Promise<UnpublishResult> {
  const { ctx, input } = args;
  const name = parsePackageName(input.name);
  const token = requirePermission(ctx.actor, "unpublish", `unpublish ${name.name}`);
  assertScopeAllowed(token, name);
  const kept = keptVersions(input.body, name);

  const now = ctx.deps.now();
  const result = await ctx.deps.db.transaction(async (tx) => {
    const pkg = await lockPackage(tx, name);
    await assertMayChange(tx, pkg, token, name, {
      kind: "write",
      activity: `unpublishing versions of ${name.name}`,
    });
    assertCurrentRev(pkg, name, input.rev);
    const live = await liveVersions(tx, pkg);
    const gone = live.filter((v) => !kept.has(v.version));
    if (gone.length === 0) {
      return { id: pkg.id, rev: pkg.rev, gone, changed: false };
    }
    assertWithinUnpublishWindow(token, name, gone, now);
    const remaining = live.filter((v) => kept.has(v.version)).map((v) => v.version);
    const { latest } = await tombstone(tx, pkg, gone, remaining, now);
    const rev = await bumpRevision(tx, pkg, name, now);
    await emitAudit(tx, ctx, {
      action: "package.unpublish",
      targetType: "package",
      targetId: pkg.id,
      orgId: pkg.orgId,
      data: { name: name.name, versions: gone.map((v) => v.version), latest },
    });
    await emitEvent(
      tx,
      ctx,
      {
        type: "package.unpublished",
        orgId: pkg.orgId,
        packageName: name.name,
        version: gone.length === 1 ? (gone[0]?.version ?? null) : null,
        data: { versions: gone.map((v) => v.version), wholePackage: false, latest },
      },
      now,
    );
    return { id: pkg.id, rev, gone, changed: true };
  });
  return finishUnpublish(ctx, name, result);
}

function keptVersions(raw: unknown, name: PackageName): Set<string> {
  const parsed = UnpublishBody.safeParse(raw);
  if (!parsed.success) {
    throw new PackrError(
      "VALIDATION",
      "An unpublish request carries the package document without the versions to remove (npm unpublish sends it).",
    );
  }
  for (const field of [parsed.data._id, parsed.data.name]) {
    if (field !== undefined && field !== name.name) {
      throw new PackrError(
        "VALIDATION",
        `The package name in the URL (${name.name}) does not match the body (${field.slice(0, 100)}).`,
      );
    }
  }
  return new Set(Object.keys(parsed.data.versions));
}
