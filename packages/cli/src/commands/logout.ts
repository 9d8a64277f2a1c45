import type { Command } from "commander";
import { expand, nerfDart, removeLine, writeConfigFile } from "../config/npmrc.ts";
import { type CliContext, CommandScope } from "../context.ts";
import { examples } from "./help.ts";
import { notLoggedIn } from "./whoami.ts";

export function registerLogout(program: Command, ctx: CliContext): void {
  program
    .command("logout")
    .description("Revoke the current token on the registry and remove it from ~/.npmrc")
    .addHelpText(
      "after",
      examples(["packr-cli logout", "packr-cli logout --registry https://npm.example.com/ --json"]),
    )
    .action(async (_opts, command: Command) => {
      const scope = new CommandScope(ctx, command);
      const { out } = scope;
      const settings = await scope.settings();
      const token = settings.token;
      if (!token) throw notLoggedIn(settings.registry);
      // npm logout's request (protocol §4.4); the registry answers 2xx for a token already revoked.
      await scope.client(settings).request("DELETE", `/-/user/token/${encodeURIComponent(token)}`);

      // Remove the stored line only when it holds the token just revoked; another token in
      // ~/.npmrc (one the flag or PACKR_TOKEN overrode) is not ours to drop.
      const key = `${nerfDart(settings.registry)}:_authToken`;
      const userFile = settings.files.find((f) => f.path === settings.userconfig);
      const stored = userFile?.data[key];
      let removed = false;
      if (userFile && typeof stored === "string" && expand(stored, ctx.env.raw).trim() === token) {
        await writeConfigFile(userFile.path, removeLine(userFile.text, key), 0o600);
        removed = true;
      }
      out.result(
        {
          registry: settings.registry,
          revoked: true,
          removedFrom: removed ? userFile?.path : null,
        },
        () => [
          `Logged out of ${settings.registry}: the token is revoked.`,
          removed
            ? `Removed it from ${userFile?.path}.`
            : settings.tokenSource === "npmrc"
              ? `It is still written in ${settings.tokenFrom}; remove that line.`
              : `It came from ${settings.tokenFrom}; remove it there.`,
        ],
      );
    });
}
