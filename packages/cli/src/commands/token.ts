import { type Command, Option } from "commander";
import { z } from "zod";
import { nerfDart } from "../config/npmrc.ts";
import { type CliContext, CommandScope } from "../context.ts";
import { CliError, usageError } from "../errors.ts";
import { TOKEN_REFERENCE } from "../init/project-files.ts";
import { table } from "../output/output.ts";
import { examples } from "./help.ts";
import { notLoggedIn } from "./whoami.ts";

export const ROLES = ["ci-readonly", "ci-publish", "maintainer", "admin"] as const;

const Created = z.object({
  token: z.string().min(1),
  id: z.string(),
  name: z.string(),
  role: z.string(),
  scopes: z.array(z.string()).default([]),
  kind: z.string().optional(),
  expiresAt: z.string().nullable().optional(),
});

const Listed = z.object({
  tokens: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      role: z.string(),
      scopes: z.array(z.string()).default([]),
      kind: z.string().optional(),
      createdAt: z.string().nullable().optional(),
      lastUsedAt: z.string().nullable().optional(),
      expiresAt: z.string().nullable().optional(),
      revokedAt: z.string().nullable().optional(),
    }),
  ),
});

/**
 * `--expires` → the admin API's `expiresIn` duration: `15m`, `2h`, `30d` pass as they are; `12w`,
 * `1y` and a bare number (days, as this flag always took) become days. The registry checks the range.
 */
export function parseExpiry(value: string): string {
  const m = /^(\d+)\s*(ms|s|m|h|d|w|y)?$/i.exec(value.trim());
  const n = m?.[1] ? Number(m[1]) : Number.NaN;
  if (!m || !Number.isSafeInteger(n) || n <= 0) {
    throw usageError(`--expires takes a lifetime such as 15m, 2h, 30d, 12w or 1y, got "${value}".`);
  }
  const unit = (m[2] ?? "d").toLowerCase();
  return unit === "w" ? `${n * 7}d` : unit === "y" ? `${n * 365}d` : `${n}${unit}`;
}

