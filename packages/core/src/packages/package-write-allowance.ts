import { eq } from "drizzle-orm";
import { assertScopeAllowed, requirePermission, requireToken } from "../auth/policy.ts";
import { assertMayChange, decideCreate } from "../auth/write-rule.ts";
import { assertPlanAllowsPackage } from "../billing/limits.ts";
import type { ServiceContext, TokenActor } from "../context.ts";
import { packages } from "../db/schema/index.ts";
import { isPackrError, type PackrError } from "../errors.ts";
import { notFound } from "./get-packument.ts";
import { type PackageName, parsePackageName } from "./names.ts";

/**
 * How big a body a write under a package name may carry, decided from the caller's token, the
 * package's maintainers and the scope's owner alone — before a byte of the body is read. A publish may be up to
 * PACKR_MAX_BODY_SIZE, and reading and parsing that much is the expensive part of a request; a
 * stranger must not get to make the registry do it only to be told 401 or 403 afterwards.
 *
 * - `full`: the caller may publish or deprecate (`PUT /<name>`), or unpublish versions / change
 *   owners (`PUT /<name>/-rev/<rev>`): the body is read up to the registry's limit. The verb still
 *   makes every check again under its lock; this is only the early answer.
 * - `small`: the caller may not write the package, but `PUT /<name>` also stars it, which needs
 *   only `read` and a body of a few bytes. The route reads at most a small body and answers
 *   `refusal` (what a publish would have been told) for anything bigger.
 * Otherwise this throws the refusal itself: 401 without a valid token, 403 without the right.
 */
export type PackageWriteAllowance = { body: "full" } | { body: "small"; refusal: PackrError };

export async function packageWriteAllowance(args: {
  ctx: ServiceContext;
  /** `document`: `PUT /<name>`; `revision`: `PUT /<name>/-rev/<rev>`. */
  input: { name: string; target: "document" | "revision" };
}): Promise<PackageWriteAllowance> {
  const { ctx, input } = args;
  const name = parsePackageName(input.name);
  const token = requireToken(ctx.actor, `write to ${name.name}`);
  try {
    if (input.target === "document") await assertMayWriteDocument(ctx, token, name);
    else await assertMayWriteRevision(ctx, token, name);
    return { body: "full" };
  } catch (err) {
    if (!isPackrError(err)) throw err;
    // Starring is the one write of `PUT /<name>` that needs no more than `read`.
    if (input.target === "document" && token.permissions.includes("read")) {
      return { body: "small", refusal: err };
    }
    throw err;
  }
}

/** Publish and deprecate: `publish`, the token's scopes, and a maintainer of an existing package. */
async function assertMayWriteDocument(
  ctx: ServiceContext,
  token: TokenActor,
  name: PackageName,
): Promise<void> {
  requirePermission(token, "publish", `publish ${name.name}`);
  assertScopeAllowed(token, name);
  const pkg = await packageId(ctx, name);
  // A name nobody has published yet: whoever may create a package in its scope.
  if (pkg) {
    await assertMayChange(ctx.deps.db, pkg, token, name, {
      kind: "write",
      activity: "publishing",
      publish: true,
    });
  } else {
    // Over a plan limit, a publish is refused before its body (up to PACKR_MAX_BODY_SIZE) is read.
    const decision = await decideCreate(ctx.deps.db, token, name, ctx.deps.scopeClaim);
    await assertPlanAllowsPackage(ctx.deps.db, ctx.deps, token, name, decision);
  }
}

/** Unpublish (`unpublish`) and owner changes (`publish`): a maintainer of a package that exists. */
async function assertMayWriteRevision(
  ctx: ServiceContext,
  token: TokenActor,
  name: PackageName,
): Promise<void> {
  if (!token.permissions.includes("unpublish"))
    requirePermission(token, "publish", `change ${name.name}`);
  assertScopeAllowed(token, name);
  const pkg = await packageId(ctx, name);
  if (!pkg) throw notFound(name.name);
  await assertMayChange(ctx.deps.db, pkg, token, name, {
    kind: "write",
    activity: `changing ${name.name}`,
  });
}

async function packageId(
  ctx: ServiceContext,
  name: PackageName,
): Promise<{ id: string; access: "public" | "restricted" } | null> {
  const [row] = await ctx.deps.db
    .select({ id: packages.id, rev: packages.rev, access: packages.access })
    .from(packages)
    .where(eq(packages.name, name.name))
    .limit(1);
  // rev 0: a first publish that has not committed; nobody is its maintainer yet.
  return row && row.rev > 0 ? { id: row.id, access: row.access } : null;
}
