import type { TermSource } from "../analysis/capabilities.ts";
import type { ScoreFactor } from "../analysis/quality-score.ts";
import type { DocEntry } from "../docs/extract-dts.ts";

/** What the agent API answers. The zod schemas in @packr/agent mirror these; the routes check both agree. */
export type AgentCapability = {
  id: string;
  label: string;
  matchedIn: { source: TermSource; triggers: string[] }[];
};

export type AgentPackage = {
  name: string;
  version: string;
  /** `local`: published to this registry; `uplink`: proxied from its uplink (public). */
  source: "local" | "uplink";
  description: string | null;
  license: string | null;
  access: "public" | "restricted";
  /** `pending` until the analysis job has run for this version. */
  analysis: "complete" | "pending";
  /** The fields still waiting on the analysis job (`quality`, `capabilities`, `trust`); [] when complete. */
  pending: string[];
  /** Why the analysis of a proxied version failed for good (it left the uplink, …); else null. */
  analysisError: string | null;
  quality: { score: number; breakdown: ScoreFactor[] } | null;
  downloads: { lastWeek: number; lastMonth: number };
  capabilities: AgentCapability[];
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  trust: { hasCI: boolean; hasTests: boolean; hasTypes: boolean; packageSize: number } | null;
  deprecated: string | null;
  lastPublish: string;
  engines: Record<string, string>;
  versionCount: number;
  distTags: Record<string, string>;
};

export type SearchResult = {
  name: string;
  version: string;
  description: string | null;
  relevance: number;
  qualityScore: number;
  rank: number;
  reasons: string[];
  capabilities: string[];
  deprecated: string | null;
};

export type SearchResponse = {
  query: string;
  recognizedCapabilities: { id: string; label: string }[];
  results: SearchResult[];
};

export type CompareResponse = {
  packages: AgentPackage[];
  recommended: { name: string; reason: string };
};

export type DependencyNode = {
  id: string;
  name: string;
  version: string | null;
  depth: number;
  inRegistry: boolean;
  deprecated: string | null;
  /** Why a node was not resolved (not in this registry, no version satisfies, not a semver range). */
  unresolved: string | null;
};

export type DependencyGraph = {
  root: string;
  depth: number;
  nodes: DependencyNode[];
  edges: {
    from: string;
    to: string;
    range: string;
    kind: "dependency" | "peer" | "optional";
    cycle: boolean;
  }[];
  truncated: boolean;
};

export type RecommendationsResponse = {
  name: string;
  dependents: number;
  recommendations: { name: string; count: number; inRegistry: boolean }[];
};

export type DocsResponse = {
  name: string;
  version: string;
  kind: "ai" | "typed" | "none";
  status: "ready" | "pending";
  model: string | null;
  updatedAt: string | null;
  markdown: string | null;
  entries: DocEntry[];
};

export type CompatibleVersion = {
  name: string;
  version: string;
  node: string;
  enginesNode: string | null;
  /** Null only for a proxied version whose uplink document has no `time` entry for it. */
  publishedAt: string | null;
  reason: string;
};

export type PreviousVersion = {
  name: string;
  version: string;
  previous: { version: string; publishedAt: string | null; deprecated: string | null };
};
