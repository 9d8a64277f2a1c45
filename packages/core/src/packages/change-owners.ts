import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { emitAudit } from "../audit/emit-audit.ts";
import { assertScopeAllowed, requirePermission } from "../auth/policy.ts";
import { announceAccessChange, forgetAccess } from "../auth/user-access.ts";
import { assertMayChange } from "../auth/write-rule.ts";
import type { ServiceContext } from "../context.ts";
import { packageMaintainers, users } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { emitEvent } from "../events/emit-event.ts";
import { revString } from "./build-packument.ts";
import { type PackageName, parsePackageName } from "./names.ts";
import { assertCurrentRev, bumpRevision, forgetPackage, lockPackage } from "./package-change.ts";

const MAX_OWNERS = 100;

/** npm owner add/rm (protocol §3.5): `{_id, _rev, maintainers: [{name, email}]}`; only names are read. */
const OwnersBody = z.object({
  _id: z.string().optional(),
  maintainers: z
    .array(z.object({ name: z.string().min(1).max(64) }))
    .max(MAX_OWNERS, `A package has at most ${MAX_OWNERS} maintainers.`),
});

export type ChangeOwnersResult = {
  ok: true;
  id: string;
  rev: string;
  added: string[];
  removed: string[];
};

/**
 * `PUT /<name>/-rev/<rev>` with a maintainer list and no versions: make the package's maintainers
 * exactly that list. Every name must be an existing user and the list cannot become empty. The
 * caller must be a maintainer (or an admin) holding a person's token: CI tokens publish, they do
 * not hand out ownership. The revision must be current, since the list replaces the one read.
 */
export async function changeOwners(args: {
  ctx: ServiceContext;
  input: { name: string; rev: string; body: unknown };
}): Promise<ChangeOwnersResult> {
  const { ctx, input } = args;
  const name = parsePackageName(input.name);
  const token = requirePermission(ctx.actor, "publish", `change the owners of ${name.name}`);
  assertScopeAllowed(token, name);
  if (token.tokenKind === "ci") {
    throw new PackrError(
      "FORBIDDEN",
      `A CI token cannot change the owners of ${name.name}. Log in as a maintainer (npm login) to do it.`,
    );
  }
  const wanted = requestedOwners(input.body, name);

  const result = await ctx.deps.db.transaction(async (tx) => {
    const pkg = await lockPackage(tx, name);
    await assertMayChange(tx, pkg, token, name, {
      kind: "manage",
      activity: `changing the owners of ${name.name}`,
    });
    assertCurrentRev(pkg, name, input.rev);
    const found = await tx
      .select({ id: users.id, name: users.name })
      .from(users)
      .where(inArray(users.name, wanted));
    const unknown = wanted.filter((n) => !found.some((u) => u.name === n));
    if (unknown.length > 0) {
      throw new PackrError(
        "NOT_FOUND",
        `There is no user ${unknown.map((n) => `"${n}"`).join(", ")} on this registry; owners must have an account.`,
      );
    }
    const current = await tx
      .select({ id: users.id, name: users.name })
      .from(packageMaintainers)
      .innerJoin(users, eq(users.id, packageMaintainers.userId))
      .where(eq(packageMaintainers.packageId, pkg.id));
    const added = found.filter((u) => !current.some((c) => c.id === u.id));
    const removed = current.filter((c) => !found.some((u) => u.id === c.id));
    if (added.length === 0 && removed.length === 0) {
      return {
        id: pkg.id,
        rev: pkg.rev,
        added: [],
        removed: [],
        touched: [] as string[],
        changed: false,
      };
    }
    const now = ctx.deps.now();
    if (removed.length > 0) {
      await tx.delete(packageMaintainers).where(
        and(
          eq(packageMaintainers.packageId, pkg.id),
          inArray(
            packageMaintainers.userId,
            removed.map((u) => u.id),
          ),
        ),
      );
    }
    if (added.length > 0) {
      await tx
        .insert(packageMaintainers)
        .values(added.map((u) => ({ packageId: pkg.id, userId: u.id, createdAt: now })));
    }
    const rev = await bumpRevision(tx, pkg, name, now);
    // Maintainers read their restricted packages: every instance drops the changed people's access.
    const touched = [...added, ...removed].map((u) => u.id);
    await announceAccessChange(tx, touched);
    const result = {
      added: added.map((u) => u.name),
      removed: removed.map((u) => u.name),
    };
    await emitAudit(tx, ctx, {
      action: "package.owners.change",
      targetType: "package",
      targetId: pkg.id,
      orgId: pkg.orgId,
      data: { name: name.name, ...result },
    });
    await emitEvent(
      tx,
      ctx,
      { type: "package.owner.changed", orgId: pkg.orgId, packageName: name.name, data: result },
      now,
    );
    return { id: pkg.id, rev, ...result, touched, changed: true };
  });
  if (result.changed) {
    forgetPackage(ctx, name);
    forgetAccess(ctx, result.touched);
  }
  return {
    ok: true,
    id: name.name,
    rev: revString(result.id, result.rev),
    added: result.added,
    removed: result.removed,
  };
}

function requestedOwners(raw: unknown, name: PackageName): string[] {
  const parsed = OwnersBody.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PackrError(
      "VALIDATION",
      `An owner change carries {_id, _rev, maintainers: [{name, email}]}: ${issue?.message ?? "unreadable"}.`,
    );
  }
  if (parsed.data._id !== undefined && parsed.data._id !== name.name) {
    throw new PackrError(
      "VALIDATION",
      `The package name in the URL (${name.name}) does not match the body (${parsed.data._id.slice(0, 100)}).`,
    );
  }
  const names = [...new Set(parsed.data.maintainers.map((m) => m.name))];
  if (names.length === 0) {
    throw new PackrError(
      "VALIDATION",
      `${name.name} must keep at least one maintainer; add another owner before removing the last one.`,
    );
  }
  return names;
}
