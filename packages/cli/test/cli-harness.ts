/**
 * Runs the built packr-cli (dist/cli.js, what the package publishes) as a process: its own temp
 * HOME per test user, an environment cleaned of the outer run's npm/pnpm variables, and no
 * PACKR_* unless the test passes them.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { clientEnv, describeRun, type RunResult, run } from "@packr/registry/e2e/clients";
import { expect } from "vitest";

export const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

export type CliRun = RunResult & { json(): unknown };

export class CliSandbox {
  private constructor(readonly root: string) {}

  static async create(label: string): Promise<CliSandbox> {
    return new CliSandbox(await mkdtemp(path.join(os.tmpdir(), `packr-cli-${label}-`)));
  }

  /** A fresh HOME (with its npm cache) for one person or CI job. */
  async home(label = "home"): Promise<string> {
    const home = await mkdtemp(path.join(this.root, `${label}-`));
    await mkdir(path.join(home, ".cache"), { recursive: true });
    return home;
  }

  async dir(label: string, files: Record<string, string> = {}): Promise<string> {
    const dir = await mkdtemp(path.join(this.root, `${label}-`));
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await writeFile(path.join(dir, rel), text);
    }
    return dir;
  }

  async cleanup(): Promise<void> {
    if (!process.env.PACKR_E2E_KEEP) await rm(this.root, { recursive: true, force: true });
  }
}

export function cliEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = clientEnv(home, { npm_config_cache: path.join(home, ".cache", "npm"), ...extra });
  for (const key of ["PACKR_REGISTRY", "PACKR_TOKEN", "NO_COLOR", "FORCE_COLOR"]) {
    if (!(key in extra)) delete env[key];
  }
  return env;
}

export async function cli(
  args: string[],
  opts: { home: string; cwd?: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<CliRun> {
  const r = await run(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? opts.home,
    env: cliEnv(opts.home, opts.env),
    timeoutMs: opts.timeoutMs ?? 120_000,
  });
  return {
    ...r,
    json() {
      try {
        return JSON.parse(r.stdout);
      } catch {
        throw new Error(`stdout is not JSON:\n${describeRun(r)}`);
      }
    },
  };
}

export function ok(r: CliRun): CliRun {
  expect(r.code, `expected exit 0:\n${describeRun(r)}`).toBe(0);
  return r;
}

/** The command failed with `exitCode`, and stderr carries every given sentence. */
export function fails(r: CliRun, exitCode: number, ...needles: string[]): CliRun {
  expect(r.code, `expected exit ${exitCode}:\n${describeRun(r)}`).toBe(exitCode);
  for (const n of needles) {
    expect(
      r.stderr,
      `expected stderr to contain ${JSON.stringify(n)}:\n${describeRun(r)}`,
    ).toContain(n);
  }
  return r;
}

/** The one JSON error line a failing --json run prints on stderr. */
export function jsonError(r: CliRun): {
  error: string;
  code: string;
  status: number | null;
  exitCode: number;
} {
  const line = r.stderr.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`stderr does not end in a JSON line:\n${describeRun(r)}`);
  }
}

export const readText = (file: string): Promise<string> => readFile(file, "utf8");

/** A loopback URL nothing listens on (a port just freed), for network failures. */
export async function deadRegistry(): Promise<string> {
  const net = await import("node:net");
  const port = await new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const p = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(p));
    });
    srv.on("error", reject);
  });
  return `http://127.0.0.1:${port}`;
}
