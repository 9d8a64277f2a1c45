import { createHash } from "node:crypto";
import { and, eq } from "drizzle-orm";
import semver from "semver";
import { z } from "zod";
import { emitAudit } from "../audit/emit-audit.ts";
import { assertScopeAllowed, isAdminToken, requirePermission } from "../auth/policy.ts";
import { announceAccessChange, forgetAccess } from "../auth/user-access.ts";
import { assertMayChange, decideCreate } from "../auth/write-rule.ts";
import { assertPlanAllowsPackage } from "../billing/limits.ts";
import type { ServiceContext, TokenActor, Tx } from "../context.ts";
import { distTags, packageMaintainers, packages, versions } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { emitEvent } from "../events/emit-event.ts";
import { newId } from "../ids.ts";
import { enqueueJob } from "../jobs/outbox.ts";
import { ANALYZE_VERSION } from "../jobs/topics.ts";
import { insertOrg } from "../orgs/insert-org.ts";
import { holdBlob } from "../storage/blob-references.ts";
import { sha512Hex, tarballKey } from "../storage/blob-store.ts";
import { assertNotUpstream } from "../uplink/assert-not-upstream.ts";
import { revString } from "./build-packument.ts";
import { findPackageMeta } from "./get-packument.ts";
import {
  abbreviateVersion,
  isRecord,
  normalizeVersionManifest,
  serializeEntry,
} from "./manifest.ts";
import { isNewStyleName, type PackageName, parsePackageName } from "./names.ts";
import { bumpRevision, forgetPackage } from "./package-change.ts";
import { assertTarballMatchesManifest } from "./tarball-manifest.ts";

const Attachment = z.object({
  content_type: z.string().optional(),
  data: z.string(),
  length: z.number().int().nonnegative().optional(),
});

/** What npm, pnpm and yarn PUT to publish (protocol §3.1). Unknown top-level keys are ignored. */
const PublishBody = z.object({
  name: z.string(),
  "dist-tags": z.record(z.string(), z.string()).optional(),
  versions: z.record(z.string(), z.record(z.string(), z.unknown())),
  _attachments: z.record(z.string(), Attachment),
  access: z.enum(["public", "restricted", "private"]).nullable().optional(),
  readme: z.unknown().optional(),
});

export type PublishResult = {
  ok: true;
  id: string;
  version: string;
  rev: string;
  idempotent: boolean;
};

/**
 * Publish one version. Verifies the tarball against the manifest's integrity and shasum, stores
 * it under a content-addressed key (so npm's retry of a failed PUT rewrites the same object), then
 * commits version (with its serialized packument entries), dist-tags, maintainers, the package's
 * revision and the audit row in one transaction under the package's row lock. Nothing in it grows
 * with the number of versions the package already has. Concurrent publishes of different versions all land;
 * the same version twice is an idempotent success when the bytes match and a conflict otherwise.
 */
