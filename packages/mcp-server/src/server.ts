import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { PackrApiError, type PackrClient, PackrNetworkError } from "@packr/agent";
import { z } from "zod";

const name = z.string().min(1).max(214).describe("npm package name, e.g. auth-kit or @acme/widget");

/**
 * Packr's agent API as MCP tools, one per endpoint. Each answers a short text summary (what a
 * model reads) plus the full JSON as structured content; a registry error (unknown package,
 * missing token, bad input) is a tool error carrying the Packr code and message, never a crash.
 */
export function createPackrMcpServer(client: PackrClient, version = "0.1.0"): McpServer {
  const server = new McpServer({ name: "packr", version });
  const readOnly = { readOnlyHint: true, openWorldHint: false } as const;

  server.registerTool(
    "packr_package_info",
    {
      title: "Package info",
      description:
        "Latest version of a package in the Packr registry: description, quality score (0-100) with its breakdown, downloads, capabilities, dependencies, trust signals (CI, tests, types, size), deprecation and last publish.",
      inputSchema: { name },
      annotations: readOnly,
    },
    async (args) =>
      run(
        () => client.getPackage(args.name),
        (p) => {
          const score = p.quality
            ? `quality ${p.quality.score}/100`
            : p.analysisError
              ? `analysis failed: ${p.analysisError}`
              : `analysis pending (${p.pending.join(", ")}); ask again shortly`;
          const trust = p.trust
            ? `types ${yes(p.trust.hasTypes)}, tests ${yes(p.trust.hasTests)}, CI ${yes(p.trust.hasCI)}, ${p.trust.packageSize} bytes`
            : "trust signals pending";
          return [
            `${p.name}@${p.version}${p.source === "uplink" ? " (proxied from the uplink)" : ""}${p.deprecated ? ` (DEPRECATED: ${p.deprecated})` : ""} — ${p.description ?? "no description"}`,
            `${score}; ${p.downloads.lastWeek} downloads last week; ${trust}`,
            `capabilities: ${p.capabilities.map((c) => c.label).join(", ") || "none recognized"}`,
            `dependencies: ${
              Object.entries(p.dependencies)
                .map(([n, r]) => `${n}@${r}`)
                .join(", ") || "none"
            }`,
            `last published ${p.lastPublish}`,
          ].join("\n");
        },
      ),
  );

  server.registerTool(
    "packr_search",
    {
      title: "Search by capability",
      description:
        "Find packages in the Packr registry that provide a capability (e.g. 'authentication', 'HTTP server', 'date formatting'), ranked by relevance and quality, with the reason each matched.",
      inputSchema: {
        query: z.string().min(1).max(200).describe("capability or keywords"),
        limit: z
          .number()
          .int()
          .min(1)
          .max(50)
          .optional()
          .describe("at most this many results (default 10)"),
      },
      annotations: readOnly,
    },
    async (args) =>
      run(
        () => client.search(args.query, { limit: args.limit }),
        (r) =>
          r.results.length === 0
            ? `No package in this registry matches "${r.query}".`
            : r.results
                .map(
                  (x, i) =>
                    `${i + 1}. ${x.name}@${x.version} (quality ${x.qualityScore}, rank ${x.rank}) — ${x.reasons.join("; ")}`,
                )
                .join("\n"),
      ),
  );

  server.registerTool(
    "packr_compare",
    {
      title: "Compare packages",
      description:
        "Compare 2 to 10 packages side by side (quality, downloads, capabilities, trust signals) and get a recommended pick with the reason.",
      inputSchema: { names: z.array(name).min(2).max(10) },
      annotations: readOnly,
    },
    async (args) =>
      run(
        () => client.compare(args.names),
        (r) =>
          [
            ...r.packages.map(
              (p) =>
                `${p.name}@${p.version}: quality ${p.quality?.score ?? "pending"}, ${p.downloads.lastMonth} downloads/30d${p.deprecated ? ", deprecated" : ""}`,
            ),
            `Recommended: ${r.recommended.name} — ${r.recommended.reason}`,
          ].join("\n"),
      ),
  );

  server.registerTool(
    "packr_dependencies",
    {
      title: "Dependency graph",
      description:
        "Dependency graph of a package's latest version, resolved against the versions this registry holds; depth 1 (direct) to 5 (transitive). Cycles are marked.",
      inputSchema: { name, depth: z.number().int().min(1).max(5).optional() },
      annotations: readOnly,
    },
    async (args) =>
      run(
        () => client.getDependencies(args.name, { depth: args.depth }),
        (g) =>
          [
            `${g.root}: ${g.nodes.length - 1} dependencies to depth ${g.depth}${g.truncated ? " (truncated)" : ""}`,
            ...g.edges.map((e) => `${e.from} -> ${e.to}${e.cycle ? " (cycle)" : ""}`),
          ].join("\n"),
      ),
  );

  server.registerTool(
    "packr_recommendations",
    {
      title: "Used together with",
      description:
        "Packages most often depended on together with this one across the registry's dependents, with counts.",
      inputSchema: { name },
      annotations: readOnly,
    },
    async (args) =>
      run(
        () => client.getRecommendations(args.name),
        (r) =>
          r.recommendations.length === 0
            ? `No dependents of ${r.name} in this registry use other packages with it.`
            : `${r.dependents} dependents of ${r.name}; used with: ${r.recommendations.map((x) => `${x.name} (${x.count})`).join(", ")}`,
      ),
  );

  server.registerTool(
    "packr_docs",
    {
      title: "API documentation",
      description:
        "API documentation of a package's latest version: written by Claude when the registry generates it, otherwise extracted from its .d.ts files. Says which kind it is.",
      inputSchema: { name },
      annotations: readOnly,
    },
    async (args) =>
      run(
        () => client.getDocs(args.name),
        (d) => {
          if (d.status === "pending") return `Docs for ${d.name}@${d.version} are not ready yet.`;
          if (d.kind === "ai" && d.markdown)
            return `${d.name}@${d.version} (docs by ${d.model ?? "AI"})\n\n${d.markdown}`;
          return [
            `${d.name}@${d.version} (extracted from .d.ts)`,
            ...d.entries.map(
              (e) => `${e.signature}${e.doc ? `\n  ${e.doc.replace(/\n/g, "\n  ")}` : ""}`,
            ),
          ].join("\n");
        },
      ),
  );

  server.registerTool(
    "packr_latest_for_node",
    {
      title: "Latest version for a Node version",
      description:
        "The newest stable version of a package whose engines.node accepts a given Node.js version, so you never suggest a version that cannot run.",
      inputSchema: {
        name,
        node: z.string().min(1).max(40).describe("Node.js version, e.g. 20 or 20.11.1"),
      },
      annotations: readOnly,
    },
    async (args) =>
      run(
        () => client.getLatestForNode(args.name, args.node),
        (v) => `${v.name}@${v.version}: ${v.reason}`,
      ),
  );

  server.registerTool(
    "packr_previous_version",
    {
      title: "Previous release",
      description: "The release of a package before a given version (e.g. to roll back).",
      inputSchema: { name, version: z.string().min(1).max(100) },
      annotations: readOnly,
    },
    async (args) =>
      run(
        () => client.getPreviousVersion(args.name, args.version),
        (v) =>
          `Before ${v.name}@${v.version}: ${v.previous.version} (published ${v.previous.publishedAt})`,
      ),
  );

  server.registerTool(
    "packr_downloads",
    {
      title: "Download counts",
      description:
        "Downloads of a package over a period: last-day, last-week, last-month, last-year, YYYY-MM-DD or YYYY-MM-DD:YYYY-MM-DD.",
      inputSchema: { name, period: z.string().min(1).max(40).optional() },
      annotations: readOnly,
    },
    async (args) =>
      run(
        () => client.getDownloads(args.name, args.period),
        (d) => `${d.package}: ${d.downloads} downloads from ${d.start} to ${d.end}`,
      ),
  );

  return server;
}

const yes = (b: boolean) => (b ? "yes" : "no");

async function run<T>(
  call: () => Promise<T>,
  summarize: (value: T) => string,
): Promise<CallToolResult> {
  try {
    const value = await call();
    return {
      content: [{ type: "text", text: summarize(value) }],
      structuredContent: value as Record<string, unknown>,
    };
  } catch (err) {
    const text =
      err instanceof PackrApiError
        ? `Packr error ${err.code} (HTTP ${err.status}): ${err.message}`
        : err instanceof PackrNetworkError
          ? `Packr registry unreachable (${err.code}): ${err.message}`
          : `Unexpected error: ${err instanceof Error ? err.message : String(err)}`;
    return { isError: true, content: [{ type: "text", text }] };
  }
}
