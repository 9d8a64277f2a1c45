import { and, eq, isNull } from "drizzle-orm";
import semver from "semver";
import { assertCanRead } from "../auth/policy.ts";
import type { ServiceContext } from "../context.ts";
import { distTags, versions } from "../db/schema/index.ts";
import { PackrError } from "../errors.ts";
import { findPackageMeta } from "../packages/get-packument.ts";
import { parsePackageName } from "../packages/names.ts";
import { strings } from "./load-package.ts";
import { readablePackage } from "./read-access.ts";
import type { DependencyGraph, DependencyNode } from "./types.ts";

export const MAX_DEPTH = 5;
const MAX_NODES = 300;

type Live = { version: string; manifest: Record<string, unknown>; deprecated: string | null };
type Resolved = { live: Live[] } | { unresolved: string };

/**
 * `GET /agent/:pkg/deps?depth=`: the latest version's dependencies (and peer and optional ones),
 * each resolved to the highest version this registry holds that satisfies the range, then theirs
 * up to `depth` levels (at most 5, and 300 nodes). Depth-first with the path kept, so an edge
 * back to an ancestor is marked as a cycle and not followed; a node reached twice is expanded
 * once. Packages the caller may not read look exactly like packages the registry does not hold.
 */
export async function getDependencyGraph(args: {
  ctx: ServiceContext;
  input: { name: string; depth?: number };
}): Promise<DependencyGraph> {
  const { ctx } = args;
  const depth = args.input.depth ?? 1;
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_DEPTH) {
    throw new PackrError("VALIDATION", `depth must be an integer from 1 to ${MAX_DEPTH}.`);
  }
  const { name, meta } = await readablePackage(ctx, args.input.name);
  const [latest] = await ctx.deps.db
    .select({ version: distTags.version })
    .from(distTags)
    .where(and(eq(distTags.packageId, meta.id), eq(distTags.tag, "latest")));
  const cache = new Map<string, Resolved>();
  const rootLive = await liveVersions(ctx, meta.id);
  cache.set(name.name, { live: rootLive });
  const root = rootLive.find((v) => v.version === latest?.version);
  if (!root) throw new PackrError("NOT_FOUND", `${name.name} has no live version.`);

  const nodes = new Map<string, DependencyNode>();
  const edges: DependencyGraph["edges"] = [];
  const expanded = new Set<string>();
  let truncated = false;
  const rootId = `${name.name}@${root.version}`;
  nodes.set(rootId, {
    id: rootId,
    name: name.name,
    version: root.version,
    depth: 0,
    inRegistry: true,
    deprecated: root.deprecated,
    unresolved: null,
  });

  const visit = async (
    id: string,
    manifest: Record<string, unknown>,
    level: number,
    path: Set<string>,
  ) => {
    expanded.add(id);
    const deps: [string, string, "dependency" | "peer" | "optional"][] = [
      ...Object.entries(strings(manifest.dependencies)).map(
        ([n, r]) => [n, r, "dependency"] as [string, string, "dependency"],
      ),
      ...Object.entries(strings(manifest.peerDependencies)).map(
        ([n, r]) => [n, r, "peer"] as [string, string, "peer"],
      ),
      ...Object.entries(strings(manifest.optionalDependencies)).map(
        ([n, r]) => [n, r, "optional"] as [string, string, "optional"],
      ),
    ];
    for (const [depName, range, kind] of deps) {
      const resolved = await resolve(ctx, cache, depName);
      let target: DependencyNode;
      let manifestOf: Record<string, unknown> | null = null;
      if ("unresolved" in resolved) {
        target = unresolvedNode(depName, range, level + 1, resolved.unresolved);
      } else if (!semver.validRange(range)) {
        target = unresolvedNode(
          depName,
          range,
          level + 1,
          `"${range.slice(0, 80)}" is not a semver range`,
        );
      } else {
        const best = semver.maxSatisfying(
          resolved.live.map((v) => v.version),
          range,
        );
        const live = resolved.live.find((v) => v.version === best);
        if (!live) {
          target = unresolvedNode(
            depName,
            range,
            level + 1,
            `no version in this registry satisfies ${range}`,
          );
        } else {
          const nodeId = `${depName}@${live.version}`;
          target = nodes.get(nodeId) ?? {
            id: nodeId,
            name: depName,
            version: live.version,
            depth: level + 1,
            inRegistry: true,
            deprecated: live.deprecated,
            unresolved: null,
          };
          manifestOf = live.manifest;
        }
      }
      if (!nodes.has(target.id)) {
        if (nodes.size >= MAX_NODES) {
          truncated = true;
          return;
        }
        nodes.set(target.id, target);
      }
      const cycle = path.has(target.id);
      edges.push({ from: id, to: target.id, range, kind, cycle });
      if (manifestOf && !cycle && !expanded.has(target.id)) {
        if (level + 1 < depth) {
          await visit(target.id, manifestOf, level + 1, new Set([...path, target.id]));
        }
      }
    }
  };
  await visit(rootId, root.manifest, 0, new Set([rootId]));
  return { root: rootId, depth, nodes: [...nodes.values()], edges, truncated };
}

function unresolvedNode(name: string, range: string, depth: number, why: string): DependencyNode {
  return {
    id: `${name}@${range}`,
    name,
    version: null,
    depth,
    inRegistry: false,
    deprecated: null,
    unresolved: why,
  };
}

async function resolve(
  ctx: ServiceContext,
  cache: Map<string, Resolved>,
  raw: string,
): Promise<Resolved> {
  const hit = cache.get(raw);
  if (hit) return hit;
  let result: Resolved;
  try {
    const name = parsePackageName(raw);
    const meta = await findPackageMeta(ctx, name.name);
    assertCanRead(ctx.actor, name, meta);
    result = meta
      ? { live: await liveVersions(ctx, meta.id) }
      : { unresolved: "not in this registry" };
  } catch {
    // Unreadable or an invalid name: reported as absent, so private names cannot be probed.
    result = { unresolved: "not in this registry" };
  }
  cache.set(raw, result);
  return result;
}

async function liveVersions(ctx: ServiceContext, packageId: string): Promise<Live[]> {
  return ctx.deps.db
    .select({
      version: versions.version,
      manifest: versions.manifest,
      deprecated: versions.deprecated,
    })
    .from(versions)
    .where(and(eq(versions.packageId, packageId), isNull(versions.unpublishedAt)));
}
