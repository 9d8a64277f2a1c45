import type { Command } from "commander";
import type { CliEnv } from "./config/env.ts";
import { type GlobalFlags, resolveSettings, type Settings } from "./config/settings.ts";
import { RegistryClient } from "./http/client.ts";
import { Output, type Stream } from "./output/output.ts";

/** What the program runs in: parsed environment, working directory and the two streams. */
export type CliContext = {
  env: CliEnv;
  cwd: string;
  stdout: Stream;
  stderr: Stream;
  /** Open a URL in the user's browser; false when that was not possible. */
  openBrowser(url: string): Promise<boolean>;
};

type GlobalOptions = GlobalFlags & { json?: boolean };

/** Per-command helpers built from the global options (`--registry`, `--token`, `--json`). */
export class CommandScope {
  readonly out: Output;
  readonly flags: GlobalFlags;

  constructor(
    readonly ctx: CliContext,
    command: Command,
  ) {
    const opts = command.optsWithGlobals<GlobalOptions>();
    this.flags = {
      ...(opts.registry ? { registry: opts.registry } : {}),
      ...(opts.token ? { token: opts.token } : {}),
    };
    this.out = new Output(ctx.stdout, ctx.stderr, ctx.env, opts.json === true);
  }

  settings(extra: { scope?: string; packageRegistry?: string } = {}): Promise<Settings> {
    return resolveSettings({ flags: this.flags, env: this.ctx.env, cwd: this.ctx.cwd, ...extra });
  }

  client(settings: Settings, token: string | undefined = settings.token): RegistryClient {
    return new RegistryClient(settings.registry, token, settings.tokenFrom);
  }
}
