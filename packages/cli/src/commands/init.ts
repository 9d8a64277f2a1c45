import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { projectDir, writeConfigFile } from "../config/npmrc.ts";
import { type CliContext, CommandScope } from "../context.ts";
import { usageError } from "../errors.ts";
import {
  actionsSnippet,
  detectPackageManager,
  projectNpmrc,
  projectYarnrc,
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
Writes @scope:registry and //host/:_authToken=\${PACKR_TOKEN} into the project's .npmrc (the token
itself never goes into the project), the matching npmScopes entry in .yarnrc.yml when the project
uses yarn, and prints a GitHub Actions workflow. Running it again changes nothing.
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
      const workflow = actionsSnippet(pm, npmScope);
      out.result(
        {
          scope: npmScope,
          registry: settings.registry,
          packageManager: pm,
          files: changes,
          githubActions: workflow,
        },
        () => [
          ...changes.map(
            (c) =>
              `${c.status === "unchanged" ? out.c.dim("unchanged") : out.c.green(c.status.padEnd(9))} ${c.path}`,
          ),
          "",
          `${npmScope} now installs from ${settings.registry} with the token in PACKR_TOKEN.`,
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
