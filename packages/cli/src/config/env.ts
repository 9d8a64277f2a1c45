import os from "node:os";
import { z } from "zod";

const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

/**
 * Every environment variable packr-cli reads, parsed once in `cli.ts` and handed down; no other
 * module touches process.env. `npm_config_userconfig` is npm's own way to move `~/.npmrc`.
 */
const CliEnvSchema = z.object({
  PACKR_REGISTRY: optional,
  PACKR_TOKEN: optional,
  HOME: optional,
  npm_config_userconfig: optional,
  NPM_CONFIG_USERCONFIG: optional,
  NO_COLOR: z.string().optional(),
  FORCE_COLOR: z.string().optional(),
  TERM: optional,
  CI: optional,
  DISPLAY: optional,
  WAYLAND_DISPLAY: optional,
  /** Overrides the npm executable `publish` packs with (tests point it at a specific npm). */
  PACKR_NPM: optional,
});

export type CliEnv = {
  registry: string | undefined;
  token: string | undefined;
  home: string;
  userconfig: string | undefined;
  noColor: boolean;
  forceColor: boolean;
  dumbTerminal: boolean;
  ci: boolean;
  hasDisplay: boolean;
  npm: string;
  /** The raw environment, for `${VAR}` expansion in .npmrc values and for child processes. */
  raw: NodeJS.ProcessEnv;
};

export function parseCliEnv(raw: NodeJS.ProcessEnv): CliEnv {
  const env = CliEnvSchema.parse(raw);
  const ci = env.CI !== undefined && env.CI !== "false" && env.CI !== "0";
  return {
    registry: env.PACKR_REGISTRY,
    token: env.PACKR_TOKEN,
    home: env.HOME ?? os.homedir(),
    userconfig: env.npm_config_userconfig ?? env.NPM_CONFIG_USERCONFIG,
    noColor: env.NO_COLOR !== undefined && env.NO_COLOR !== "",
    forceColor: env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "",
    dumbTerminal: env.TERM === "dumb",
    ci,
    // macOS and Windows always have a desktop; elsewhere a browser needs an X or Wayland display.
    hasDisplay:
      process.platform === "darwin" ||
      process.platform === "win32" ||
      env.DISPLAY !== undefined ||
      env.WAYLAND_DISPLAY !== undefined,
    npm: env.PACKR_NPM ?? "npm",
    raw,
  };
}
