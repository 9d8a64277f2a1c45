import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";

/**
 * Processes and the OS: spawning with guaranteed cleanup, and reading a process's CPU time and
 * peak RSS from /proc. Every server and every npm run is its own process so that what it costs
 * can be read from the kernel instead of estimated inside the process.
 */

const CLK_TCK = readClockTicks();

function readClockTicks(): number {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** User + system CPU time of a process (all its threads), in microseconds. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces and parentheses: split after its last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / CLK_TCK;
}

/**
 * Busy CPU time of the whole machine (all cores, every process), in microseconds. Minus the
 * server's and the load generator's, it shows how much else ran during a measurement: these
 * machines are shared, and a run that had to share the cores is flagged rather than trusted.
 */
export function machineBusyMicros(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
  // cpu  user nice system idle iowait irq softirq steal …: everything but idle and iowait.
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return ((user + nice + system + irq + softirq + steal) * 1e6) / CLK_TCK;
}

/** CPU time of this process (the load generator runs in it), in microseconds. */
export function selfCpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function statusField(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Peak resident set size since start or since the last resetPeakRss, in bytes. */
export function peakRss(pid: number): number {
  return statusField(pid, "VmHWM");
}

export function currentRss(pid: number): number {
  return statusField(pid, "VmRSS");
}

/**
 * Reset VmHWM to the current RSS (Linux clear_refs "5"), so the next peakRss is the peak of one
 * measurement rather than of the whole life of the process. Returns false where not permitted.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

export type ProcSample = { cpuMicros: number; at: number };

export function sample(pid: number): ProcSample {
  return { cpuMicros: cpuMicros(pid), at: performance.now() };
}

/**
 * Wait until a server has finished work still queued after a load run ended (a slow server keeps
 * computing responses whose clients are gone), so that work is not billed to the next run.
 */
export async function waitIdle(pid: number, maxMs = 60_000): Promise<void> {
  const until = performance.now() + maxMs;
  let last = cpuMicros(pid);
  while (performance.now() < until) {
    await sleep(150);
    const now = cpuMicros(pid);
    // At most one 10 ms clock tick in 150 ms: timers and GC, not request work.
    if (now - last <= 10_000) return;
    last = now;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export type Machine = {
  cores: number;
  model: string;
  memoryGiB: number;
  node: string;
  npm: string;
  kernel: string;
};

export function machineInfo(npmVersion: string): Machine {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown";
  return {
    cores: os.availableParallelism(),
    model,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    npm: npmVersion,
    kernel: os.release(),
  };
}

export function loadavg(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = os.loadavg();
  return [a, b, c].map((x) => Math.round(x * 100) / 100) as [number, number, number];
}

/** A free TCP port on 127.0.0.1 (the OS picks; a tiny race with other programs is accepted). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The environment for child processes: ours minus what pnpm adds for scripts (npm_config_*,
 * npm_package_*), which would otherwise steer the npm CLI we run (registry, lockfile settings).
 */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (/^npm_/i.test(k) || /^pnpm_/i.test(k)) continue;
    // Every server gets its own fresh state: Packr must not follow CI's DATABASE_URL (or S3 and
    // Redis settings) into a shared database that earlier runs left packages in.
    if (
      /^(DATABASE_URL|REPLICA_DATABASE_URL|REDIS_URL|S3_.*|PACKR_.*|JWT_SECRET|SESSION_SECRET|INTERNAL_API_SECRET)$/.test(
        k,
      )
    ) {
      continue;
    }
    env[k] = v;
  }
  return { ...env, ...extra };
}

// --- spawned-process bookkeeping: nothing outlives the benchmark --------------------------------

const live = new Set<ChildProcess>();

/**
 * Spawn in a new process group so that the whole tree (npm spawns helpers) can be killed at
 * once, and register it for the exit handlers below.
 */
export function spawnTracked(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): ChildProcess {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? childEnv(),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {}
  }
}

/** SIGTERM, then SIGKILL after graceMs; resolves when the process has exited. */
export async function stopProcess(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  killGroup(child, "SIGTERM");
  const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

const tempDirs = new Set<string>();

/**
 * A fresh directory under the OS temp dir, deleted on any exit, including Ctrl-C (where the
 * callers' own async cleanup never runs).
 */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `packr-bench-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

export function killAllNow(): void {
  for (const child of live) killGroup(child, "SIGKILL");
  live.clear();
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {}
  }
  tempDirs.clear();
}

let handlersInstalled = false;

/** On any way out of the process (normal exit, Ctrl-C, SIGTERM, crash), kill every child. */
export function installCleanupHandlers(onSignal?: () => void): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", killAllNow);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      console.error(`\n${sig}: stopping every server and client this benchmark started`);
      onSignal?.();
      killAllNow();
      process.exit(130);
    });
  }
  process.on("uncaughtException", (err) => {
    console.error(err);
    killAllNow();
    process.exit(1);
  });
}

export type CommandResult = { code: number; stdout: string; stderr: string; ms: number };

/** Run a command to completion with a hard time limit (killed, with its group, past it). */
export async function runCommand(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; timeoutMs: number },
): Promise<CommandResult> {
  const started = performance.now();
  const child = spawnTracked(cmd, args, opts);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += String(d);
  });
  child.stderr?.on("data", (d) => {
    stderr += String(d);
  });
  const timer = setTimeout(() => killGroup(child, "SIGKILL"), opts.timeoutMs);
  const code = await new Promise<number>((resolve) => {
    // "close", not "exit": it fires after stdout and stderr have been read to the end.
    child.once("close", (c, sig) => resolve(c ?? (sig ? 128 : 1)));
  });
  clearTimeout(timer);
  return { code, stdout, stderr, ms: performance.now() - started };
}
