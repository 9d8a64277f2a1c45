import path from "node:path";
import { usageError } from "../errors.ts";
import type { CliEnv } from "./env.ts";
import { expand, findToken, type NpmrcFile, projectDir, readNpmrc } from "./npmrc.ts";

/** Where packr-cli goes when nothing names a registry: Packr's default port on this machine. */
export const DEFAULT_REGISTRY = "http://localhost:4873/";

export type Source = "flag" | "env" | "npmrc" | "default" | "none";

export type Settings = {
  /** Always ends in `/`, so relative paths join onto it the way npm joins them. */
  registry: string;
  registrySource: Source;
  /** For messages: which flag, variable or file it came from. */
  registryFrom: string;
  token: string | undefined;
  tokenSource: Source;
  tokenFrom: string | undefined;
  /** The user config file login and logout edit (`~/.npmrc` or npm's `userconfig`). */
  userconfig: string;
  /** The .npmrc files that were read, project first. */
  files: NpmrcFile[];
};

export type GlobalFlags = { registry?: string; token?: string };

/** `http://host:4873` → `http://host:4873/`; refuses what is not an http(s) URL. */
export function normalizeRegistry(value: string, from: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(
      `${from} is not a URL: "${value}". Use a registry URL such as ${DEFAULT_REGISTRY}`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw usageError(`${from} must be an http(s) URL, got "${value}".`);
  }
  url.search = "";
  url.hash = "";
  return url.href.endsWith("/") ? url.href : `${url.href}/`;
}

/**
 * Registry and token, by precedence: flags > PACKR_REGISTRY / PACKR_TOKEN > .npmrc (the project's,
 * then the user's). In an .npmrc the registry is, for a scoped package, its `@scope:registry`;
 * otherwise `registry`, else the file's first `@scope:registry` (what `packr-cli init` writes).
 * The token is the one npm would send to that registry (its nerf-dart `_authToken`).
 */
export async function resolveSettings(opts: {
  flags: GlobalFlags;
  env: CliEnv;
  cwd: string;
  scope?: string | undefined;
  /** publishConfig.registry of the package being published: below flags and env, above .npmrc. */
  packageRegistry?: string | undefined;
}): Promise<Settings> {
  const { flags, env } = opts;
  const userconfig = env.userconfig
    ? path.resolve(opts.cwd, env.userconfig)
    : path.join(env.home, ".npmrc");
  const projectNpmrc = path.join(projectDir(opts.cwd), ".npmrc");
  const files =
    projectNpmrc === userconfig
      ? [await readNpmrc(userconfig)]
      : [await readNpmrc(projectNpmrc), await readNpmrc(userconfig)];

  let registry: string;
  let registrySource: Source;
  let registryFrom: string;
  if (flags.registry) {
    registry = normalizeRegistry(flags.registry, "--registry");
    registrySource = "flag";
    registryFrom = "--registry";
  } else if (env.registry) {
    registry = normalizeRegistry(env.registry, "PACKR_REGISTRY");
    registrySource = "env";
    registryFrom = "PACKR_REGISTRY";
  } else if (opts.packageRegistry) {
    registry = normalizeRegistry(opts.packageRegistry, "publishConfig.registry");
    registrySource = "npmrc";
    registryFrom = "publishConfig.registry in package.json";
  } else {
    const found = registryFromFiles(files, opts.scope, env.raw);
    registry = found ? normalizeRegistry(found.value, found.from) : DEFAULT_REGISTRY;
    registrySource = found ? "npmrc" : "default";
    registryFrom = found ? found.from : "the default";
  }

  let token: string | undefined;
  let tokenSource: Source = "none";
  let tokenFrom: string | undefined;
  if (flags.token) {
    token = flags.token;
    tokenSource = "flag";
    tokenFrom = "--token";
  } else if (env.token) {
    token = env.token;
    tokenSource = "env";
    tokenFrom = "PACKR_TOKEN";
  } else {
    const found = findToken(files, registry, env.raw);
    if (found) {
      token = found.token;
      tokenSource = "npmrc";
      tokenFrom = found.file;
    }
  }
  return {
    registry,
    registrySource,
    registryFrom,
    token,
    tokenSource,
    tokenFrom,
    userconfig,
    files,
  };
}

function registryFromFiles(
  files: NpmrcFile[],
  scope: string | undefined,
  env: NodeJS.ProcessEnv,
): { value: string; from: string } | undefined {
  for (const file of files) {
    const get = (key: string): string | undefined => {
      const v = file.data[key];
      return typeof v === "string" && v.trim() !== "" ? expand(v, env).trim() : undefined;
    };
    const scoped = scope ? get(`${scope}:registry`) : undefined;
    if (scoped) return { value: scoped, from: `${scope}:registry in ${file.path}` };
    const plain = get("registry");
    if (plain) return { value: plain, from: `registry in ${file.path}` };
    const firstScoped = Object.keys(file.data).find((k) => /^@[^:]+:registry$/.test(k));
    const anyScoped = firstScoped ? get(firstScoped) : undefined;
    if (firstScoped && anyScoped)
      return { value: anyScoped, from: `${firstScoped} in ${file.path}` };
  }
  return undefined;
}
