import { and, eq, isNull } from "drizzle-orm";
import semver from "semver";
import type { ServiceContext } from "../context.ts";
import { versions } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { strings } from "./load-package.ts";
import { proxiedDocument, proxiedVersions } from "./proxied-package.ts";
import { type AgentSource, readableOrProxied } from "./read-access.ts";
import type { CompatibleVersion, PreviousVersion } from "./types.ts";

type Row = {
  version: string;
  manifest: Record<string, unknown>;
  publishedAt: Date | null;
  deprecated: string | null;
};

/** Live versions, newest first: this registry's rows, or a proxied package's uplink document. */
async function live(ctx: ServiceContext, found: AgentSource): Promise<Row[]> {
  if (found.source === "uplink") {
    return proxiedVersions(await proxiedDocument(ctx, found.uplink, found.name));
  }
  const rows = await ctx.deps.db
    .select({
      version: versions.version,
      manifest: versions.manifest,
      publishedAt: versions.publishedAt,
      deprecated: versions.deprecated,
    })
    .from(versions)
    .where(and(eq(versions.packageId, found.meta.id), isNull(versions.unpublishedAt)));
  return rows.sort((a, b) => semver.rcompare(a.version, b.version));
}

/**
 * `GET /agent/:pkg/latest?node=`: the newest stable, not deprecated version whose `engines.node`
 * accepts that Node version (a version without `engines.node` runs anywhere, as npm assumes; an
 * unparseable range is not trusted). `20`, `v20.3` and `20.3.1` are all accepted as the Node version.
 */
export async function latestForNode(args: {
  ctx: ServiceContext;
  input: { name: string; node: string };
}): Promise<CompatibleVersion> {
  const { ctx } = args;
  const node = parseNodeVersion(args.input.node);
  const found = await readableOrProxied(ctx, args.input.name);
  const { name } = found;
  for (const row of await live(ctx, found)) {
    if (semver.prerelease(row.version) || row.deprecated !== null) continue;
    const range = strings(row.manifest.engines).node ?? null;
    if (
      range !== null &&
      !(semver.validRange(range) && semver.satisfies(node, range, { includePrerelease: true }))
    )
      continue;
    return {
      name: name.name,
      version: row.version,
      node,
      enginesNode: range,
      publishedAt: row.publishedAt?.toISOString() ?? null,
      reason:
        range === null
          ? `${row.version} declares no engines.node`
          : `engines.node "${range}" accepts ${node}`,
    };
  }
  throw new PackrError(
    "NOT_FOUND",
    `No stable, non-deprecated version of ${name.name} declares support for Node ${node}.`,
  );
}

/** `GET /agent/:pkg/previous?version=`: the release before a given version of the package. */
export async function previousVersion(args: {
  ctx: ServiceContext;
  input: { name: string; version: string };
}): Promise<PreviousVersion> {
  const { ctx } = args;
  const version = semver.valid(args.input.version);
  if (!version) {
    throw new PackrError(
      "VALIDATION",
      `"${args.input.version.slice(0, 60)}" is not a semver version.`,
    );
  }
  const found = await readableOrProxied(ctx, args.input.name);
  const { name } = found;
  const rows = await live(ctx, found);
  if (!rows.some((r) => r.version === version)) {
    throw new PackrError(
      "NOT_FOUND",
      `${name.name}@${version} is not a live version ${found.source === "uplink" ? "on the uplink" : "in this registry"}.`,
    );
  }
  // A stable version's predecessor is the previous stable release; a prerelease's may be anything lower.
  const prev = rows.find(
    (r) =>
      semver.lt(r.version, version) &&
      (semver.prerelease(version) !== null || semver.prerelease(r.version) === null),
  );
  if (!prev) throw new PackrError("NOT_FOUND", `${name.name}@${version} is its first release.`);
  return {
    name: name.name,
    version,
    previous: {
      version: prev.version,
      publishedAt: prev.publishedAt?.toISOString() ?? null,
      deprecated: prev.deprecated,
    },
  };
}

function parseNodeVersion(raw: string): string {
  const trimmed = raw.trim();
  const coerced = /^v?\d+(\.\d+){0,2}$/.test(trimmed) ? semver.coerce(trimmed)?.version : null;
  if (!coerced) {
    throw new PackrError(
      "VALIDATION",
      `node must be a Node.js version such as 20, 20.11 or v20.11.1; got "${trimmed.slice(0, 40)}".`,
    );
  }
  return coerced;
}
