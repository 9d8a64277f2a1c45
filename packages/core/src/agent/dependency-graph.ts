import { and, eq, isNull } from "drizzle-orm";
import semver from "semver";
import { assertCanRead } from "../auth/read-rule.ts";
import type { ServiceContext } from "../context.ts";
import { distTags, versions } from "../db/schema/index.ts";
import { isPackrError, PackrError } from "../errors.ts";
import { findPackageMeta } from "../packages/get-packument.ts";
import { type PackageName, parsePackageName } from "../packages/names.ts";
import { isPrivateName } from "../uplink/private-names.ts";
import type { Uplink } from "../uplink/uplink.ts";
import { strings } from "./load-package.ts";
import { proxiedDocument, proxiedLatest, proxiedVersions } from "./proxied-package.ts";
import { readableOrProxied } from "./read-access.ts";
import type { DependencyGraph, DependencyNode } from "./types.ts";

export const MAX_DEPTH = 5;
const MAX_NODES = 300;

type Live = { version: string; manifest: Record<string, unknown>; deprecated: string | null };
/** `proxied`: the versions come from the uplink's document (installable through this registry). */
type Resolved = { live: Live[]; proxied?: boolean } | { unresolved: string };
/**
 * Uplink documents one graph may read: each is a fetch on a cold cache, and the graph is
 * anonymous-readable. Past it, names not published here are left unresolved, saying why.
 */
export const MAX_UPLINK_LOOKUPS = 50;

/**
 * `GET /agent/:pkg/deps?depth=`: the latest version's dependencies (and peer and optional ones),
 * each resolved to the highest version this registry holds (or, for a name it proxies, the
 * uplink lists — `inRegistry: false`) that satisfies the range, then theirs
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
  const found = await readableOrProxied(ctx, args.input.name);
  const { name } = found;
  const cache = new Map<string, Resolved>();
  const budget = { uplinkLookups: MAX_UPLINK_LOOKUPS };
  let root: Live | undefined;
  if (found.source === "uplink") {
    // A proxied root: its versions from the uplink's document, its latest as the agent answers.
    const doc = await proxiedDocument(ctx, found.uplink, name);
    const rootLive = proxiedVersions(doc);
    cache.set(name.name, { live: rootLive, proxied: true });
    root = proxiedLatest(name, doc, rootLive);
  } else {
    const [latest] = await ctx.deps.db
      .select({ version: distTags.version })
      .from(distTags)
      .where(and(eq(distTags.packageId, found.meta.id), eq(distTags.tag, "latest")));
    const rootLive = await liveVersions(ctx, found.meta.id);
    cache.set(name.name, { live: rootLive });
    root = rootLive.find((v) => v.version === latest?.version);
  }
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
    inRegistry: found.source === "local",
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
      const resolved = await resolve(ctx, cache, depName, budget);
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
            `no version ${resolved.proxied ? "on the uplink" : "in this registry"} satisfies ${range}`,
          );
        } else {
          const nodeId = `${depName}@${live.version}`;
          target = nodes.get(nodeId) ?? {
            id: nodeId,
            name: depName,
            version: live.version,
            depth: level + 1,
            inRegistry: resolved.proxied !== true,
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
  budget: { uplinkLookups: number },
): Promise<Resolved> {
  const hit = cache.get(raw);
  if (hit) return hit;
  let result: Resolved;
  try {
    const name = parsePackageName(raw);
    const meta = await findPackageMeta(ctx, name.name);
    const uplink = ctx.deps.uplink;
    if (!meta && uplink && !(await isPrivateName(ctx, uplink, name))) {
      result = await resolveProxied(ctx, uplink, name, budget);
    } else {
      await assertCanRead(ctx, name, meta);
      result = meta
        ? { live: await liveVersions(ctx, meta.id) }
        : { unresolved: "not in this registry" };
    }
  } catch {
    // Unreadable or an invalid name: reported as absent, so private names cannot be probed.
    result = { unresolved: "not in this registry" };
  }
  cache.set(raw, result);
  return result;
}

/** A dependency this registry would proxy: its versions from the uplink, within the budget. */
async function resolveProxied(
  ctx: ServiceContext,
  uplink: Uplink,
  name: PackageName,
  budget: { uplinkLookups: number },
): Promise<Resolved> {
  if (budget.uplinkLookups <= 0) {
    return { unresolved: `not looked up: at most ${MAX_UPLINK_LOOKUPS} uplink packages a graph` };
  }
  budget.uplinkLookups -= 1;
  try {
    return { live: proxiedVersions(await proxiedDocument(ctx, uplink, name)), proxied: true };
  } catch (err) {
    if (isPackrError(err) && err.code === "NOT_FOUND") {
      return { unresolved: "not in this registry, nor on its uplink" };
    }
    return { unresolved: "the uplink could not be reached" };
  }
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
