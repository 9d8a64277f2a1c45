/**
 * Shared helpers of the end-to-end suite: run the real npm, pnpm and yarn against a registry
 * process, each invocation in its own temp HOME and cache with an environment cleaned of whatever
 * the outer `pnpm test` exported; make throw-away projects; build npm-style tarballs in-process and
 * the exact JSON body `npm publish` PUTs (protocol §3.1).
 */

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { publishBody as npmPublishBody } from "@packr/core/testing";
import * as tar from "tar";
import { expect } from "vitest";
import type { RegistryProcess } from "../test/harness.ts";

const require = createRequire(import.meta.url);

/** yarn berry 4 and pnpm 10 from this package's devDependencies; npm is the machine's. */
export const YARN_JS = path.join(
  path.dirname(require.resolve("@yarnpkg/cli-dist/package.json")),
  "bin",
  "yarn.js",
);
// pnpm's exports map "." to its package.json (and does not export "./package.json").
export const PNPM_CJS = path.join(path.dirname(require.resolve("pnpm")), "bin", "pnpm.cjs");

export type RunResult = {
  command: string;
  cwd: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they arrived */
  output: string;
  ms: number;
};

/** What an assertion message shows of a client run: the command, its exit and its output. */
export function describeRun(r: RunResult): string {
  const out = r.output.length > 12_000 ? `…${r.output.slice(-12_000)}` : r.output;
  return [
    `$ ${r.command}`,
    `  (cwd ${r.cwd}; exit ${r.code}${r.signal ? `, signal ${r.signal}` : ""}${r.timedOut ? ", TIMED OUT" : ""}; ${r.ms} ms)`,
    "----- output -----",
    out,
    "------------------",
  ].join("\n");
}

export function expectSuccess(r: RunResult): RunResult {
  expect(r.code, `expected success:\n${describeRun(r)}`).toBe(0);
  return r;
}

/** The client must fail, and its output must carry each of the given sentences. */
export function expectFailure(r: RunResult, ...needles: string[]): RunResult {
  expect(r.code, `expected a non-zero exit:\n${describeRun(r)}`).not.toBe(0);
  for (const needle of needles) {
    expect(
      r.output,
      `expected the output to contain ${JSON.stringify(needle)}:\n${describeRun(r)}`,
    ).toContain(needle);
  }
  return r;
}

/**
 * The environment of one client process: the outer environment minus everything a package manager
 * or the outer `pnpm test` could have exported (npm_*, pnpm_*, corepack, yarn_*, XDG dirs), plus a
 * private HOME and XDG dirs under it.
 */
export function clientEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|corepack|yarn_|xdg_|vitest)/i.test(key)) continue;
    if (key === "INIT_CWD" || key === "NODE_OPTIONS" || key === "NODE_ENV") continue;
    env[key] = value;
  }
  return {
    ...env,
    HOME: home,
    USERPROFILE: home,
    XDG_CONFIG_HOME: path.join(home, ".config"),
    XDG_CACHE_HOME: path.join(home, ".cache"),
    XDG_DATA_HOME: path.join(home, ".local", "share"),
    XDG_STATE_HOME: path.join(home, ".local", "state"),
    CI: "true",
    npm_config_update_notifier: "false",
    npm_config_audit: "false",
    npm_config_fund: "false",
    ...extra,
  };
}

/** Run a program to completion with a timeout; never throws, the result says what happened. */
export function run(
  file: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number; input?: string },
): Promise<RunResult> {
  const started = Date.now();
  const command = [file, ...args].map(shellQuote).join(" ");
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    let output = "";
    let timedOut = false;
    child.stdout?.on("data", (d) => {
      stdout += String(d);
      output += String(d);
    });
    child.stderr?.on("data", (d) => {
      stderr += String(d);
      output += String(d);
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, opts.timeoutMs ?? 120_000);
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      resolve({
        command,
        cwd: opts.cwd,
        code,
        signal,
        timedOut,
        stdout,
        stderr,
        output,
        ms: Date.now() - started,
      });
    };
    child.on("error", (err) => {
      output += `\n[spawn error] ${String(err)}`;
      finish(-1, null);
    });
    child.on("close", finish);
  });
}

