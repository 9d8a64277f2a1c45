import { Command, CommanderError, Option } from "commander";
import { registerAccess } from "./commands/access.ts";
import { registerAgent } from "./commands/agent.ts";
import { registerAudit } from "./commands/audit.ts";
import { registerBilling } from "./commands/billing.ts";
import { registerInit } from "./commands/init.ts";
import { registerLogin } from "./commands/login.ts";
import { registerLogout } from "./commands/logout.ts";
import { registerOrg } from "./commands/org.ts";
import { registerPublish } from "./commands/publish.ts";
import { registerTeam } from "./commands/team.ts";
import { registerToken } from "./commands/token.ts";
import { registerWebhook } from "./commands/webhook.ts";
import { registerWhoami } from "./commands/whoami.ts";
import type { CliContext } from "./context.ts";
import { CliError, EXIT_CODES } from "./errors.ts";
import { CLI_VERSION } from "./http/client.ts";
import { Output } from "./output/output.ts";

/** The whole program. Settings that subcommands inherit (exit override, output) come first. */
export function createProgram(ctx: CliContext, json: boolean): Command {
  const program = new Command("packr-cli");
  program
    .description(
      "Log in, manage tokens, set up projects, publish, and manage orgs and teams on a Packr registry.",
    )
    .version(CLI_VERSION, "-v, --version")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
      outputError: (s, write) => write(json ? `${JSON.stringify(usageJson(s))}\n` : s),
    })
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError(json ? false : "(add --help for usage)")
    .addOption(new Option("--registry <url>", "registry URL (else PACKR_REGISTRY, else .npmrc)"))
    .addOption(new Option("--token <token>", "token to use (else PACKR_TOKEN, else .npmrc)"))
    .option("--json", "print machine-readable JSON")
    .addHelpText(
      "after",
      `
Registry and token: --registry/--token, else PACKR_REGISTRY/PACKR_TOKEN, else .npmrc (the project's,
then ~/.npmrc). Exit codes: 0 ok, 1 failure, 2 usage, 3 auth, 4 not found, 5 network.

Examples:
  $ packr-cli login --registry https://npm.example.com/
  $ packr-cli init --scope @myorg
  $ packr-cli token create ci --role ci-publish --scope @myorg --expires 90d
  $ packr-cli publish --tag next
  $ packr-cli org create acme && packr-cli org add acme bob --role reader
  $ packr-cli access grant read-write acme:frontend @acme/ui
`,
    );
  registerLogin(program, ctx);
  registerLogout(program, ctx);
  registerWhoami(program, ctx);
  registerToken(program, ctx);
  registerInit(program, ctx);
  registerPublish(program, ctx);
  registerOrg(program, ctx);
  registerWebhook(program, ctx);
  registerTeam(program, ctx);
  registerAccess(program, ctx);
  registerAgent(program, ctx);
  registerBilling(program, ctx);
  registerAudit(program, ctx);
  return program;
}

/**
 * Commander's complaint as the flat JSON error: one sentence in `error`, and its "(Did you mean
 * list?)" line, when it has one, as `suggestions` (the commands or options it guessed), not glued into the text.
 */
export function usageJson(text: string): {
  error: string;
  code: "USAGE";
  status: null;
  exitCode: number;
  suggestions?: string[];
} {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "");
  let suggestions: string[] | undefined;
  const sentences: string[] = [];
  for (const line of lines) {
    const guess = /^\(Did you mean (.+)\?\)$/.exec(line);
    // "(Did you mean list?)", or "(Did you mean one of list, ls?)" when aliases match too.
    if (guess) suggestions = (guess[1] ?? "").replace(/^one of /, "").split(/,\s*/);
    else sentences.push(line.replace(/^error: /, ""));
  }
  let error = sentences.join(" ");
  if (error !== "" && !/[.!?]$/.test(error)) error += ".";
  return {
    error,
    code: "USAGE",
    status: null,
    exitCode: EXIT_CODES.usage,
    ...(suggestions ? { suggestions } : {}),
  };
}

/** Parse and run; resolve with the process exit code. Never throws. */
export async function runProgram(ctx: CliContext, argv: string[]): Promise<number> {
  const json = argv.includes("--json");
  const out = new Output(ctx.stdout, ctx.stderr, ctx.env, json);
  try {
    await createProgram(ctx, json).parseAsync(argv, { from: "user" });
    return EXIT_CODES.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; every other commander complaint is a usage error it printed.
      return err.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
    }
    if (err instanceof CliError) {
      out.error(err);
      return err.exitCode;
    }
    const unexpected = new CliError(
      "failure",
      `packr-cli failed unexpectedly: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      { code: "INTERNAL" },
    );
    out.error(unexpected);
    return unexpected.exitCode;
  }
}
