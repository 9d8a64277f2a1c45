import { z } from "zod";
import { emitAudit } from "../audit/emit-audit.ts";
import { assertScopeAllowed, requirePermission } from "../auth/policy.ts";
import { assertMayChange } from "../auth/write-rule.ts";
import type { ServiceContext } from "../context.ts";
import { PackrError } from "../errors.ts";
import { isRecord } from "../packages/manifest.ts";
import { parsePackageName } from "../packages/names.ts";
import { bumpRevision, forgetPackage, lockPackage } from "../packages/package-change.ts";

const AccessBody = z.object({ access: z.enum(["public", "restricted", "private"]) });

export type SetAccessResult = { ok: true; id: string; access: "public" | "restricted" };

/**
 * npm access set status=public|private: `POST /-/package/<name>/access` with `{access}`. Needs a
 * token of role maintainer or admin (never a CI token) whose scopes cover the package, held by a
 * maintainer or admin of the org that owns the scope (for a package outside an org: a maintainer). The change goes through
 * the package-change path, so every instance's caches drop the old access at commit and the very
 * next read is judged by the new one. `set mfa=…` (`publish_requires_tfa`) is refused: Packr has no
 * per-package 2FA policy.
 */
export async function setPackageAccess(args: {
  ctx: ServiceContext;
  input: { name: string; body: unknown };
}): Promise<SetAccessResult> {
  const { ctx } = args;
  const name = parsePackageName(args.input.name);
  const token = requirePermission(ctx.actor, "publish", `change the access of ${name.name}`);
  assertScopeAllowed(token, name);
  // Who may read a package is an owner's decision, not a pipeline's: a CI token publishes, it
  // never makes a private package public (nor the reverse).
  if (token.role !== "maintainer" && token.role !== "admin") {
    throw new PackrError(
      "FORBIDDEN",
      `A ${token.role} token cannot change the access of ${name.name}. Use a maintainer's own token (npm login) to do it.`,
      { details: { role: token.role, required: ["maintainer", "admin"] } },
    );
  }
  const body = args.input.body;
  if (isRecord(body) && "publish_requires_tfa" in body) {
    throw new PackrError(
      "VALIDATION",
      "This registry has no per-package two-factor policy (npm access set mfa); tokens and their roles decide who may publish.",
    );
  }
  const parsed = AccessBody.safeParse(body);
  if (!parsed.success) {
    throw new PackrError(
      "VALIDATION",
      'The access body is {"access": "public"} or {"access": "restricted"} (npm access set status=public|private).',
    );
  }
  const access = parsed.data.access === "public" ? "public" : "restricted";

  const changed = await ctx.deps.db.transaction(async (tx) => {
    const pkg = await lockPackage(tx, name);
    await assertMayChange(tx, pkg, token, name, {
      kind: "manage",
      activity: `changing the access of ${name.name}`,
    });
    if (pkg.access === access) return false;
    await bumpRevision(tx, pkg, name, ctx.deps.now(), { access }, { content: false });
    await emitAudit(tx, ctx, {
      action: "package.access",
      targetType: "package",
      targetId: pkg.id,
      orgId: pkg.orgId,
      data: { name: name.name, from: pkg.access, to: access },
    });
    return true;
  });
  if (changed) forgetPackage(ctx, name);
  return { ok: true, id: name.name, access };
}