/** Kill the process group of a child this module started (spawned detached, so it leads one). */
function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {}
}

const shellQuote = (s: string): string =>
  /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;

/**
 * A pseudo-terminal session through util-linux `script`, for commands that insist on a TTY
 * (npm login's prompts). Each prompt is answered once, when its pattern first shows up.
 */
export function runWithPty(
  commandLine: string[],
  opts: {
    cwd: string;
    env: NodeJS.ProcessEnv;
    answers: { prompt: RegExp; reply: string }[];
    timeoutMs?: number;
  },
): Promise<RunResult> {
  const started = Date.now();
  const inner = commandLine.map(shellQuote).join(" ");
  return new Promise((resolve) => {
    const child = spawn("script", ["-qec", inner, "/dev/null"], {
      cwd: opts.cwd,
      env: { ...opts.env, TERM: "dumb" },
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    let stderr = "";
    let timedOut = false;
    const pending = [...opts.answers];
    let scanFrom = 0;
    const onData = (d: Buffer) => {
      output += String(d);
      for (;;) {
        const next = pending[0];
        if (!next) break;
        const rest = output.slice(scanFrom);
        const m = next.prompt.exec(rest);
        if (!m) break;
        scanFrom += m.index + m[0].length;
        pending.shift();
        // A small pause: npm's `read` sets the terminal up right after printing the prompt.
        setTimeout(() => child.stdin?.write(`${next.reply}\r`), 150);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (d) => {
      stderr += String(d);
      output += String(d);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, opts.timeoutMs ?? 60_000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        command: `script -qec ${shellQuote(inner)} /dev/null`,
        cwd: opts.cwd,
        code,
        signal,
        timedOut,
        stdout: output,
        stderr,
        output,
        ms: Date.now() - started,
      });
    });
  });
}

/** pnpm 10 commands that run npm with the same arguments (pnpm's passthrough list). */
const NPM_PASSTHROUGH = new Set([
  "access",
  "search",
  "star",
  "stars",
  "unstar",
  "view",
  "info",
  "owner",
]);

/** A client's private home and cache; `Sandbox.create` for a fresh one per invocation. */
export type Sandbox = { home: string; cache: string };

/**
 * Runs npm, pnpm and yarn under one temp root. By default every invocation gets a brand-new HOME
 * and cache, so nothing (tokens, metadata, tarballs) leaks from one command into the next.
 */
export class Clients {
  private constructor(readonly root: string) {}

  static async create(label: string): Promise<Clients> {
    return new Clients(await mkdtemp(path.join(os.tmpdir(), `packr-e2e-${label}-`)));
  }

  async sandbox(): Promise<Sandbox> {
    const dir = await mkdtemp(path.join(this.root, "sandbox-"));
    const sb = { home: path.join(dir, "home"), cache: path.join(dir, "cache") };
    await mkdir(sb.home, { recursive: true });
    await mkdir(sb.cache, { recursive: true });
    return sb;
  }

  /** A fresh, empty directory for a project. */
  async dir(label: string): Promise<string> {
    return mkdtemp(path.join(this.root, `${label}-`));
  }

  async npm(args: string[], opts: { cwd: string; sandbox?: Sandbox; timeoutMs?: number }) {
    const sb = opts.sandbox ?? (await this.sandbox());
    return run("npm", args, {
      cwd: opts.cwd,
      env: clientEnv(sb.home, { npm_config_cache: sb.cache }),
      timeoutMs: opts.timeoutMs,
    });
  }

  /** pnpm with its own store and metadata cache (publish hands the tarball to npm, same env). */
  async pnpm(args: string[], opts: { cwd: string; sandbox?: Sandbox; timeoutMs?: number }) {
    const sb = opts.sandbox ?? (await this.sandbox());
    // `pnpm publish` and `pnpm audit` reject --store-dir/--cache-dir; they store nothing, and
    // HOME is fresh anyway.
    // Commands pnpm 10 hands to npm (search, star, access, view, …) would read the flags as arguments.
    const storeFlags =
      args[0] === "publish" || args[0] === "audit" || NPM_PASSTHROUGH.has(args[0] ?? "")
        ? []
        : [
            "--store-dir",
            path.join(sb.cache, "pnpm-store"),
            "--cache-dir",
            path.join(sb.cache, "pnpm-cache"),
          ];
    return run(process.execPath, [PNPM_CJS, ...args, ...storeFlags], {
      cwd: opts.cwd,
      env: clientEnv(sb.home, { npm_config_cache: path.join(sb.cache, "npm") }),
      timeoutMs: opts.timeoutMs,
    });
  }

  async yarn(args: string[], opts: { cwd: string; sandbox?: Sandbox; timeoutMs?: number }) {
    const sb = opts.sandbox ?? (await this.sandbox());
    return run(process.execPath, [YARN_JS, ...args], {
      cwd: opts.cwd,
      env: clientEnv(sb.home, {
        YARN_CACHE_FOLDER: path.join(sb.cache, "yarn-cache"),
        YARN_GLOBAL_FOLDER: path.join(sb.cache, "yarn-global"),
        YARN_ENABLE_TELEMETRY: "0",
      }),
      timeoutMs: opts.timeoutMs,
    });
  }

  /** `node -e <code>` in a project, with the same cleaned environment. */
  async nodeEval(code: string, opts: { cwd: string }) {
    const sb = await this.sandbox();
    return run(process.execPath, ["-e", code], { cwd: opts.cwd, env: clientEnv(sb.home) });
  }

  async cleanup(): Promise<void> {
    if (process.env.PACKR_E2E_KEEP) return;
    await rm(this.root, { recursive: true, force: true });
  }
}

/** Stop a registry process and drop its data directory (kept with PACKR_E2E_KEEP=1). */
export async function stopRegistry(registry: RegistryProcess | undefined): Promise<void> {
  if (!registry) return;
  await registry.stop();
  if (!process.env.PACKR_E2E_KEEP) await rm(registry.dataDir, { recursive: true, force: true });
}

/** `.npmrc` of a project: the registry, and the token under the registry's nerf-dart key. */
export function npmrc(registryUrl: string, token?: string): string {
  const host = new URL(registryUrl).host;
  return `registry=${registryUrl}/\n${token ? `//${host}/:_authToken=${token}\n` : ""}`;
}

/** `.yarnrc.yml` of a project (protocol §1.3, §7): always send the token, plain http to 127.0.0.1, no age gate. */
export function yarnrc(registryUrl: string, token?: string): string {
  return [
    `npmRegistryServer: "${registryUrl}"`,
    ...(token ? [`npmAuthToken: "${token}"`, "npmAlwaysAuth: true"] : []),
    'unsafeHttpWhitelist: ["127.0.0.1"]',
    "npmMinimalAgeGate: 0",
    "enableGlobalCache: false",
    "nodeLinker: node-modules",
    "enableTelemetry: false",
    "",
  ].join("\n");
}

/** Write a set of files (relative path → text) into a directory. */
export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(dir, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  }
}

