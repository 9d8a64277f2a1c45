import type { Command } from "commander";
import { type CliContext, CommandScope } from "../context.ts";
import { CliError } from "../errors.ts";
import { isRecord } from "../http/client.ts";
import { examples } from "./help.ts";

export function registerWhoami(program: Command, ctx: CliContext): void {
  program
    .command("whoami")
    .description("Print the user the current token belongs to")
    .addHelpText(
      "after",
      examples([
        "packr-cli whoami",
        "packr-cli whoami --registry https://npm.example.com/ --json",
        "PACKR_TOKEN=… packr-cli whoami",
      ]),
    )
    .action(async (_opts, command: Command) => {
      const scope = new CommandScope(ctx, command);
      const settings = await scope.settings();
      if (!settings.token) throw notLoggedIn(settings.registry);
      const a = await scope.client(settings).request("GET", "/-/whoami");
      const username =
        isRecord(a.json) && typeof a.json.username === "string" ? a.json.username : undefined;
      if (!username) {
        throw new CliError(
          "failure",
          `The registry at ${settings.registry} did not say who you are.`,
        );
      }
      scope.out.result(
        { username, registry: settings.registry, tokenSource: settings.tokenSource },
        () => username,
      );
    });
}

export const notLoggedIn = (registry: string): CliError =>
  new CliError(
    "auth",
    `Not logged in to ${registry}. Run packr-cli login --registry ${registry}, or set PACKR_TOKEN.`,
    { code: "NOT_LOGGED_IN" },
  );
