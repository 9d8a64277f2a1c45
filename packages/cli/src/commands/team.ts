import type { Command } from "commander";
import type { CliContext } from "../context.ts";
import { usageError } from "../errors.ts";
import { parseOrgOrTeam, parseTeam, parseUser } from "../orgs/names.ts";
import { table } from "../output/output.ts";
import { examples } from "./help.ts";
import { day, openAdmin } from "./org-scope.ts";

/**
 * `packr-cli team …`: teams inside an org, named `org:team` as npm names them. Thin over
 * `@packr/agent`'s `orgs.teams` calls; `--json` prints the API's document.
 */
export function registerTeam(program: Command, ctx: CliContext): void {
  const team = program
    .command("team")
    .description("Create teams in an org and manage their members (admin API)")
    .addHelpText(
      "after",
      `
A team is named org:team (acme:frontend). Its members must be members of the org; what the team
may do with a package of the org's scope is set with packr-cli access grant.
${examples([
  'packr-cli team create acme:frontend --description "Web app"',
  "packr-cli team add acme:frontend bob",
  "packr-cli team ls acme",
  "packr-cli team ls acme:frontend",
])}`,
    );

  team
    .command("create <org:team>")
    .description("Create a team in an org (org admins)")
    .option("--description <text>", "what the team is for")
    .addHelpText(
      "after",
      examples([
        "packr-cli team create acme:frontend",
        'packr-cli team create @acme:platform --description "Build and CI" --json',
      ]),
    )
    .action(async (ref: string, opts: { description?: string }, command: Command) => {
      const t = parseTeam(ref);
      if (opts.description !== undefined && opts.description.trim() === "") {
        throw usageError("--description must not be empty.");
      }
      const { out, call } = await openAdmin(ctx, command);
      const r = await call((c) =>
        c.orgs.teams.create(t.org, {
          name: t.team,
          ...(opts.description === undefined ? {} : { description: opts.description }),
        }),
      );
      out.result(r, () => [
        `Created team ${out.c.bold(`${t.org}:${r.team.name}`)}.`,
        `Add members with: packr-cli team add ${t.org}:${r.team.name} <user>`,
      ]);
    });

  team
    .command("delete <org:team>")
    // npm team spells it destroy (its `rm` takes a user out of a team, as here).
    .alias("destroy")
    .description("Delete a team, its memberships and its package grants (org admins)")
    .addHelpText(
      "after",
      examples([
        "packr-cli team delete acme:frontend",
        "packr-cli team destroy acme:frontend --json",
      ]),
    )
    .action(async (ref: string, _opts, command: Command) => {
      const t = parseTeam(ref);
      const { out, call } = await openAdmin(ctx, command);
      const r = await call((c) => c.orgs.teams.delete(t.org, t.team));
      out.result(r, () => `Deleted team ${t.org}:${t.team}.`);
    });

  team
    .command("list <org|org:team>")
    .alias("ls")
    .description("The teams of an org, or the members of one team")
    .addHelpText(
      "after",
      examples([
        "packr-cli team ls acme",
        "packr-cli team ls acme:frontend",
        "packr-cli team ls @acme --json",
      ]),
    )
    .action(async (ref: string, _opts, command: Command) => {
      const target = parseOrgOrTeam(ref, "<org|org:team>");
      const { out, call } = await openAdmin(ctx, command);
      if ("team" in target) {
        const r = await call((c) => c.orgs.teams.members.list(target.org, target.team));
        out.result(r, () =>
          r.members.length === 0
            ? `Team ${target.org}:${target.team} has no members. Add one with: packr-cli team add ${target.org}:${target.team} <user>`
            : table(
                out,
                ["USER", "ADDED"],
                r.members.map((m) => [m.user, day(m.addedAt)]),
              ),
        );
        return;
      }
      const r = await call((c) => c.orgs.teams.list(target.org));
      out.result(r, () =>
        r.teams.length === 0
          ? `@${target.org} has no teams. Create one with: packr-cli team create ${target.org}:<team>`
          : table(
              out,
              ["TEAM", "MEMBERS", "PACKAGES", "CREATED", "DESCRIPTION"],
              r.teams.map((t) => [
                `${target.org}:${t.name}`,
                String(t.memberCount),
                String(t.packageCount),
                day(t.createdAt),
                t.description ?? "",
              ]),
            ),
      );
    });

  team
    .command("add <org:team> <user>")
    .description("Add a member of the org to a team (org admins)")
    .addHelpText("after", examples(["packr-cli team add acme:frontend bob"]))
    .action(async (ref: string, userArg: string, _opts, command: Command) => {
      const t = parseTeam(ref);
      const user = parseUser(userArg);
      const { out, call } = await openAdmin(ctx, command);
      const r = await call((c) => c.orgs.teams.members.add(t.org, t.team, user));
      out.result(r, () => `Added ${r.member.user} to ${t.org}:${t.team}.`);
    });

  team
    .command("remove <org:team> <user>")
    .alias("rm")
    .description("Take a user out of a team (org admins); they stay in the org")
    .addHelpText("after", examples(["packr-cli team remove acme:frontend bob"]))
    .action(async (ref: string, userArg: string, _opts, command: Command) => {
      const t = parseTeam(ref);
      const user = parseUser(userArg);
      const { out, call } = await openAdmin(ctx, command);
      const r = await call((c) => c.orgs.teams.members.remove(t.org, t.team, user));
      out.result(r, () => `Removed ${user} from ${t.org}:${t.team}.`);
    });
}
