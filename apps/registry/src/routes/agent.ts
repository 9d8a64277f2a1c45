import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import * as S from "@packr/agent-schemas";
import {
  comparePackages,
  getAgentPackage,
  getDependencyGraph,
  getPackageDocs,
  getRecommendations,
  latestForNode,
  MAX_COMPARE,
  MAX_DEPTH,
  PackrError,
  previousVersion,
  searchCapabilities,
} from "@packr/core";
import type { AppEnv } from "../env.ts";

/**
 * The agent API (`/agent/…`): thin routes over core's agent verbs, described with zod so they
 * appear in /openapi.json. Read access is the packument's: anonymous callers see public packages
 * only, and a restricted or missing scoped name answers 401 to them alike. A scoped name works
 * as `@scope%2Fname` and as `@scope/name` (app.ts rewrites the second form into the first before
 * routing, since a path parameter cannot hold a slash).
 */
export const agentApi = new OpenAPIHono<AppEnv>({
  // Bad query or path parameters are the client's mistake: the flat 400 body, never a 5xx.
  defaultHook: (result) => {
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
      throw new PackrError(
        "VALIDATION",
        `Invalid request: ${where}${issue?.message ?? "bad input"}.`,
      );
    }
  },
});

const errors = {
  400: {
    description: "Invalid package name or query parameter",
    content: { "application/json": { schema: S.ErrorBody } },
  },
  401: {
    description: "Authentication needed (restricted, or unknown scoped name)",
    content: { "application/json": { schema: S.ErrorBody } },
  },
  403: {
    description: "The token may not read packages",
    content: { "application/json": { schema: S.ErrorBody } },
  },
  404: {
    description: "Not in this registry",
    content: { "application/json": { schema: S.ErrorBody } },
  },
} as const;

const ok = <T extends z.ZodType>(schema: T, description: string) => ({
  200: { description, content: { "application/json": { schema } } },
  ...errors,
});

const PkgParam = z.object({
  pkg: z
    .string()
    .min(1)
    .max(300)
    .openapi({
      param: { name: "pkg", in: "path" },
      example: "@acme%2Fwidget",
      description: "Package name; scoped names as @scope%2Fname or @scope/name",
    }),
});
const security: Array<Record<string, string[]>> = [{ bearerAuth: [] }, {}];

const searchRoute = createRoute({
  method: "get",
  path: "/agent/search",
  tags: ["agent"],
  operationId: "agentSearch",
  summary: "Find packages by capability, ranked by relevance and quality",
  security,
  request: {
    query: z.object({
      q: z.string().trim().min(1).max(200).openapi({ example: "authentication" }),
      limit: z.coerce.number().int().min(1).max(50).optional().openapi({ example: 10 }),
    }),
  },
  responses: ok(S.SearchResponse, "Matching packages with the reason each matched"),
});

const compareRoute = createRoute({
  method: "get",
  path: "/agent/compare",
  tags: ["agent"],
  operationId: "agentCompare",
  summary: "Compare packages side by side, with a recommended pick",
  security,
  request: {
    query: z.object({
      packages: z
        .string()
        .min(1)
        .max(3000)
        .openapi({
          example: "date-fns,dayjs,@acme%2Fdates",
          description: `2 to ${MAX_COMPARE} comma-separated names`,
        }),
    }),
  },
  responses: ok(S.CompareResponse, "Each package's info and the pick"),
});

const infoRoute = createRoute({
  method: "get",
  path: "/agent/{pkg}",
  tags: ["agent"],
  operationId: "agentPackage",
  summary: "Latest version's info: quality, downloads, capabilities, trust signals",
  security,
  request: { params: PkgParam },
  responses: ok(S.AgentPackage, "The package"),
});

const depsRoute = createRoute({
  method: "get",
  path: "/agent/{pkg}/deps",
  tags: ["agent"],
  operationId: "agentDependencies",
  summary: "Dependency graph resolved against this registry",
  security,
  request: {
    params: PkgParam,
    query: z.object({
      depth: z.coerce.number().int().min(1).max(MAX_DEPTH).optional().openapi({ example: 2 }),
    }),
  },
  responses: ok(S.DependencyGraph, "Nodes and edges; cycles marked"),
});