export async function publishPackage(args: {
  ctx: ServiceContext;
  input: { name: string; body: unknown };
}): Promise<PublishResult> {
  const { ctx } = args;
  const name = parsePackageName(args.input.name);
  const token = requirePermission(ctx.actor, "publish", `publish ${name.name}`);
  assertScopeAllowed(token, name);
  if (!isNewStyleName(name.name)) await assertMayUseOldStyleName(ctx, token, name);

  const body = parseBody(args.input.body, name);
  const [version, rawManifest] = onlyVersion(body.versions, name);
  const bytes = attachmentBytes(body._attachments, name, version);
  const { integrity, shasum } = verifyIntegrity(bytes, rawManifest, name, version);
  await assertTarballMatchesManifest(bytes, rawManifest, name, version);
  await assertNotUpstream(ctx, name, token);
  // Every refusal before the write: a 403 or 409 must not leave up to 200 MB behind. The
  // transaction checks again under the package's lock (a publish may land in between); what a
  // crash or such a race leaves behind, the blob sweeper removes.
  await assertMayAddVersion(ctx, token, name, version, integrity);

  const key = tarballKey(sha512Hex(bytes));
  await ctx.deps.blobStore.put(key, bytes, "application/octet-stream");

  const { manifest, readme } = normalizeVersionManifest({
    name: name.name,
    version,
    raw: rawManifest,
    integrity,
    shasum,
    publisher: { name: token.userName, email: token.userEmail ?? "" },
    topLevelReadme: body.readme,
  });
  // Registry signature over name@version:integrity (npm audit signatures), kept in dist.
  manifest.dist = {
    ...(manifest.dist as Record<string, unknown>),
    signatures: [ctx.deps.signer.sign(name.name, version, integrity)],
  };
  const tags = requestedTags(body["dist-tags"], version);
  const access = body.access === "private" ? "restricted" : body.access;

  let firstPublish = false;
  const result = await ctx.deps.db.transaction(async (tx) => {
    firstPublish = false;
    const now = ctx.deps.now();
    const created = await tx
      .insert(packages)
      .values({
        id: newId("pkg"),
        name: name.name,
        scope: name.scope,
        // Without --access an unscoped package is public and a scoped one takes the registry's
        // default: restricted, as on npmjs, unless PACKR_SCOPED_DEFAULT_ACCESS=public.
        access: access ?? (name.scope ? ctx.deps.scopedDefaultAccess : "public"),
        description: typeof manifest.description === "string" ? manifest.description : null,
        createdBy: token.userId,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing({ target: packages.name })
      .returning({ id: packages.id });
    const isNew = created.length > 0;
    const [pkg] = await tx
      .select()
      .from(packages)
      .where(eq(packages.name, name.name))
      .for("update");
    if (!pkg) throw new PackrError("INTERNAL", `Package ${name.name} vanished during publish.`);

    if (isNew) {
      // Checked again under the transaction: the scope may have been claimed since the pre-check.
      let decision = await decideCreate(tx, token, name, ctx.deps.scopeClaim);
      // Billing on: the owning account's plan must hold one more package (or scope, for a claim).
      await assertPlanAllowsPackage(tx, ctx.deps, token, name, decision);
      if (decision.kind === "claim" && !(await claimScope(tx, ctx, decision.org, token))) {
        // Another publish claimed the scope first (and committed): judged as that org's now.
        decision = await decideCreate(tx, token, name, ctx.deps.scopeClaim);
        if (decision.kind === "claim") {
          throw new PackrError("CONFLICT", `@${decision.org} is being claimed; publish again.`);
        }
        await assertPlanAllowsPackage(tx, ctx.deps, token, name, decision);
      }
      if (decision.kind === "org") {
        await tx.update(packages).set({ orgId: decision.orgId }).where(eq(packages.id, pkg.id));
        pkg.orgId = decision.orgId; // the audit row below belongs to the org's chain
      }
      await tx
        .insert(packageMaintainers)
        .values({ packageId: pkg.id, userId: token.userId, createdAt: now });
      // The publisher now maintains it: every instance must let them read it at once.
      await announceAccessChange(tx, [token.userId]);
      firstPublish = true;
    } else {
      await assertMayChange(tx, pkg, token, name, {
        kind: "write",
        activity: "publishing",
        publish: true,
      });
    }

    const [existing] = await tx
      .select({ integrity: versions.integrity, unpublishedAt: versions.unpublishedAt })
      .from(versions)
      .where(and(eq(versions.packageId, pkg.id), eq(versions.version, version)));
    if (existing) {
      if (existing.integrity === integrity && existing.unpublishedAt === null) {
        return { ok: true, id: name.name, version, rev: "", idempotent: true } as const;
      }
      throw versionExists(name, version, existing.unpublishedAt);
    }

    // The blob must outlive this row's commit: hold its key against deleters (unpublish of the
    // same bytes, the orphan sweeper) and put the bytes back if one took them since the write above.
    await holdBlob(tx, ctx.deps.blobStore, key, bytes);
    await tx.insert(versions).values({
      id: newId("ver"),
      packageId: pkg.id,
      version,
      manifest,
      fullJson: serializeEntry(manifest),
      abbreviatedJson: serializeEntry(abbreviateVersion(manifest)),
      readme,
      integrity,
      shasum,
      tarballKey: key,
      tarballSize: bytes.byteLength,
      publishedBy: token.userId,
      publishedAt: now,
    });
    // Analysis (score, capabilities, docs) runs after commit, never in this request.
    await enqueueJob(tx, { topic: ANALYZE_VERSION, payload: { packageId: pkg.id, version } });

    const [latest] = await tx
      .select({ version: distTags.version })
      .from(distTags)
      .where(and(eq(distTags.packageId, pkg.id), eq(distTags.tag, "latest")));
    if (!latest && !tags.includes("latest")) tags.push("latest");
    for (const tag of tags) {
      await tx
        .insert(distTags)
        .values({ packageId: pkg.id, tag, version, createdAt: now, updatedAt: now })
        .onConflictDoUpdate({
          target: [distTags.packageId, distTags.tag],
          set: { version, updatedAt: now },
        });
    }

    const becomesLatest = tags.includes("latest");
    const rev = await bumpRevision(
      tx,
      pkg,
      name,
      now,
      becomesLatest
        ? { description: typeof manifest.description === "string" ? manifest.description : null }
        : {},
    );
    await emitAudit(tx, ctx, {
      action: "package.publish",
      targetType: "package",
      targetId: pkg.id,
      orgId: pkg.orgId,
      data: { name: name.name, version, tags, integrity, access: pkg.access },
    });
    await emitEvent(
      tx,
      ctx,
      {
        type: "package.published",
        orgId: pkg.orgId,
        packageName: name.name,
        version,
        data: { tags, integrity, access: pkg.access },
      },
      now,
    );
    return {
      ok: true,
      id: name.name,
      version,
      rev: revString(pkg.id, rev),
      idempotent: false,
    } as const;
  });
  forgetPackage(ctx, name);
  if (firstPublish) forgetAccess(ctx, [token.userId]);
  return result;
}

/**
 * PACKR_SCOPE_CLAIM=first-publish: the first publish into a scope nobody owns creates the org of
 * that name, with the publisher as its admin, in the publish's own transaction. False when a
 * concurrent publish created it first: the savepoint keeps this transaction usable, so the
 * caller judges the publish again against that org (two first publishes by one person both land).
 */
async function claimScope(
  tx: Tx,
  ctx: ServiceContext,
  org: string,
  token: TokenActor,
): Promise<boolean> {
  try {
    await tx.transaction((savepoint) =>
      insertOrg(savepoint, ctx, { name: org, adminUserId: token.userId }),
    );
    return true;
  } catch (err) {
    if (err instanceof PackrError && err.code === "CONFLICT") return false;
    throw err;
  }
}

/**
 * The checks of the transaction, made before the tarball is written: the right to change an
 * existing package (or to create one under this name, in this scope), and a version number not
 * taken (a live version with the same bytes is npm's retry, which succeeds).
 */
async function assertMayAddVersion(
  ctx: ServiceContext,
  token: TokenActor,
  name: PackageName,
  version: string,
  integrity: string,
): Promise<void> {
  const [pkg] = await ctx.deps.db
    .select({ id: packages.id })
    .from(packages)
    .where(eq(packages.name, name.name))
    .limit(1);
  if (!pkg) {
    const decision = await decideCreate(ctx.deps.db, token, name, ctx.deps.scopeClaim);
    await assertPlanAllowsPackage(ctx.deps.db, ctx.deps, token, name, decision);
    return;
  }
  await assertMayChange(ctx.deps.db, pkg, token, name, {
    kind: "write",
    activity: "publishing",
    publish: true,
  });
  const [existing] = await ctx.deps.db
    .select({ integrity: versions.integrity, unpublishedAt: versions.unpublishedAt })
    .from(versions)
    .where(and(eq(versions.packageId, pkg.id), eq(versions.version, version)));
  if (existing && (existing.integrity !== integrity || existing.unpublishedAt !== null)) {
    throw versionExists(name, version, existing.unpublishedAt);
  }
}

function versionExists(name: PackageName, version: string, unpublishedAt: Date | null): PackrError {
  return new PackrError(
    "VERSION_EXISTS",
    unpublishedAt
      ? `${name.name}@${version} was unpublished, and a version number can never be reused. Bump the version and publish again.`
      : `You cannot publish over the previously published versions: ${version}. Bump the version and publish again.`,
    { details: { version } },
  );
}

/**
 * Names npm serves only for old packages (`punycode`, `JSONStream`): real trees depend on them, so
 * an administrator may create one here (importing the package from npm, or a mirror), and anyone
 * may publish new versions of one that exists. Anyone else creating one gets npm's refusal.
 */
async function assertMayUseOldStyleName(
  ctx: ServiceContext,
  token: TokenActor,
  name: PackageName,
): Promise<void> {
  if (isAdminToken(token) || (await findPackageMeta(ctx, name.name))) return;
  try {
    parsePackageName(name.name, "new");
  } catch (err) {
    if (!(err instanceof PackrError)) throw err;
    throw new PackrError(
      err.code,
      `${err.message} Only an administrator can create a package under a name npm keeps for old packages (to import it from npm).`,
    );
  }
}

function parseBody(raw: unknown, name: PackageName): z.infer<typeof PublishBody> {
  const parsed = PublishBody.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
    throw new PackrError(
      "VALIDATION",
      `Invalid publish body${where}: ${issue?.message ?? "unreadable"}.`,
    );
  }
  if (parsed.data.name !== name.name) {
    throw new PackrError(
      "VALIDATION",
      `The package name in the URL (${name.name}) does not match the name in the manifest (${parsed.data.name}).`,
    );
  }
  return parsed.data;
}

function onlyVersion(
  all: Record<string, Record<string, unknown>>,
  name: PackageName,
): [string, Record<string, unknown>] {
  const entries = Object.entries(all);
  const [first] = entries;
  if (!first || entries.length !== 1) {
    throw new PackrError(
      "VALIDATION",
      `A publish carries exactly one version; this one has ${entries.length}.`,
    );
  }
  const [version, manifest] = first;
  if (semver.valid(version) !== version) {
    throw new PackrError("VALIDATION", `"${version.slice(0, 60)}" is not a valid semver version.`);
  }
  if (manifest.name !== name.name || manifest.version !== version) {
    throw new PackrError(
      "VALIDATION",
      `The manifest of ${version} names ${String(manifest.name)}@${String(manifest.version)}; expected ${name.name}@${version}.`,
    );
  }
  return [version, manifest];
}

/**
 * The bytes of the publish's one tarball. The attachment's key carries no meaning: the registry
 * names the stored tarball itself (content-addressed) and serves it as `<name>-<version>.tgz`,
 * and what ties the bytes to the version is `dist.integrity`/`shasum`, checked next. npm keys it
 * `@acme/widget-1.0.0.tgz`, other tools `widget-1.0.0.tgz`; both are fine. A Sigstore provenance
 * bundle (`npm publish --provenance`) may sit beside it and is not a tarball. Zero or several
 * tarballs are refused: which one would be the package?
 */
function attachmentBytes(
  attachments: Record<string, z.infer<typeof Attachment>>,
  name: PackageName,
  version: string,
): Buffer {
  const tarballs = Object.entries(attachments).filter(([key, a]) => !isProvenanceBundle(key, a));
  if (tarballs.length === 0) {
    throw new PackrError(
      "VALIDATION",
      `A publish must carry the tarball of ${name.name}@${version} in _attachments; this one has none.`,
    );
  }
  const [only] = tarballs;
  if (!only || tarballs.length > 1) {
    const keys = tarballs.map(([key]) => JSON.stringify(key.slice(0, 80))).join(", ");
    throw new PackrError(
      "VALIDATION",
      `A publish carries exactly one tarball attachment; this one has ${tarballs.length} (${keys}).`,
    );
  }
  const attachment = only[1];
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(attachment.data)) {
    throw new PackrError("VALIDATION", "The tarball attachment is not valid base64.");
  }
  const bytes = Buffer.from(attachment.data, "base64");
  if (bytes.byteLength === 0)
    throw new PackrError("VALIDATION", "The tarball attachment is empty.");
  if (attachment.length !== undefined && attachment.length !== bytes.byteLength) {
    throw new PackrError(
      "INTEGRITY_MISMATCH",
      `The tarball is ${bytes.byteLength} bytes but the attachment says ${attachment.length}; the upload was damaged. Publish again.`,
    );
  }
  return bytes;
}