export type Manifest = {
  name: string;
  version: string;
  [key: string]: unknown;
};

/** A project directory with a package.json, the given files and, when asked, .npmrc/.yarnrc.yml. */
export async function makeProject(
  clients: Clients,
  label: string,
  opts: {
    manifest: Record<string, unknown>;
    files?: Record<string, string>;
    npmrc?: string;
    yarnrc?: string;
  },
): Promise<string> {
  const dir = await clients.dir(label);
  await writeFiles(dir, {
    "package.json": `${JSON.stringify(opts.manifest, null, 2)}\n`,
    ...(opts.files ?? {}),
    ...(opts.npmrc ? { ".npmrc": opts.npmrc } : {}),
    ...(opts.yarnrc ? { ".yarnrc.yml": opts.yarnrc } : {}),
  });
  return dir;
}

/** An npm tarball (a gzipped tar with a `package/` top directory) built in-process with node-tar. */
export async function buildTarball(
  manifest: Manifest,
  files: Record<string, string> = {},
): Promise<Buffer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "packr-e2e-tgz-"));
  try {
    await writeFiles(path.join(dir, "package"), {
      "package.json": `${JSON.stringify(manifest, null, 2)}\n`,
      ...files,
    });
    const chunks: Buffer[] = [];
    const stream = tar.c({ gzip: true, cwd: dir, portable: true }, ["package"]);
    for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const sha512Integrity = (bytes: Buffer): string =>
  `sha512-${createHash("sha512").update(bytes).digest("base64")}`;
export const sha1Hex = (bytes: Buffer): string => createHash("sha1").update(bytes).digest("hex");

/** `@scope/name` → `@scope%2fname`, as npm escapes it in URLs. */
export const escapeName = (name: string): string => name.replace("/", "%2f");

/**
 * The body `npm publish` PUTs (libnpmpublish buildMetadata, protocol §3.1) for a real tarball;
 * the shape itself is core's test fixture, so unit, HTTP and end-to-end tests send the same thing.
 */
export function publishBody(opts: {
  registryUrl: string;
  manifest: Manifest;
  tarball: Buffer;
  tag?: string;
  access?: "public" | "restricted" | null;
  /** override dist.integrity (to tamper with it) */
  integrity?: string;
}): Record<string, unknown> {
  const { manifest, tarball } = opts;
  return npmPublishBody(manifest.name, manifest.version, {
    bytes: tarball,
    manifest,
    ...(opts.tag ? { tag: opts.tag } : {}),
    ...(opts.access !== undefined ? { access: opts.access } : {}),
    ...(opts.integrity ? { integrity: opts.integrity } : {}),
  });
}

export type HttpAnswer = { status: number; text: string; json: unknown; headers: Headers };

async function answer(res: Response): Promise<HttpAnswer> {
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

/** PUT a publish body the way npm does. */
export async function putPackage(
  registryUrl: string,
  token: string,
  name: string,
  body: unknown,
): Promise<HttpAnswer> {
  const res = await fetch(`${registryUrl}/${escapeName(name)}`, {
    method: "PUT",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${token}`,
      "npm-command": "publish",
    },
    body: JSON.stringify(body),
  });
  return answer(res);
}

/** GET a registry path (already escaped), with a token or anonymously. */
export async function getJson(
  registryUrl: string,
  pathname: string,
  token?: string,
): Promise<HttpAnswer> {
  const res = await fetch(`${registryUrl}${pathname}`, {
    headers: {
      accept: "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
  });
  return answer(res);
}

/**
 * A request with the path sent byte for byte. fetch (WHATWG URL) would resolve `/%2e%2e` to `/`
 * before anything leaves the process; node:http sends what it is given.
 */
export function rawRequest(
  port: number,
  method: string,
  rawPath: string,
  opts: { token?: string; body?: string } = {},
): Promise<{ status: number; text: string; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method,
        path: rawPath,
        headers: {
          accept: "application/json",
          ...(opts.body !== undefined
            ? {
                "content-type": "application/json",
                "content-length": Buffer.byteLength(opts.body),
              }
            : {}),
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => {
          text += d;
        });
        res.on("end", () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, text, json });
        });
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** POST /-/v1/login {name, password} → the token. */
export async function loginToken(registryUrl: string, name: string, password: string) {
  const res = await fetch(`${registryUrl}/-/v1/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, password }),
  });
  const a = await answer(res);
  expect(a.status, `POST /-/v1/login answered ${a.status}: ${a.text}`).toBe(201);
  return (a.json as { token: string; username: string; expires: string }).token;
}

/** The claims of a JWT (not verified: the registry does that; tests only read them). */
export function jwtClaims(token: string): Record<string, unknown> {
  const [, payload] = token.split(".");
  if (!payload) throw new Error(`not a JWT: ${token.slice(0, 20)}…`);
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
}

/** Run async jobs in batches of `size`, in order; resolves with every result. */
export async function inBatches<T, R>(
  items: T[],
  size: number,
  job: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(...(await Promise.all(items.slice(i, i + size).map(job))));
  }
  return out;
}
