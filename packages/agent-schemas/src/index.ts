import { z } from "zod";

/**
 * The agent API's response shapes. The registry describes its routes with these (OpenAPI at
 * /openapi.json) and checks its handlers against them; this client's types are inferred from
 * them, so server and client cannot drift apart silently.
 */

export const TermSource = z.enum(["name", "keywords", "description", "readme"]);

export const ScoreFactor = z.object({
  factor: z.enum(["base", "types", "tests", "ci", "readme", "maturity", "freshness"]),
  points: z.number().int(),
  max: z.number().int(),
  reason: z.string(),
});

export const Capability = z.object({
  id: z.string(),
  label: z.string(),
  matchedIn: z.array(z.object({ source: TermSource, triggers: z.array(z.string()) })),
});

const StringMap = z.record(z.string(), z.string());

export const AgentPackage = z.object({
  name: z.string(),
  version: z.string(),
  source: z.enum(["local", "uplink"]),
  description: z.string().nullable(),
  license: z.string().nullable(),
  access: z.enum(["public", "restricted"]),
  analysis: z.enum(["complete", "pending"]),
  pending: z.array(z.string()),
  analysisError: z.string().nullable(),
  quality: z
    .object({ score: z.number().int().min(0).max(100), breakdown: z.array(ScoreFactor) })
    .nullable(),
  downloads: z.object({ lastWeek: z.number().int(), lastMonth: z.number().int() }),
  capabilities: z.array(Capability),
  dependencies: StringMap,
  peerDependencies: StringMap,
  trust: z
    .object({
      hasCI: z.boolean(),
      hasTests: z.boolean(),
      hasTypes: z.boolean(),
      packageSize: z.number().int(),
    })
    .nullable(),
  deprecated: z.string().nullable(),
  lastPublish: z.string(),
  engines: StringMap,
  versionCount: z.number().int(),
  distTags: StringMap,
});

export const SearchResult = z.object({
  name: z.string(),
  version: z.string(),
  description: z.string().nullable(),
  relevance: z.number(),
  qualityScore: z.number().int(),
  rank: z.number(),
  reasons: z.array(z.string()),
  capabilities: z.array(z.string()),
  deprecated: z.string().nullable(),
});

export const SearchResponse = z.object({
  query: z.string(),
  recognizedCapabilities: z.array(z.object({ id: z.string(), label: z.string() })),
  results: z.array(SearchResult),
});

export const CompareResponse = z.object({
  packages: z.array(AgentPackage),
  recommended: z.object({ name: z.string(), reason: z.string() }),
});

export const DependencyNode = z.object({
  id: z.string(),
  name: z.string(),
  version: z.string().nullable(),
  depth: z.number().int(),
  inRegistry: z.boolean(),
  deprecated: z.string().nullable(),
  unresolved: z.string().nullable(),
});

export const DependencyGraph = z.object({
  root: z.string(),
  depth: z.number().int(),
  nodes: z.array(DependencyNode),
  edges: z.array(
    z.object({
      from: z.string(),
      to: z.string(),
      range: z.string(),
      kind: z.enum(["dependency", "peer", "optional"]),
      cycle: z.boolean(),
    }),
  ),
  truncated: z.boolean(),
});

export const RecommendationsResponse = z.object({
  name: z.string(),
  dependents: z.number().int(),
  recommendations: z.array(
    z.object({ name: z.string(), count: z.number().int(), inRegistry: z.boolean() }),
  ),
});

export const DocEntry = z.object({
  kind: z.enum(["function", "class", "interface", "type", "enum", "variable", "namespace"]),
  name: z.string(),
  signature: z.string(),
  doc: z.string().nullable(),
  file: z.string(),
  members: z
    .array(z.object({ name: z.string(), signature: z.string(), doc: z.string().nullable() }))
    .optional(),
});

export const DocsResponse = z.object({
  name: z.string(),
  version: z.string(),
  kind: z.enum(["ai", "typed", "none"]),
  status: z.enum(["ready", "pending"]),
  model: z.string().nullable(),
  updatedAt: z.string().nullable(),
  markdown: z.string().nullable(),
  entries: z.array(DocEntry),
});

export const CompatibleVersion = z.object({
  name: z.string(),
  version: z.string(),
  node: z.string(),
  enginesNode: z.string().nullable(),
  publishedAt: z.string().nullable(),
  reason: z.string(),
});

export const PreviousVersion = z.object({
  name: z.string(),
  version: z.string(),
  previous: z.object({
    version: z.string(),
    publishedAt: z.string().nullable(),
    deprecated: z.string().nullable(),
  }),
});

export const DownloadPoint = z.object({
  downloads: z.number().int(),
  start: z.string(),
  end: z.string(),
  package: z.string(),
});

/** The flat error body of every Packr route. */
export const ErrorBody = z
  .object({
    error: z.string(),
    code: z.string(),
    message: z.string(),
    status: z.number().int(),
    requestId: z.string(),
  })
  .loose();

export type AgentPackage = z.infer<typeof AgentPackage>;
export type ScoreFactor = z.infer<typeof ScoreFactor>;
export type Capability = z.infer<typeof Capability>;
export type SearchResult = z.infer<typeof SearchResult>;
export type SearchResponse = z.infer<typeof SearchResponse>;
export type CompareResponse = z.infer<typeof CompareResponse>;
export type DependencyNode = z.infer<typeof DependencyNode>;
export type DependencyGraph = z.infer<typeof DependencyGraph>;
export type RecommendationsResponse = z.infer<typeof RecommendationsResponse>;
export type DocEntry = z.infer<typeof DocEntry>;
export type DocsResponse = z.infer<typeof DocsResponse>;
export type CompatibleVersion = z.infer<typeof CompatibleVersion>;
export type PreviousVersion = z.infer<typeof PreviousVersion>;
export type DownloadPoint = z.infer<typeof DownloadPoint>;
export type ErrorBody = z.infer<typeof ErrorBody>;

/** The audit log API (list, export, verify). */
export * from "./audit.ts";
/** The organization admin API (orgs, members, teams, package grants). */
export * from "./orgs.ts";

/** The webhook admin API (hooks, test pings, deliveries, redelivery). */
export * from "./webhooks.ts";
