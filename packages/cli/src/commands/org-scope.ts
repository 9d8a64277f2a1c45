import type { PackrClient } from "@packr/agent";
import type { Command } from "commander";
import type { Settings } from "../config/settings.ts";
import { type CliContext, CommandScope } from "../context.ts";
import { fromSdkError, sdkClient } from "../http/sdk.ts";
import type { Output } from "../output/output.ts";
import { notLoggedIn } from "./whoami.ts";

/**
 * What every org, team and access command starts with: the output, and a call that runs one
 * `@packr/agent` admin call with the caller's token (refused before any request without one) and
 * turns its failure into the CLI's error and exit code.
 */
export type AdminScope = {
  out: Output;
  settings: Settings;
  call<T>(work: (client: PackrClient) => Promise<T>): Promise<T>;
};

export async function openAdmin(ctx: CliContext, command: Command): Promise<AdminScope> {
  const scope = new CommandScope(ctx, command);
  const settings = await scope.settings();
  if (!settings.token) throw notLoggedIn(settings.registry);
  const client = sdkClient(settings);
  return {
    out: scope.out,
    settings,
    async call(work) {
      try {
        return await work(client);
      } catch (err) {
        throw fromSdkError(err, settings);
      }
    },
  };
}

/** The day part of an ISO date, or "-". */
export const day = (iso: string | null | undefined): string => (iso ? iso.slice(0, 10) : "-");