/** libnpmpublish keys the provenance bundle `<name>-<version>.sigstore`, typed as a Sigstore bundle. */
function isProvenanceBundle(key: string, attachment: z.infer<typeof Attachment>): boolean {
  return (
    key.endsWith(".sigstore") ||
    (attachment.content_type ?? "").toLowerCase().startsWith("application/vnd.dev.sigstore.bundle")
  );
}

/** Check the bytes against every hash the client declared; at least one must be there. */
function verifyIntegrity(
  bytes: Buffer,
  manifest: Record<string, unknown>,
  name: PackageName,
  version: string,
): { integrity: string; shasum: string } {
  const dist = isRecord(manifest.dist) ? manifest.dist : {};
  const integrity = `sha512-${createHash("sha512").update(bytes).digest("base64")}`;
  const shasum = createHash("sha1").update(bytes).digest("hex");
  const declaredIntegrity = typeof dist.integrity === "string" ? dist.integrity : undefined;
  const declaredShasum = typeof dist.shasum === "string" ? dist.shasum : undefined;
  if (!declaredIntegrity && !declaredShasum) {
    throw new PackrError(
      "VALIDATION",
      `${name.name}@${version} has neither dist.integrity nor dist.shasum.`,
    );
  }
  const mismatch = (what: string) =>
    new PackrError(
      "INTEGRITY_MISMATCH",
      `The tarball of ${name.name}@${version} does not match its ${what}; the upload was damaged or tampered with. Nothing was published.`,
    );
  if (declaredIntegrity) {
    // An SRI string may list several hashes; every sha512 listed must match, and one must exist.
    const sha512s = declaredIntegrity.split(/\s+/).filter((h) => h.startsWith("sha512-"));
    if (sha512s.length === 0 || sha512s.some((h) => h.split("?")[0] !== integrity)) {
      throw mismatch("dist.integrity");
    }
  }
  if (declaredShasum && declaredShasum.toLowerCase() !== shasum) throw mismatch("dist.shasum");
  return { integrity, shasum };
}

function requestedTags(tags: Record<string, string> | undefined, version: string): string[] {
  const out: string[] = [];
  for (const [tag, target] of Object.entries(tags ?? {})) {
    if (target !== version) continue;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(tag) || tag.length > 64 || semver.validRange(tag)) {
      throw new PackrError(
        "VALIDATION",
        `"${tag.slice(0, 64)}" is not a valid dist-tag (tags cannot look like versions).`,
      );
    }
    out.push(tag);
  }
  if (out.length === 0) out.push("latest");
  return out;
}
