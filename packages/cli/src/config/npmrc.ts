import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import ini from "ini";

/** One parsed `.npmrc` file. Values keep npm's `${VAR}` references until `expand` is applied. */
export type NpmrcFile = {
  path: string;
  exists: boolean;
  text: string;
  data: Record<string, unknown>;
};

export async function readNpmrc(file: string): Promise<NpmrcFile> {
  let text = "";
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    return { path: file, exists: false, text: "", data: {} };
  }
  return { path: file, exists: true, text, data: ini.parse(text) as Record<string, unknown> };
}

/**
 * npm's project prefix: the nearest directory at or above `cwd` with a package.json or
 * node_modules (@npmcli/config `loadLocalPrefix`); `cwd` itself when there is none.
 */
export function projectDir(cwd: string): string {
  let dir = path.resolve(cwd);
  for (;;) {
    if (existsSync(path.join(dir, "package.json")) || existsSync(path.join(dir, "node_modules"))) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(cwd);
    dir = parent;
  }
}

/** `${VAR}` → the variable's value, as npm expands .npmrc values; `\${` stays literal. */
export function expand(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/(?<!\\)\$\{([^${}]+)\}/g, (whole, name: string) => {
    const v = env[name];
    return v === undefined ? whole : v;
  });
}

/**
 * The nerf-dart key npm files credentials under: the registry URL without its protocol and last
 * path segment (`http://localhost:4873/` → `//localhost:4873/`; npm-registry-fetch `nerfDart`).
 */
export function nerfDart(registry: string): string {
  const url = new URL(registry);
  const base = new URL(".", `${url.protocol}//${url.host}${url.pathname}`);
  return `//${base.host}${base.pathname}`;
}

/**
 * The `_authToken` npm would send to `registry`: the longest path prefix of its nerf-dart key that
 * has one (npm-registry-fetch auth.js `regFromURI`). An unexpanded `${VAR}` counts as no token.
 */
export function findToken(
  files: NpmrcFile[],
  registry: string,
  env: NodeJS.ProcessEnv,
): { token: string; file: string } | undefined {
  let key = nerfDart(registry);
  for (;;) {
    for (const file of files) {
      const raw = file.data[`${key}:_authToken`];
      if (typeof raw === "string") {
        const token = expand(raw, env).trim();
        if (token !== "" && !/\$\{[^}]+\}/.test(token)) return { token, file: file.path };
      }
    }
    const shorter = key.replace(/[^/]+\/$/, "");
    if (shorter === key || !shorter.startsWith("//") || shorter === "//") return undefined;
    key = shorter;
  }
}

const keyOf = (line: string): string | undefined => {
  const trimmed = line.trim();
  if (trimmed === "" || trimmed.startsWith(";") || trimmed.startsWith("#")) return undefined;
  const eq = trimmed.indexOf("=");
  return eq < 0 ? trimmed : trimmed.slice(0, eq).trim();
};

/**
 * Set `key=value` in .npmrc text, touching no other line: the first line of that key is replaced
 * (later duplicates, which npm would let win, are dropped), else the line is appended.
 */
export function upsertLine(text: string, key: string, value: string): string {
  const lines = text === "" ? [] : text.replace(/\r?\n$/, "").split(/\r?\n/);
  const line = `${key}=${value}`;
  let done = false;
  const out: string[] = [];
  for (const l of lines) {
    if (keyOf(l) === key) {
      if (!done) out.push(line);
      done = true;
    } else {
      out.push(l);
    }
  }
  if (!done) out.push(line);
  return `${out.join("\n")}\n`;
}

/** Remove every `key=…` line, touching no other line. */
export function removeLine(text: string, key: string): string {
  if (text === "") return text;
  const lines = text.replace(/\r?\n$/, "").split(/\r?\n/);
  const out = lines.filter((l) => keyOf(l) !== key);
  return out.length === 0 ? "" : `${out.join("\n")}\n`;
}

/** Write through a temp file and rename, so a crash never leaves half a config file. */
export async function writeConfigFile(file: string, text: string, mode?: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text, mode === undefined ? undefined : { mode });
  await rename(tmp, file);
  if (mode !== undefined) await chmod(file, mode);
}
