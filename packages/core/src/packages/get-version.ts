import { and, eq, isNull } from "drizzle-orm";
import semver from "semver";
import { assertCanRead } from "../auth/read-rule.ts";
import type { ServiceContext } from "../context.ts";
import { distTags, packages, versions } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { getUplinkPackument } from "../uplink/get-uplink-packument.ts";
import { isPrivateName } from "../uplink/private-names.ts";
import type { ProxiedDoc } from "../uplink/uplink.ts";
import { parsePackageName } from "./names.ts";
import { tarballUrl } from "./packument.ts";

/**
 * `GET /<name>/<version|tag|range>`: one version's manifest, as in the full packument. Reads the
 * rows directly; a range is resolved against the live versions (highest match, like npm).
 */
export async function getVersionManifest(args: {
  ctx: ServiceContext;
  input: { name: string; spec: string };
}): Promise<Record<string, unknown>> {
  const { ctx, input } = args;
  const name = parsePackageName(input.name);
  const { db } = ctx.deps;
  const [pkg] = await db
    .select({ id: packages.id, access: packages.access })
    .from(packages)
    .where(eq(packages.name, name.name))
    .limit(1);
  // The transport hands over the spec already decoded (`%25` is a literal `%`): decoding again
  // would turn a client's odd spec into a URIError and a 500.
  const spec = input.spec;
  const uplink = ctx.deps.uplink;
  if (!pkg && uplink && !(await isPrivateName(ctx, uplink, name))) {
    // The document was indexed when it was rewritten: only the one manifest is parsed here.
    const { doc } = await getUplinkPackument(ctx, uplink, name, "full");
    return pickVersion(doc, name.name, spec);
  }
  await assertCanRead(ctx, name, pkg ?? null);
  if (!pkg) throw new PackrError("NOT_FOUND", `Package ${name.name} is not in this registry.`);

  let version = semver.valid(spec);
  if (!version) {
    const [tag] = await db
      .select({ version: distTags.version })
      .from(distTags)
      .where(and(eq(distTags.packageId, pkg.id), eq(distTags.tag, spec)));
    version = tag?.version ?? null;
  }
  if (!version && semver.validRange(spec)) {
    const live = await db
      .select({ version: versions.version })
      .from(versions)
      .where(and(eq(versions.packageId, pkg.id), isNull(versions.unpublishedAt)));
    version = semver.maxSatisfying(
      live.map((v) => v.version),
      spec,
    );
  }
  const [row] = version
    ? await db
        .select({ manifest: versions.manifest, deprecated: versions.deprecated })
        .from(versions)
        .where(
          and(
            eq(versions.packageId, pkg.id),
            eq(versions.version, version),
            isNull(versions.unpublishedAt),
          ),
        )
    : [];
  if (!row || !version) {
    throw new PackrError(
      "NOT_FOUND",
      `${name.name} has no version matching "${spec.slice(0, 100)}".`,
    );
  }
  const dist = {
    ...(row.manifest.dist as Record<string, unknown>),
    tarball: tarballUrl(ctx.deps.publicUrl(), name, version),
  };
  return { ...row.manifest, dist, ...(row.deprecated ? { deprecated: row.deprecated } : {}) };
}

/** One version of a proxied document by version, dist-tag or range (highest match), as npm resolves it. */
function pickVersion(doc: ProxiedDoc, name: string, spec: string): Record<string, unknown> {
  const version =
    semver.valid(spec) ??
    doc.distTags[spec] ??
    (semver.validRange(spec) ? semver.maxSatisfying([...doc.versions.keys()], spec) : null);
  const at = version ? doc.versions.get(version) : undefined;
  if (!at) {
    throw new PackrError("NOT_FOUND", `${name} has no version matching "${spec.slice(0, 100)}".`);
  }
  return JSON.parse(Buffer.from(doc.bytes.plain.subarray(at.start, at.end)).toString("utf8"));
}