const recommendationsRoute = createRoute({
  method: "get",
  path: "/agent/{pkg}/recommendations",
  tags: ["agent"],
  operationId: "agentRecommendations",
  summary: "Packages most often depended on together with this one",
  security,
  request: { params: PkgParam },
  responses: ok(S.RecommendationsResponse, "Co-occurring dependencies with counts"),
});

const docsRoute = createRoute({
  method: "get",
  path: "/agent/{pkg}/docs",
  tags: ["agent"],
  operationId: "agentDocs",
  summary: "API documentation (Claude-written or extracted from .d.ts)",
  security,
  request: { params: PkgParam },
  responses: ok(S.DocsResponse, "Documentation and which kind it is"),
});

const latestRoute = createRoute({
  method: "get",
  path: "/agent/{pkg}/latest",
  tags: ["agent"],
  operationId: "agentLatestForNode",
  summary: "Newest version whose engines.node accepts a Node version",
  security,
  request: {
    params: PkgParam,
    query: z.object({ node: z.string().min(1).max(40).openapi({ example: "20.11.1" }) }),
  },
  responses: ok(S.CompatibleVersion, "The version and why it fits"),
});

const previousRoute = createRoute({
  method: "get",
  path: "/agent/{pkg}/previous",
  tags: ["agent"],
  operationId: "agentPreviousVersion",
  summary: "The release before a given version",
  security,
  request: {
    params: PkgParam,
    query: z.object({ version: z.string().min(1).max(100).openapi({ example: "2.0.0" }) }),
  },
  responses: ok(S.PreviousVersion, "The previous release"),
});

agentApi.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
  type: "http",
  scheme: "bearer",
  bearerFormat: "JWT",
});

// Fixed paths first: /agent/search is the search, not a package named "search".
agentApi
  .openapi(searchRoute, async (c) => {
    const { q, limit } = c.req.valid("query");
    return c.json(await searchCapabilities({ ctx: c.get("ctx"), input: { q, limit } }), 200);
  })
  .openapi(compareRoute, async (c) => {
    const names = c.req.valid("query").packages.split(",").map(decodeName);
    return c.json(await comparePackages({ ctx: c.get("ctx"), input: { names } }), 200);
  })
  .openapi(infoRoute, async (c) => {
    const name = c.req.valid("param").pkg;
    return c.json(await getAgentPackage({ ctx: c.get("ctx"), input: { name } }), 200);
  })
  .openapi(depsRoute, async (c) => {
    const name = c.req.valid("param").pkg;
    const { depth } = c.req.valid("query");
    return c.json(await getDependencyGraph({ ctx: c.get("ctx"), input: { name, depth } }), 200);
  })
  .openapi(recommendationsRoute, async (c) => {
    const name = c.req.valid("param").pkg;
    return c.json(await getRecommendations({ ctx: c.get("ctx"), input: { name } }), 200);
  })
  .openapi(docsRoute, async (c) => {
    const name = c.req.valid("param").pkg;
    return c.json(await getPackageDocs({ ctx: c.get("ctx"), input: { name } }), 200);
  })
  .openapi(latestRoute, async (c) => {
    const name = c.req.valid("param").pkg;
    const { node } = c.req.valid("query");
    return c.json(await latestForNode({ ctx: c.get("ctx"), input: { name, node } }), 200);
  })
  .openapi(previousRoute, async (c) => {
    const name = c.req.valid("param").pkg;
    const { version } = c.req.valid("query");
    return c.json(await previousVersion({ ctx: c.get("ctx"), input: { name, version } }), 200);
  });

/** Names in `packages=` may come percent-encoded (`@acme%2Fwidget`) once more. */
function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.trim());
  } catch {
    return raw.trim();
  }
}

/**
 * `/agent/@scope/name[/…]` → `/agent/@scope%2Fname[/…]`: the path the router matches, so both
 * spellings reach the same route.
 */
export function agentRoutingPath(path: string): string {
  if (!path.startsWith("/agent/@")) return path;
  const m = /^\/agent\/(@[^/%]+)\/([^/]+)(\/.*)?$/.exec(path);
  if (!m) return path;
  const [, scope, rest, tail] = m;
  // `/agent/@scope/name` whose second segment is itself a subroute would still be a name here:
  // `@scope` alone is never a package, so the pair always is one.
  return `/agent/${scope}%2F${rest}${tail ?? ""}`;
}
