import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { projectDir } from "../config/npmrc.ts";
import type { CliContext } from "../context.ts";
import { usageError } from "../errors.ts";
import { PERMISSIONS, parsePackage, parsePermission, parseTeam } from "../orgs/names.ts";
import { table } from "../output/output.ts";
import { examples } from "./help.ts";
import { openAdmin } from "./org-scope.ts";

/**
 * `packr-cli access …`: what a team may do with one package of its org's scope, as
 * `npm access grant|revoke` (the package defaults to the one in the current project, as npm's does).
 */
export function registerAccess(program: Command, ctx: CliContext): void {
  const access = program
    .command("access")
    .description("Grant and revoke a team's access to packages of its org (admin API)")
    .addHelpText(
      "after",
      `
read-only lets the team's members install the package (restricted ones too); read-write also lets
them publish it, even as readers of the org. A grant reaches only packages of the org's own scope.
${examples([
  "packr-cli access grant read-write acme:frontend @acme/ui",
  "packr-cli access revoke acme:frontend @acme/ui",
  "packr-cli access ls acme:frontend",
])}`,
    );

  access
    .command("grant <permission> <org:team> [pkg]")
    .description(
      `Give a team ${PERMISSIONS.join(" or ")} on a package (org admins; default: this project's package)`,
    )
    .addHelpText(
      "after",
      examples([
        "packr-cli access grant read-only acme:frontend @acme/ui",
        "packr-cli access grant read-write acme:frontend      # the package in ./package.json",
      ]),
    )
    .action(
      async (
        permissionArg: string,
        ref: string,
        pkgArg: string | undefined,
        _opts,
        command: Command,
      ) => {
        const permission = parsePermission(permissionArg);
        const t = parseTeam(ref);
        const name = pkgArg === undefined ? await projectPackage(ctx.cwd) : parsePackage(pkgArg);
        const { out, call } = await openAdmin(ctx, command);
        const r = await call((c) => c.orgs.teams.packages.grant(t.org, t.team, name, permission));
        out.result(
          r,
          () => `Granted ${r.package.permission} on ${r.package.name} to ${t.org}:${t.team}.`,
        );
      },
    );

  access
    .command("revoke <org:team> [pkg]")
    .description("Take a team's access to a package away (org admins)")
    .addHelpText("after", examples(["packr-cli access revoke acme:frontend @acme/ui"]))
    .action(async (ref: string, pkgArg: string | undefined, _opts, command: Command) => {
      const t = parseTeam(ref);
      const name = pkgArg === undefined ? await projectPackage(ctx.cwd) : parsePackage(pkgArg);
      const { out, call } = await openAdmin(ctx, command);
      const r = await call((c) => c.orgs.teams.packages.revoke(t.org, t.team, name));
      out.result(r, () => `Revoked ${t.org}:${t.team}'s access to ${name}.`);
    });

  access
    .command("list <org:team>")
    .alias("ls")
    .description("The packages a team has access to, and how")
    .addHelpText(
      "after",
      examples(["packr-cli access ls acme:frontend", "packr-cli access ls acme:frontend --json"]),
    )
    .action(async (ref: string, _opts, command: Command) => {
      const t = parseTeam(ref);
      const { out, call } = await openAdmin(ctx, command);
      const r = await call((c) => c.orgs.teams.packages.list(t.org, t.team));
      out.result(r, () =>
        r.packages.length === 0
          ? `Team ${t.org}:${t.team} has access to no packages yet.`
          : table(
              out,
              ["PACKAGE", "PERMISSION"],
              r.packages.map((p) => [p.name, p.permission]),
            ),
      );
    });
}

/** The name in the current project's package.json, for `access grant|revoke` without <pkg>. */
async function projectPackage(cwd: string): Promise<string> {
  const file = path.join(projectDir(cwd), "package.json");
  let name: unknown;
  try {
    name = (JSON.parse(await readFile(file, "utf8")) as { name?: unknown }).name;
  } catch {
    throw usageError(`Name the package (<pkg>): there is no readable package.json at ${file}.`);
  }
  if (typeof name !== "string" || name === "") {
    throw usageError(`Name the package (<pkg>): ${file} has no "name".`);
  }
  return parsePackage(name);
}
