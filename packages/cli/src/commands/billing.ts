import type { Command } from "commander";
import type { CliContext } from "../context.ts";
import { parseOrg } from "../orgs/names.ts";
import { table } from "../output/output.ts";
import { examples } from "./help.ts";
import { day, openAdmin } from "./org-scope.ts";

/**
 * `packr-cli billing [--org <org>]`: an account's plan, status, limits and usage (the admin API's
 * `GET /api/v1/admin/billing`, through `@packr/agent`'s `billing.get`). Thin: one SDK call, the
 * API's document with `--json`, else a short table.
 */
export function registerBilling(program: Command, ctx: CliContext): void {
  program
    .command("billing")
    .description("Show the plan, limits and usage of your account or an org (billing on)")
    .option("--org <org>", "an org you belong to (default: your personal account)")
    .addHelpText("after", examples(["packr-cli billing", "packr-cli billing --org acme --json"]))
    .action(async (opts: { org?: string }, command: Command) => {
      const org = opts.org === undefined ? undefined : parseOrg(opts.org);
      const { out, call } = await openAdmin(ctx, command);
      const b = await call((c) => c.billing.get(org === undefined ? {} : { org }));
      const limit = (n: number | null) => (n === null ? "unlimited" : String(n));
      out.result(b, () => [
        `${b.account.type === "org" ? `@${b.account.name}` : `${b.account.name} (personal)`}: ${out.c.bold(b.planTitle)} plan, ${b.state === "free" ? "free" : b.status.replace(/_/g, " ")}${b.graceEndsAt ? ` (grace until ${day(b.graceEndsAt)})` : ""}${b.currentPeriodEnd ? `, renews ${day(b.currentPeriodEnd)}` : ""}`,
        ...table(
          out,
          ["", "USED", "LIMIT"],
          [
            ["packages", String(b.usage.packages), limit(b.limits.packages)],
            ["scopes", String(b.usage.scopes), limit(b.limits.scopes)],
          ],
        ),
        `Upgrade or manage: ${b.upgradeUrl}`,
      ]);
    });
}
