import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { emitAudit } from "../audit/emit-audit.ts";
import { assertScopeAllowed, requirePermission } from "../auth/policy.ts";
import { assertMayChange } from "../auth/write-rule.ts";
import type { ServiceContext } from "../context.ts";
import { versions } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { emitEvent } from "../events/emit-event.ts";
import { revString } from "./build-packument.ts";
import { isRecord } from "./manifest.ts";
import { type PackageName, parsePackageName } from "./names.ts";
import { bumpRevision, forgetPackage, lockPackage } from "./package-change.ts";
import { entriesWithDeprecation } from "./version-entries.ts";

/** Longest deprecation message kept; npm shows it on every install. */
const MAX_MESSAGE = 1024;

/**
 * The deprecate PUT is npm's whole `GET ?write=true` document echoed back (protocol §3.3). Only
 * `versions[v].deprecated` is read from it; every other field, including each version's manifest
 * and dist, is ignored, so this request cannot rewrite anything but deprecation messages.
 */
const DeprecateBody = z.object({
  _id: z.string().optional(),
  name: z.string().optional(),
  versions: z.record(z.string(), z.unknown()),
});

export type DeprecateResult = {
  ok: true;
  id: string;
  rev: string;
  /** version → new message, or null where a deprecation was cleared; only actual changes. */
  changed: Record<string, string | null>;
};

/**
 * npm deprecate / undeprecate: set (`"msg"`) or clear (`""`) `deprecated` on existing live
 * versions, and re-serialize their packument entries. A version the body does not mention, or
 * mentions without a `deprecated` key, keeps its state. Maintainers only.
 */
export async function deprecateVersions(args: {
  ctx: ServiceContext;
  input: { name: string; body: unknown };
}): Promise<DeprecateResult> {
  const { ctx } = args;
  const name = parsePackageName(args.input.name);
  const token = requirePermission(ctx.actor, "publish", `deprecate versions of ${name.name}`);
  assertScopeAllowed(token, name);
  const wanted = requestedDeprecations(args.input.body, name);

  const changed: Record<string, string | null> = {};
  const result = await ctx.deps.db.transaction(async (tx) => {
    const pkg = await lockPackage(tx, name);
    await assertMayChange(tx, pkg, token, name, {
      kind: "write",
      activity: `deprecating versions of ${name.name}`,
    });
    const requested = Object.keys(wanted);
    const rows =
      requested.length === 0
        ? []
        : await tx
            .select({
              id: versions.id,
              version: versions.version,
              manifest: versions.manifest,
              fullJson: versions.fullJson,
              abbreviatedJson: versions.abbreviatedJson,
              deprecated: versions.deprecated,
              unpublishedAt: versions.unpublishedAt,
            })
            .from(versions)
            .where(and(eq(versions.packageId, pkg.id), inArray(versions.version, requested)));
    const byVersion = new Map(rows.map((r) => [r.version, r]));
    for (const [version, message] of Object.entries(wanted)) {
      const row = byVersion.get(version);
      if (!row || row.unpublishedAt) {
        throw new PackrError(
          "NOT_FOUND",
          row
            ? `${name.name}@${version} was unpublished and cannot be deprecated.`
            : `${name.name} has no version ${version.slice(0, 64)}; nothing was deprecated.`,
        );
      }
      if ((row.deprecated ?? null) === message) continue;
      await tx
        .update(versions)
        .set({ deprecated: message, ...entriesWithDeprecation(row, message) })
        .where(eq(versions.id, row.id));
      changed[version] = message;
    }
    if (Object.keys(changed).length === 0) return { rev: pkg.rev, id: pkg.id };
    const now = ctx.deps.now();
    const rev = await bumpRevision(tx, pkg, name, now);
    await emitAudit(tx, ctx, {
      action: "package.deprecate",
      targetType: "package",
      targetId: pkg.id,
      orgId: pkg.orgId,
      data: { name: name.name, versions: changed },
    });
    const touched = Object.keys(changed);
    await emitEvent(
      tx,
      ctx,
      {
        type: "package.deprecated",
        orgId: pkg.orgId,
        packageName: name.name,
        version: touched.length === 1 ? (touched[0] ?? null) : null,
        // version → message; null where a deprecation was cleared (npm undeprecate).
        data: { versions: { ...changed } },
      },
      now,
    );
    return { rev, id: pkg.id };
  });
  if (Object.keys(changed).length > 0) forgetPackage(ctx, name);
  return { ok: true, id: name.name, rev: revString(result.id, result.rev), changed };
}

/** version → message (null clears) for every version whose entry carries a `deprecated` key. */
function requestedDeprecations(raw: unknown, name: PackageName): Record<string, string | null> {
  const parsed = DeprecateBody.safeParse(raw);
  if (!parsed.success) {
    throw new PackrError(
      "VALIDATION",
      "A deprecate request carries the package document with its versions (npm deprecate sends it).",
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
  const out: Record<string, string | null> = {};
  for (const [version, entry] of Object.entries(parsed.data.versions)) {
    if (!isRecord(entry) || !("deprecated" in entry)) continue;
    const message = entry.deprecated;
    if (typeof message !== "string") {
      throw new PackrError(
        "VALIDATION",
        `versions["${version.slice(0, 64)}"].deprecated must be a string ("" removes the deprecation).`,
      );
    }
    if (message.length > MAX_MESSAGE) {
      throw new PackrError(
        "VALIDATION",
        `A deprecation message is at most ${MAX_MESSAGE} characters; this one has ${message.length}.`,
      );
    }
    out[version] = message === "" ? null : message;
  }
  return out;
}
