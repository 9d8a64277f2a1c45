import type { PackrClient } from "@packr/agent";
import type { Command } from "commander";
import { type CliContext, CommandScope } from "../context.ts";
import { usageError } from "../errors.ts";
import { fromSdkError, sdkClient } from "../http/sdk.ts";
import type { Output } from "../output/output.ts";
import { table } from "../output/output.ts";
import { withProgress } from "../output/progress.ts";
import { examples } from "./help.ts";

/**
 * `packr-cli agent …`: the agent API through @packr/agent, for a person or a script (`--json`
 * prints the API's own document). Thin: parse flags → one SDK call → print.
 */
export function registerAgent(program: Command, ctx: CliContext): void {
  const agent = program
    .command("agent")
    .description("Ask the registry which package to use, and how (agent API)")
    .addHelpText(
      "after",
      examples([
        'packr-cli agent search "date formatting"',
        "packr-cli agent info @myorg/http --json",
        "packr-cli agent compare dayjs date-fns luxon",
        "packr-cli agent latest @myorg/http --node 18.19.0",
      ]),
    );

  agent
    .command("info <pkg>")
    .description("Latest version: quality score, downloads, capabilities, trust signals")
    .addHelpText(
      "after",
      examples(["packr-cli agent info @myorg/http", "packr-cli agent info left-pad --json"]),
    )
    .action(async (name: string, _opts, command: Command) => {
      const { out, client } = await open(ctx, command);
      const p = await call(out, `Asking about ${name}…`, () => client.getPackage(name));
      const proxied = p.source === "uplink";
      out.result(p, () => [
        `${out.c.bold(`${p.name}@${p.version}`)}${proxied ? out.c.dim("  (proxied from the uplink)") : ""}${p.deprecated ? `  ${out.c.red(`deprecated: ${p.deprecated}`)}` : ""}`,
        ...(p.description ? [p.description] : []),
        "",
        `quality      ${p.quality ? `${p.quality.score}/100` : analysisNote(p)}`,
        ...(p.quality?.breakdown ?? []).map(
          (f) =>
            `  ${f.factor.padEnd(10)} ${`${f.points}/${f.max}`.padEnd(6)} ${out.c.dim(f.reason)}`,
        ),
        proxied
          ? "downloads    - (counted for this registry's own packages only)"
          : `downloads    ${p.downloads.lastWeek} last week, ${p.downloads.lastMonth} last month`,
        `dist-tags    ${
          Object.entries(p.distTags)
            .map(([tag, v]) => `${tag} ${v}`)
            .join(", ") || "-"
        }`,
        `capabilities ${p.capabilities.map((c) => c.label).join(", ") || "-"}`,
        `dependencies ${Object.keys(p.dependencies).length} (${Object.keys(p.peerDependencies).length} peer)`,
        `license      ${p.license ?? "-"}   access ${p.access}   versions ${p.versionCount}`,
        `published    ${p.lastPublish}${p.engines.node ? `   engines.node ${p.engines.node}` : ""}`,
        ...(p.trust
          ? [
              `trust        types ${yes(p.trust.hasTypes)}, tests ${yes(p.trust.hasTests)}, CI ${yes(p.trust.hasCI)}, ${p.trust.packageSize} B`,
            ]
          : []),
      ]);
    });

  agent
    .command("search <query...>")
    .description(
      "Packages for a capability, ranked by relevance and quality, with why each matched",
    )
    .option("--limit <n>", "at most this many results (1–50)", parseCount(50))
    .addHelpText(
      "after",
      examples([
        'packr-cli agent search "parse yaml"',
        "packr-cli agent search retry http --limit 5 --json",
      ]),
    )
    .action(async (words: string[], opts: { limit?: number }, command: Command) => {
      const { out, client } = await open(ctx, command);
      const query = words.join(" ");
      const r = await call(out, `Searching for "${query}"…`, () =>
        client.search(query, opts.limit === undefined ? {} : { limit: opts.limit }),
      );
      out.result(r, () =>
        r.results.length === 0
          ? `Nothing matches "${query}".`
          : table(
              out,
              ["NAME", "VERSION", "QUALITY", "WHY"],
              r.results.map((x) => [
                x.name,
                x.version,
                String(x.qualityScore),
                x.reasons.join("; "),
              ]),
            ),
      );
    });

  agent
    .command("compare <pkgs...>")
    .description("Two or more packages side by side, with a recommended pick and the reason")
    .addHelpText(
      "after",
      examples([
        "packr-cli agent compare dayjs date-fns",
        "packr-cli agent compare @myorg/a @myorg/b --json",
      ]),
    )
    .action(async (names: string[], _opts, command: Command) => {
      if (names.length < 2) throw usageError("compare needs at least two packages.");
      const { out, client } = await open(ctx, command);
      const r = await call(out, `Comparing ${names.join(", ")}…`, () => client.compare(names));
      out.result(r, () => [
        ...table(
          out,
          ["NAME", "VERSION", "QUALITY", "WEEKLY DOWNLOADS", "DEPS", "LICENSE"],
          r.packages.map((p) => [
            p.name,
            p.version,
            p.quality ? String(p.quality.score) : "-",
            String(p.downloads.lastWeek),
            String(Object.keys(p.dependencies).length),
            p.license ?? "-",
          ]),
        ),
        "",
        `Recommended: ${out.c.bold(r.recommended.name)} (${r.recommended.reason})`,
      ]);
    });

  agent
    .command("deps <pkg>")
    .description("Dependencies, direct or transitive to --depth, resolved against the registry")
    .option("--depth <n>", "levels to follow (1–5, default 1)", parseCount(5))
    .addHelpText(
      "after",
      examples([
        "packr-cli agent deps @myorg/http",
        "packr-cli agent deps @myorg/http --depth 3 --json",
      ]),
    )
    .action(async (name: string, opts: { depth?: number }, command: Command) => {
      const { out, client } = await open(ctx, command);
      const g = await call(out, `Resolving the dependencies of ${name}…`, () =>
        client.getDependencies(name, opts.depth === undefined ? {} : { depth: opts.depth }),
      );
      out.result(g, () => [
        ...g.nodes.map((n) => {
          const notes = [
            n.inRegistry ? "" : "not in this registry",
            n.deprecated ? `deprecated: ${n.deprecated}` : "",
            n.unresolved ? `unresolved: ${n.unresolved}` : "",
          ].filter(Boolean);
          return `${"  ".repeat(n.depth)}${n.name}@${n.version ?? "?"}${notes.length ? out.c.dim(`  (${notes.join("; ")})`) : ""}`;
        }),
        ...(g.truncated ? [out.c.dim("(truncated)")] : []),
      ]);
    });

  agent
    .command("recommendations <pkg>")
    .description("Packages most often depended on together with this one")
    .addHelpText(
      "after",
      examples([
        "packr-cli agent recommendations react",
        "packr-cli agent recommendations @myorg/http --json",
      ]),
    )
    .action(async (name: string, _opts, command: Command) => {
      const { out, client } = await open(ctx, command);
      const r = await call(out, `Looking at what goes with ${name}…`, () =>
        client.getRecommendations(name),
      );
      out.result(r, () =>
        r.recommendations.length === 0
          ? `No package here depends on ${name} together with others yet.`
          : [
              `Used together with ${r.name} by its ${r.dependents} dependents:`,
              ...table(
                out,
                ["NAME", "TOGETHER", "IN REGISTRY"],
                r.recommendations.map((x) => [x.name, String(x.count), yes(x.inRegistry)]),
              ),
            ],
      );
    });

  agent
    .command("docs <pkg>")
    .description("API documentation: AI-written, or extracted from the package's .d.ts")
    .addHelpText(
      "after",
      examples(["packr-cli agent docs @myorg/http", "packr-cli agent docs @myorg/http --json"]),
    )
    .action(async (name: string, _opts, command: Command) => {
      const { out, client } = await open(ctx, command);
      const d = await call(out, `Fetching the docs of ${name}…`, () => client.getDocs(name));
      out.result(d, () => {
        if (d.kind === "none" || (d.markdown === null && d.entries.length === 0)) {
          return `No documentation for ${d.name}@${d.version} yet (${d.status}).`;
        }
        if (d.markdown) return d.markdown.trimEnd();
        return [
          `${d.name}@${d.version} (from its type declarations)`,
          ...d.entries.flatMap((e) => [
            "",
            `${out.c.bold(e.signature)}`,
            ...(e.doc ? [`  ${e.doc}`] : []),
          ]),
        ];
      });
    });

  agent
    .command("latest <pkg>")
    .description("The newest version whose engines.node accepts a Node version")
    .option("--node <version>", "the Node version (default: the one running packr-cli)")
    .addHelpText(
      "after",
      examples([
        "packr-cli agent latest @myorg/http --node 18.19.0",
        "packr-cli agent latest @myorg/http --json",
      ]),
    )
    .action(async (name: string, opts: { node?: string }, command: Command) => {
      const { out, client } = await open(ctx, command);
      const node = opts.node ?? process.versions.node;
      const v = await call(out, `Finding ${name} for Node ${node}…`, () =>
        client.getLatestForNode(name, node),
      );
      out.result(v, () => [`${v.name}@${v.version}`, out.c.dim(v.reason)]);
    });
}

async function open(
  ctx: CliContext,
  command: Command,
): Promise<{ out: Output; client: PackrClient }> {
  const scope = new CommandScope(ctx, command);
  const settings = await scope.settings();
  return { out: scope.out, client: sdkClient(settings) };
}

/** One SDK call with a progress line, its errors mapped onto the CLI's kinds and exit codes. */
async function call<T>(out: Output, label: string, work: () => Promise<T>): Promise<T> {
  try {
    return await withProgress(out, label, work);
  } catch (err) {
    throw fromSdkError(err);
  }
}

const parseCount =
  (max: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      throw usageError(`Expected a whole number from 1 to ${max}, got "${value}".`);
    }
    return n;
  };

/** Why there is no score: the analysis is still to run (and what it will fill in), or it failed. */
function analysisNote(p: { pending: string[]; analysisError: string | null }): string {
  if (p.analysisError) return `(analysis failed: ${p.analysisError})`;
  return `(analysis pending: ${p.pending.join(", ") || "-"}; ask again shortly)`;
}

const yes = (b: boolean): string => (b ? "yes" : "no");
