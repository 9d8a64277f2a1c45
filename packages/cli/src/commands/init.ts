import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { nerfDart, projectDir, readNpmrc, writeConfigFile } from "../config/npmrc.ts";
import { type CliContext, CommandScope } from "../context.ts";
import { usageError } from "../errors.ts";
import {
  actionsSnippet,
  detectPackageManager,
  projectNpmrc,
  projectYarnrc,
  userAuthLine,
} from "../init/project-files.ts";
import { examples } from "./help.ts";
import { parseScope } from "./token.ts";

type FileChange = { path: string; status: "created" | "updated" | "unchanged" };

export function registerInit(program: Command, ctx: CliContext): void {
  program
    .command("init")
    .description(
      "Point a project's scope at this registry: .npmrc (and .yarnrc.yml for yarn), plus a CI snippet",
    )
    .requiredOption("--scope <scope>", "the npm scope your packages live under, e.g. @myorg")
    .addHelpText(
      "after",
      `
Writes @scope:registry into the project's .npmrc (no credentials: the file is committed), the
matching npmScopes entry with \${PACKR_TOKEN:-} in .yarnrc.yml when the project uses yarn, and
prints a GitHub Actions workflow. npm and pnpm take the token from the user config (~/.npmrc):
packr-cli login writes it there, and CI adds //host/:_authToken=\${PACKR_TOKEN} to it (the
workflow shows the step); pnpm ignores \${VAR} credentials in a project .npmrc. Running init again
changes nothing.
${examples([
  "packr-cli init --scope @myorg --registry https://npm.example.com/",
  "packr-cli init --scope @myorg --json",
])}`,
    )
    .action(async (opts: { scope: string }, command: Command) => {
      const scope = new CommandScope(ctx, command);
      const { out } = scope;
      const npmScope = parseScope(opts.scope);
      const settings = await scope.settings({ scope: npmScope });
      const dir = projectDir(ctx.cwd);
      const pm = await detectPackageManager(dir);

      const changes: FileChange[] = [];
      changes.push(
        await edit(path.join(dir, ".npmrc"), (t) => projectNpmrc(t, npmScope, settings.registry)),
      );
      if (pm === "yarn") {
        changes.push(
          await edit(path.join(dir, ".yarnrc.yml"), (t) => {
            try {
              return projectYarnrc(t, npmScope, settings.registry);
            } catch (err) {
              throw usageError(`${path.join(dir, ".yarnrc.yml")}: ${(err as Error).message}`);
            }
          }),
        );
      }
      const workflow = actionsSnippet(pm, npmScope, settings.registry);
      // npm and pnpm need the credential in the user config; say whether it is there already.
      const user = await readNpmrc(settings.userconfig);
      const hasToken = typeof user.data[`${nerfDart(settings.registry)}:_authToken`] === "string";
      const userConfig = {
        path: settings.userconfig,
        line: userAuthLine(settings.registry),
        hasToken,
      };
      out.result(
        {
          scope: npmScope,
          registry: settings.registry,
          packageManager: pm,
          files: changes,
          userConfig,
          githubActions: workflow,
        },
        () => [
          ...changes.map(
            (c) =>
              `${c.status === "unchanged" ? out.c.dim("unchanged") : out.c.green(c.status.padEnd(9))} ${c.path}`,
          ),
          "",
          `${npmScope} now installs from ${settings.registry}.`,
          ...(pm === "yarn" ? ["yarn sends the token in PACKR_TOKEN (.yarnrc.yml)."] : []),
          hasToken
            ? `npm and pnpm send the token for it from ${userConfig.path}.`
            : `npm and pnpm read its token from your user config, never from the project's .npmrc. Run packr-cli login, or add this line to ${userConfig.path} (CI: the workflow below does) and set PACKR_TOKEN:\n  ${userConfig.line}`,
          "",
          "GitHub Actions:",
          "",
          workflow,
        ],
      );
    });
}

async function edit(file: string, change: (text: string) => string): Promise<FileChange> {
  let before: string | undefined;
  try {
    before = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const after = change(before ?? "");
  if (after === before) return { path: file, status: "unchanged" };
  await writeConfigFile(file, after);
  return { path: file, status: before === undefined ? "created" : "updated" };
}
