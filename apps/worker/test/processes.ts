import { type ChildProcess, spawn } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";

export { freeLocalPort, startRedisServer, type TestRedis } from "@packr/core/testing";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const WORKER_DIR = fileURLToPath(new URL("..", import.meta.url));

export type WorkerProcess = {
  /** Where /health and /metrics answer. */
  url: string;
  output(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<number | null>;
  signal(sig: NodeJS.Signals): void;
};

/**
 * `node --import tsx src/main.ts` for real, on a port of its own, against the given database and
 * Redis; resolves once it logged "worker started". `env` adds or overrides settings.
 */
export async function startWorkerProcess(opts: {
  databaseUrl: string;
  redisUrl: string;
  env?: Record<string, string>;
}): Promise<WorkerProcess> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", MAIN], {
    cwd: WORKER_DIR,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? os.homedir(),
      HOST: "127.0.0.1",
      PACKR_WORKER_PORT: "0",
      PACKR_UPLINK_URL: "",
      PACKR_LOG_LEVEL: "info",
      DATABASE_URL: opts.databaseUrl,
      REDIS_URL: opts.redisUrl,
      ...opts.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => {
    out += String(d);
  });
  child.stderr?.on("data", (d) => {
    out += String(d);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  const started = Date.now();
  let port: number | undefined;
  while (port === undefined) {
    if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}:\n${out}`);
    const m = /"msg":"worker started","port":(\d+)/.exec(out);
    if (m) port = Number(m[1]);
    else if (Date.now() - started > 60_000) {
      child.kill("SIGKILL");
      throw new Error(`worker did not start within 60 s:\n${out}`);
    } else await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    exited,
    signal: (sig) => child.kill(sig),
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** Run `node --import tsx src/main.ts` with exactly this environment to its exit (refusals). */
export async function runWorkerToExit(
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    cwd: WORKER_DIR,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? os.homedir(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d) => {
    output += String(d);
  });
  child.stderr?.on("data", (d) => {
    output += String(d);
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, output };
}

/** Poll `check` until it returns true; fails with `what` after `ms` (a bound, not a timing). */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  ms = 90_000,
): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`Still waiting after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
