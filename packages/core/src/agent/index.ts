export { comparePackages, MAX_COMPARE } from "./compare-packages.ts";
export { latestForNode, previousVersion } from "./compatible-version.ts";
export { getDependencyGraph, MAX_DEPTH } from "./dependency-graph.ts";
export { getAgentPackage } from "./get-agent-package.ts";
export { getPackageDocs } from "./get-docs.ts";
export { getRecommendations } from "./recommendations.ts";
export { searchCapabilities } from "./search-capabilities.ts";
export type * from "./types.ts";
