import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  childEnv,
  cpuMicros,
  makeTempDir,
  peakRss,
  resetPeakRss,
  runCommand,
  waitIdle,
} from "./proc.ts";
import type { Server } from "./servers.ts";
import { median, round } from "./stats.ts";

/**
 * Cold `npm install` of the fixture tree from each server: fresh directory, fresh cache, no
 * lockfile, so npm fetches every packument (full, since npm 10.4) and every tarball. Then one
 * `npm ci` from the lockfile that install wrote (tarballs only), the request mix of CI jobs.
 */

export type InstallRun = {
  ms: number;
  serverCpuMs: number;
  peakRssMiB: number;
  installed: number;
  /** Entries whose tarball came from anywhere but this server (must be 0). */
  foreign: number;
  ok: boolean;
  error?: string;
};

export type InstallResult = {
  runs: InstallRun[];
  medianMs: number;
  medianServerCpuMs: number;
  ci?: InstallRun;
};

async function npmInto(
  server: Server,
  dir: string,
  command: "install" | "ci",
  expected: number | null,
): Promise<InstallRun> {
  await writeFile(path.join(dir, ".npmrc"), `registry=${server.url}/\nupdate-notifier=false\n`);
  await mkdir(path.join(dir, "home"), { recursive: true });
  resetPeakRss(server.pid);
  const cpu0 = cpuMicros(server.pid);
  const res = await runCommand(
    "npm",
    [
      command,
      "--no-audit",
      "--no-fund",
      "--ignore-scripts",
      "--registry",
      `${server.url}/`,
      "--userconfig",
      path.join(dir, ".npmrc"),
      "--cache",
      path.join(dir, "cache"),
      "--loglevel",
      "warn",
    ],
    { cwd: dir, env: childEnv({ HOME: path.join(dir, "home") }), timeoutMs: 600_000 },
  );
  const serverCpu = cpuMicros(server.pid) - cpu0;
  const peak = peakRss(server.pid);
  await waitIdle(server.pid);
  // Distinct name@versions, as the fixture set counts them: npm installs one name@version at
  // several paths when nesting requires it, so counting paths would overcount.
  const distinct = new Set<string>();
  let foreign = 0;
  try {
    const hidden = JSON.parse(
      await readFile(path.join(dir, "node_modules", ".package-lock.json"), "utf8"),
    ) as { packages: Record<string, { resolved?: string; version?: string; name?: string }> };
    for (const [key, entry] of Object.entries(hidden.packages)) {
      const name = entry.name ?? key.slice(key.lastIndexOf("node_modules/") + 13);
      distinct.add(`${name}@${entry.version}`);
      if (!entry.resolved?.startsWith(`${server.url}/`)) foreign++;
    }
  } catch {}
  const installed = distinct.size;
  const ok = res.code === 0 && (expected === null || installed === expected) && foreign === 0;
  return {
    ms: round(res.ms),
    serverCpuMs: round(serverCpu / 1000),
    peakRssMiB: round(peak / 2 ** 20, 1),
    installed,
    foreign,
    ok,
    ...(ok
      ? {}
      : {
          error: `exit ${res.code}, ${installed}/${expected} installed, ${foreign} foreign: ${res.stderr.slice(-600)}`,
        }),
  };
}

/**
 * `reps` cold installs per server, interleaved A B C A B C; the first run's lockfile is kept and
 * replayed once with `npm ci` at the end.
 */
export async function runInstalls(
  servers: Server[],
  roots: Record<string, string>,
  /** Packages the tree must install; null when only the server's own consistency is checked. */
  expected: number | null,
  reps: number,
  log: (line: string) => void,
): Promise<Record<string, InstallResult>> {
  const base = await makeTempDir("install");
  const pkg = JSON.stringify({
    name: "bench-install",
    version: "1.0.0",
    private: true,
    dependencies: roots,
  });
  const runs = new Map<string, InstallRun[]>(servers.map((s) => [s.name, []]));
  const out: Record<string, InstallResult> = {};
  try {
    for (let rep = 0; rep < reps; rep++) {
      for (const s of servers) {
        const dir = path.join(base, `${s.name}-${rep}`);
        await mkdir(dir, { recursive: true });
        await writeFile(path.join(dir, "package.json"), pkg);
        const r = await npmInto(s, dir, "install", expected);
        runs.get(s.name)?.push(r);
        log(
          `  npm install ${s.name.padEnd(9)} rep ${rep + 1}: ${(r.ms / 1000).toFixed(2)} s, ` +
            `${r.installed} packages, server ${r.serverCpuMs} ms CPU${r.ok ? "" : `  FAILED ${r.error}`}`,
        );
        // Keep the first lockfile for npm ci; drop the rest (node_modules, caches) as we go.
        if (rep > 0) await rm(dir, { recursive: true, force: true });
      }
    }
    for (const s of servers) {
      const list = runs.get(s.name) ?? [];
      const good = list.filter((r) => r.ok);
      out[s.name] = {
        runs: list,
        medianMs: round(median(good.map((r) => r.ms))),
        medianServerCpuMs: round(median(good.map((r) => r.serverCpuMs))),
      };
      const first = path.join(base, `${s.name}-0`);
      const ciDir = path.join(base, `${s.name}-ci`);
      await mkdir(ciDir, { recursive: true });
      try {
        await copyFile(path.join(first, "package.json"), path.join(ciDir, "package.json"));
        await copyFile(
          path.join(first, "package-lock.json"),
          path.join(ciDir, "package-lock.json"),
        );
        const ci = await npmInto(s, ciDir, "ci", expected);
        log(
          `  npm ci      ${s.name.padEnd(9)}: ${(ci.ms / 1000).toFixed(2)} s, server ${ci.serverCpuMs} ms CPU${ci.ok ? "" : `  FAILED ${ci.error}`}`,
        );
        const result = out[s.name];
        if (result) result.ci = ci;
      } catch (err) {
        log(`  npm ci ${s.name}: no lockfile from the first install (${String(err)})`);
      }
    }
  } finally {
    await rm(base, { recursive: true, force: true });
  }
  return out;
}
