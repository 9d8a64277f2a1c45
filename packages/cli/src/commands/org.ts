import type { Command } from "commander";
import type { CliContext } from "../context.ts";
import { usageError } from "../errors.ts";
import { parseOrg, parseOrgRole, parseUser } from "../orgs/names.ts";
import { table } from "../output/output.ts";
import { examples } from "./help.ts";
import { day, openAdmin } from "./org-scope.ts";

/** Role `org add` gives without --role: npm's `org set` default (developer), i.e. maintainer. */
export const DEFAULT_MEMBER_ROLE = "maintainer";

/**
 * `packr-cli org …`: organizations and their members through the admin API (`@packr/agent`'s
 * `orgs` calls). Thin: parse the arguments → one or two SDK calls → print the API's document
 * (`--json`) or a table.
 */
export function registerOrg(program: Command, ctx: CliContext): void {
  const org = program
    .command("org")
    .description("Create organizations and manage their members (admin API)")
    .addHelpText(
      "after",
      `
An org's name is an npm scope (@acme or acme): the org acme owns @acme/*. Roles: reader (installs
and views every package of the scope), maintainer (also publishes), admin (also manages members,
teams and access). npm's names work too: developer = maintainer, owner = admin.
${examples([
  'packr-cli org create acme --display-name "Acme Inc."',
  "packr-cli org add acme bob --role reader",
  "packr-cli org members @acme",
  "packr-cli org role acme bob admin",
])}`,
    );

  org
    .command("create <org>")
    .description("Create an organization; you become its first admin")
    .option("--display-name <name>", "a longer name shown in the dashboard")
    .addHelpText(
      "after",
      examples([
        "packr-cli org create acme",
        'packr-cli org create @acme --display-name "Acme Inc." --json',
      ]),
    )
    .action(async (name: string, opts: { displayName?: string }, command: Command) => {
      const slug = parseOrg(name);
      if (opts.displayName !== undefined && opts.displayName.trim() === "") {
        throw usageError("--display-name must not be empty.");
      }
      const { out, call } = await openAdmin(ctx, command);
      const r = await call((c) =>
        c.orgs.create({
          name: slug,
          ...(opts.displayName === undefined ? {} : { displayName: opts.displayName }),
        }),
      );
      out.result(r, () => [
        `Created org ${out.c.bold(`@${r.org.name}`)}${r.org.displayName ? ` (${r.org.displayName})` : ""}; you are its ${r.org.role ?? "admin"}.`,
        `Packages named @${r.org.name}/… now belong to it. Add people with: packr-cli org add ${r.org.name} <user> --role reader|maintainer|admin`,
      ]);
    });

  org
    .command("list")
    .alias("ls")
    .description("The orgs you belong to, with your role (platform admins: --all for every org)")
    .option("--all", "every org of the registry (platform admins)")
    .addHelpText("after", examples(["packr-cli org ls", "packr-cli org ls --all --json"]))
    .action(async (opts: { all?: boolean }, command: Command) => {
      const { out, call } = await openAdmin(ctx, command);
      const r = await call((c) => (opts.all ? c.orgs.list() : c.orgs.mine()));
      out.result(r, () =>
        r.orgs.length === 0
          ? opts.all
            ? "No orgs yet."
            : "You are not a member of any org. Create one with: packr-cli org create <name>"
          : table(
              out,
              ["ORG", "DISPLAY NAME", "YOUR ROLE", "CREATED"],
              r.orgs.map((o) => [
                `@${o.name}`,
                o.displayName ?? "-",
                o.role ?? "-",
                day(o.createdAt),
              ]),
            ),
      );
    });

  org
    .command("show <org>")
    .alias("view")
    .description("An org: your role, its counts, and the packages of its scope you may see")
    .addHelpText("after", examples(["packr-cli org show acme", "packr-cli org show @acme --json"]))
    .action(async (name: string, _opts, command: Command) => {
      const slug = parseOrg(name);
      const { out, call } = await openAdmin(ctx, command);
      const [{ org: o }, { packages }] = await call((c) =>
        Promise.all([c.orgs.get(slug), c.orgs.packages(slug)]),
      );
      out.result({ org: o, packages }, () => [
        `${out.c.bold(`@${o.name}`)}${o.displayName ? `  ${o.displayName}` : ""}`,
        `your role  ${o.role ?? "- (not a member)"}`,
        `members    ${o.memberCount}`,
        `teams      ${o.teamCount}`,
        `packages   ${o.packageCount}`,
        `created    ${day(o.createdAt)}`,
        "",
        ...(packages.length === 0
          ? ["No packages yet."]
          : table(
              out,
              ["PACKAGE", "LATEST", "ACCESS", "MODIFIED", "DESCRIPTION"],
              packages.map((p) => [
                p.name,
                p.latest ?? "-",
                p.access,
                day(p.modifiedAt),
                p.description ?? "",
              ]),
            )),
      ]);
    });

  org
    .command("members <org>")
    .description("The members of an org and their roles")
    .addHelpText(
      "after",
      examples(["packr-cli org members acme", "packr-cli org members @acme --json"]),
    )
    .action(async (name: string, _opts, command: Command) => {
      const slug = parseOrg(name);
      const { out, call } = await openAdmin(ctx, command);
      const r = await call((c) => c.orgs.members.list(slug));
      out.result(r, () =>
        table(
          out,
          ["USER", "ROLE", "ADDED"],
          r.members.map((m) => [m.user, m.role, day(m.addedAt)]),
        ),
      );
    });

  org
    .command("add <org> <user>")
    .description(`Add a user to an org (org admins); role ${DEFAULT_MEMBER_ROLE} unless --role`)
    .option(
      "--role <role>",
      "reader, maintainer or admin (npm's developer/owner too)",
      DEFAULT_MEMBER_ROLE,
    )
    .addHelpText(
      "after",
      examples(["packr-cli org add acme bob", "packr-cli org add @acme carol --role reader"]),
    )
    .action(async (name: string, userArg: string, opts: { role: string }, command: Command) => {
      const slug = parseOrg(name);
      const user = parseUser(userArg);
      const role = parseOrgRole(opts.role, "--role");
      const { out, call } = await openAdmin(ctx, command);
      const r = await call((c) => c.orgs.members.add(slug, user, role));
      out.result(r, () => `Added ${r.member.user} to @${slug} as ${r.member.role}.`);
    });

  org
    .command("remove <org> <user>")
    .alias("rm")
    .description("Remove a user from an org (org admins); their tokens lose its access too")
    .addHelpText(
      "after",
      examples(["packr-cli org remove acme bob", "packr-cli org rm @acme bob --json"]),
    )
    .action(async (name: string, userArg: string, _opts, command: Command) => {
      const slug = parseOrg(name);
      const user = parseUser(userArg);
      const { out, call } = await openAdmin(ctx, command);
      const r = await call((c) => c.orgs.members.remove(slug, user));
      out.result(r, () => `Removed ${user} from @${slug}.`);
    });

  org
    .command("role <org> <user> <role>")
    .description("Change a member's role: reader, maintainer or admin (org admins)")
    .addHelpText(
      "after",
      examples(["packr-cli org role acme bob admin", "packr-cli org role @acme bob reader --json"]),
    )
    .action(async (name: string, userArg: string, roleArg: string, _opts, command: Command) => {
      const slug = parseOrg(name);
      const user = parseUser(userArg);
      const role = parseOrgRole(roleArg);
      const { out, call } = await openAdmin(ctx, command);
      const r = await call((c) => c.orgs.members.setRole(slug, user, role));
      out.result(r, () => `${r.member.user} is now ${r.member.role} in @${slug}.`);
    });
}
