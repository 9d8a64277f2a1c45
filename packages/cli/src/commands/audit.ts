import { createWriteStream } from "node:fs";
import type { AuditChainReport, AuditEvent, AuditFilters, AuditPage } from "@packr/agent";
import type { Command } from "commander";
import type { CliContext } from "../context.ts";
import { CliError, usageError } from "../errors.ts";
import { table } from "../output/output.ts";
import { examples } from "./help.ts";
import { openAdmin } from "./org-scope.ts";

type FilterFlags = {
  actor?: string;
  action?: string;
  package?: string;
  org?: string;
  since?: string;
  until?: string;
};

const withFilters = (cmd: Command): Command =>
  cmd
    .option("--actor <user>", "events by this user")
    .option("--action <action>", "an action, or a prefix ending in . (package.)")
    .option("--package <name>", "events about this package")
    .option("--org <org>", "the org's events (its admins)")
    .option("--since <iso>", "at or after this time (ISO 8601)")
    .option("--until <iso>", "before this time (ISO 8601)");

function filtersOf(opts: FilterFlags): AuditFilters {
  const f: AuditFilters = {};
  for (const key of ["actor", "action", "package", "org", "since", "until"] as const) {
    const v = opts[key];
    if (v !== undefined) f[key] = key === "org" ? v.replace(/^@/, "") : v;
  }
  return f;
}

/** What the event was about, for a person: the package name, else the target. */
const about = (e: AuditEvent): string =>
  typeof e.data.name === "string"
    ? `${e.data.name}${typeof e.data.version === "string" ? `@${e.data.version}` : ""}`
    : e.target
      ? `${e.target.type} ${e.target.id ?? ""}`.trim()
      : "-";

const actorOf = (e: AuditEvent): string => {
  const who =
    e.actor.name ?? (typeof e.data.name === "string" ? `(${e.data.name}?)` : e.actor.type);
  return typeof e.data.tokenName === "string" ? `${who} [${e.data.tokenName}]` : who;
};

/** The sentence `audit verify` ends with when a chain is broken. */
export function brokenSentence(r: AuditChainReport): string {
  const b = r.broken;
  if (!b) return `The ${r.chain} audit chain is intact.`;
  const what =
    b.problem === "hash"
      ? `its content no longer matches its hash (recomputed ${b.expected}, stored ${b.found}): it was changed`
      : b.problem === "prev_hash"
        ? `it does not point at the event before it (expected prev_hash ${b.expected}, found ${b.found})`
        : `its sequence number is ${b.found} where ${b.expected} was expected: an event before it was removed or inserted`;
  return `The ${r.chain} audit chain is broken at event ${b.eventId} (#${b.chainSeq ?? "?"}): ${what}.`;
}

/**
 * `packr-cli audit …`: the audit log through the admin API (`@packr/agent`'s `audit` calls):
 * list with filters (following the cursor with --all), export NDJSON, verify the hash chain.
 */
export function registerAudit(program: Command, ctx: CliContext): void {
  const audit = program
    .command("audit")
    .description("Read, export and verify the audit log (admin API)")
    .addHelpText(
      "after",
      `
You see your own actions and the events of packages you maintain; an org's admins see the org's
events (--org); platform admins see everything.
${examples([
  "packr-cli audit ls --package @acme/widget --action package.publish",
  "packr-cli audit ls --org acme --since 2026-01-01 --all --json",
  "packr-cli audit export --org acme --output acme-audit.ndjson",
  "packr-cli audit verify --org acme",
])}`,
    );

  withFilters(audit.command("ls").alias("list").description("Audit events, newest first"))
    .option("--limit <n>", "events per page (1–500, default 100)")
    .option("--cursor <cursor>", "continue after a page (its nextCursor)")
    .option("--all", "follow the cursor to the last page")
    .action(
      async (
        opts: FilterFlags & { limit?: string; cursor?: string; all?: boolean },
        command: Command,
      ) => {
        const limit = opts.limit === undefined ? undefined : Number(opts.limit);
        if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 500)) {
          throw usageError("--limit must be a whole number from 1 to 500.");
        }
        const { out, call } = await openAdmin(ctx, command);
        const filters = filtersOf(opts);
        const events: AuditEvent[] = [];
        let cursor = opts.cursor;
        let page: AuditPage;
        do {
          page = await call((c) =>
            c.audit.list({
              ...filters,
              ...(limit === undefined ? {} : { limit }),
              ...(cursor === undefined ? {} : { cursor }),
            }),
          );
          events.push(...page.events);
          cursor = page.nextCursor ?? undefined;
        } while (opts.all && page.nextCursor);
        const result: AuditPage = { events, nextCursor: page.nextCursor };
        out.result(result, () => {
          if (events.length === 0) return "No audit events match.";
          const lines = table(
            out,
            ["TIME", "ACTION", "ACTOR", "ABOUT", "FROM"],
            events.map((e) => [
              e.createdAt.replace("T", " ").slice(0, 19),
              e.action,
              actorOf(e),
              about(e),
              e.ip ?? "-",
            ]),
          );
          if (page.nextCursor) {
            lines.push(
              out.c.dim(
                `More: packr-cli audit ls --cursor ${page.nextCursor} (or --all for every page)`,
              ),
            );
          }
          return lines;
        });
      },
    );

  withFilters(
    audit.command("export").description("Every matching event as NDJSON (one JSON event per line)"),
  )
    .option("--output <file>", "write to this file instead of standard output")
    .action(async (opts: FilterFlags & { output?: string }, command: Command) => {
      const { out, call } = await openAdmin(ctx, command);
      const filters = filtersOf(opts);
      const file = opts.output ? createWriteStream(opts.output) : undefined;
      const write = async (s: string) => {
        if (!file) {
          out.stdout.write(s);
          return;
        }
        if (!file.write(s)) await new Promise<void>((r) => file.once("drain", () => r()));
      };
      let count = 0;
      try {
        await call(async (c) => {
          for await (const e of c.audit.export(filters)) {
            await write(`${JSON.stringify(e)}\n`);
            count++;
          }
        });
      } finally {
        if (file) await new Promise<void>((r) => file.end(() => r()));
      }
      if (opts.output) {
        out.info(`Wrote ${count} audit event${count === 1 ? "" : "s"} to ${opts.output}.`);
      }
    });

  audit
    .command("verify")
    .description("Recompute the audit log's hash chain and name the first broken link")
    .option("--org <org>", "the org's chain (its admins); without it every chain (platform admins)")
    .action(async (opts: { org?: string }, command: Command) => {
      const { out, call } = await openAdmin(ctx, command);
      const report = await call((c) =>
        c.audit.verify(opts.org === undefined ? {} : { org: opts.org.replace(/^@/, "") }),
      );
      const broken = report.chains.find((r) => !r.ok);
      out.result(report, () =>
        report.chains.map(
          (r) =>
            `${r.ok ? out.c.green("ok") : out.c.red("BROKEN")}  ${r.chain}: ${r.checked} event${r.checked === 1 ? "" : "s"} checked${r.unchained > 0 ? `, ${r.unchained} not chained yet` : ""}`,
        ),
      );
      if (broken)
        throw new CliError("failure", brokenSentence(broken), { code: "AUDIT_CHAIN_BROKEN" });
    });
}