/** `@myorg` or `myorg` → `@myorg`; refuses what cannot be an npm scope. */
export function parseScope(value: string, flag = "--scope"): string {
  const scope = value.startsWith("@") ? value : `@${value}`;
  if (!/^@[a-z0-9][a-z0-9._~-]*$/.test(scope) || scope.length > 214) {
    throw usageError(`${flag} must be an npm scope such as @myorg, got "${value}".`);
  }
  return scope;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerToken(program: Command, ctx: CliContext): void {
  const token = program
    .command("token")
    .description("Create, list and revoke tokens (admin API)")
    .addHelpText(
      "after",
      examples([
        "packr-cli token create ci-publish --role ci-publish --scope @myorg --expires 90d",
        "packr-cli token list",
        "packr-cli token revoke tok_01HZY…",
      ]),
    );

  token
    .command("create <name>")
    .description("Create a token; it is printed once, with the .npmrc line that uses it")
    .addOption(
      new Option("--role <role>", "what the token may do").choices(ROLES).makeOptionMandatory(),
    )
    .option("--scope <scope>", "restrict publishing to a scope (repeatable)", collect, [])
    .option("--expires <duration>", "lifetime, e.g. 15m, 2h, 30d (a bare number is days)")
    .addOption(
      new Option("--kind <kind>", "ci (for machines) or personal").choices(["ci", "personal"]),
    )
    .addHelpText(
      "after",
      examples([
        "packr-cli token create github-actions --role ci-publish --scope @myorg --expires 90d",
        "packr-cli token create deploy-job-42 --role ci-publish --expires 15m",
        "packr-cli token create laptop --role maintainer --kind personal",
        "packr-cli token create readonly --role ci-readonly --json | jq -r .token",
      ]),
    )
    .action(
      async (
        name: string,
        opts: { role: string; scope: string[]; expires?: string; kind?: string },
        command: Command,
      ) => {
        const scope = new CommandScope(ctx, command);
        const { out } = scope;
        if (name.trim() === "" || name.length > 100) {
          throw usageError("The token name must be 1 to 100 characters.");
        }
        const scopes = opts.scope.map((s) => parseScope(s));
        const expiresIn = opts.expires === undefined ? undefined : parseExpiry(opts.expires);
        const settings = await scope.settings();
        if (!settings.token) throw notLoggedIn(settings.registry);
        const a = await scope.client(settings).request("POST", "/api/v1/admin/tokens", {
          body: {
            name,
            role: opts.role,
            ...(scopes.length > 0 ? { scopes } : {}),
            ...(expiresIn === undefined ? {} : { expiresIn }),
            ...(opts.kind ? { kind: opts.kind } : {}),
          },
        });
        const created = Created.safeParse(a.json);
        if (!created.success) {
          throw new CliError(
            "failure",
            "The registry's answer to the token creation has no token.",
          );
        }
        const c = created.data;
        const npmrcLine = `${nerfDart(settings.registry)}:_authToken=${c.token}`;
        out.result({ ...c, registry: settings.registry, npmrcLine }, () => [
          `Created token ${out.c.bold(c.name)} (${c.id}), role ${c.role}${c.scopes.length ? `, scopes ${c.scopes.join(" ")}` : ""}${c.expiresAt ? `, expires ${c.expiresAt}` : ""}.`,
          "",
          "  It is shown only this once:",
          "",
          `  ${c.token}`,
          "",
          `  .npmrc line (or set PACKR_TOKEN and keep ${TOKEN_REFERENCE} in the file):`,
          `  ${npmrcLine}`,
        ]);
      },
    );

  token
    .command("list")
    .alias("ls")
    .description("List your tokens (admins: --all for everyone's)")
    .option("--all", "every user's tokens (admins only)")
    .addHelpText("after", examples(["packr-cli token list", "packr-cli token list --all --json"]))
    .action(async (opts: { all?: boolean }, command: Command) => {
      const scope = new CommandScope(ctx, command);
      const { out } = scope;
      const settings = await scope.settings();
      if (!settings.token) throw notLoggedIn(settings.registry);
      const a = await scope
        .client(settings)
        .request("GET", `/api/v1/admin/tokens${opts.all ? "?all=true" : ""}`);
      const listed = Listed.safeParse(a.json);
      if (!listed.success) {
        throw new CliError("failure", "The registry's token list is not in the expected shape.");
      }
      const tokens = listed.data.tokens;
      out.result({ tokens }, () =>
        tokens.length === 0
          ? "No tokens."
          : table(
              out,
              ["ID", "NAME", "ROLE", "SCOPES", "KIND", "CREATED", "LAST USED", "EXPIRES", "STATUS"],
              tokens.map((t) => [
                t.id,
                t.name,
                t.role,
                t.scopes.join(",") || "-",
                t.kind ?? "-",
                day(t.createdAt),
                day(t.lastUsedAt),
                minute(t.expiresAt),
                t.revokedAt
                  ? out.c.red("revoked")
                  : t.expiresAt && Date.parse(t.expiresAt) < Date.now()
                    ? out.c.yellow("expired")
                    : out.c.green("active"),
              ]),
            ),
      );
    });

  token
    .command("revoke <id>")
    // npm token accepts the same spellings (npm/lib/commands/token.js).
    .aliases(["rm", "delete", "remove"])
    .description("Revoke a token by id; it stops working at once")
    .addHelpText(
      "after",
      examples(["packr-cli token revoke tok_01HZY…", "packr-cli token revoke tok_01HZY… --json"]),
    )
    .action(async (id: string, _opts, command: Command) => {
      const scope = new CommandScope(ctx, command);
      const settings = await scope.settings();
      if (!settings.token) throw notLoggedIn(settings.registry);
      await scope
        .client(settings)
        .request("DELETE", `/api/v1/admin/tokens/${encodeURIComponent(id)}`);
      scope.out.result({ id, revoked: true }, () => `Revoked token ${id}.`);
    });
}

const day = (iso: string | null | undefined): string => (iso ? iso.slice(0, 10) : "-");
/** Expiry to the minute (UTC): a CI token may live minutes. */
const minute = (iso: string | null | undefined): string =>
  iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}Z` : "-";
