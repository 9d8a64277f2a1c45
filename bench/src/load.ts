import autocannon from "autocannon";
import {
  cpuMicros,
  machineBusyMicros,
  peakRss,
  resetPeakRss,
  selfCpuMicros,
  waitIdle,
} from "./proc.ts";
import type { Server, ServerName } from "./servers.ts";
import { median, round } from "./stats.ts";

/**
 * GET throughput with autocannon, interleaved across servers (A B C A B C…) and repeated, with
 * the server's CPU time and peak RSS read from /proc around every run. autocannon runs in this
 * process, so this process's CPU time over a run is the load generator's.
 */

export type Workload = {
  id: string;
  label: string;
  /** Request path per server (tarball paths come from each server's own packument). */
  paths: Record<ServerName, string>;
  headers: Record<string, string>;
  auth: boolean;
};

export type LoadRun = {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  mbPerSec: number;
  serverCpuPerReqUs: number;
  /** Cores the server used on average over the run (CPU time / wall time). */
  serverCores: number;
  /** Cores the load generator used: near 1.0 means autocannon, not the server, was the limit. */
  loadgenCores: number;
  /** Cores everything else on the machine used meanwhile (other sessions' tests, say). */
  otherCores: number;
  peakRssMiB: number;
};

export type LoadCell = {
  runs: LoadRun[];
  rps: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuPerReqUs: number;
  serverCores: number;
  loadgenCores: number;
  otherCores: number;
  peakRssMiB: number;
  non2xx: number;
  errors: number;
};

export type LoadOptions = {
  reps: number;
  durationS: number;
  connections: number;
  warmupS: number;
};

async function runOnce(
  server: Server,
  w: Workload,
  connections: number,
  durationS: number,
): Promise<LoadRun> {
  const headers: Record<string, string> = { ...w.headers };
  if (w.auth) headers.authorization = `Bearer ${server.token}`;
  resetPeakRss(server.pid);
  const cpu0 = cpuMicros(server.pid);
  const self0 = selfCpuMicros();
  const busy0 = machineBusyMicros();
  const t0 = performance.now();
  const r = await autocannon({
    url: server.url + w.paths[server.name],
    connections,
    duration: durationS,
    headers,
    // A 2,000-version document from a slow server can take seconds under 50 connections.
    timeout: 60,
  });
  const wallUs = (performance.now() - t0) * 1000;
  const serverCpu = cpuMicros(server.pid) - cpu0;
  const selfCpu = selfCpuMicros() - self0;
  const otherCpu = Math.max(0, machineBusyMicros() - busy0 - serverCpu - selfCpu);
  const peak = peakRss(server.pid);
  // Work the server still has queued for closed connections belongs to no run: wait it out.
  await waitIdle(server.pid);
  const requests = r["2xx"] + r.non2xx;
  return {
    requests,
    rps: round(requests / r.duration, 1),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    mbPerSec: round(r.throughput.average / 2 ** 20, 2),
    serverCpuPerReqUs: requests ? round(serverCpu / requests, 1) : Number.NaN,
    serverCores: round(serverCpu / wallUs, 2),
    loadgenCores: round(selfCpu / wallUs, 2),
    otherCores: round(otherCpu / wallUs, 2),
    peakRssMiB: round(peak / 2 ** 20, 1),
  };
}

/** The median of each figure over the repetitions (exported: the report recomputes from runs). */
export function cell(runs: LoadRun[]): LoadCell {
  const m = (f: (r: LoadRun) => number) => median(runs.map(f));
  return {
    runs,
    rps: round(
      m((r) => r.rps),
      1,
    ),
    p50Ms: m((r) => r.p50Ms),
    p99Ms: m((r) => r.p99Ms),
    serverCpuPerReqUs: round(
      m((r) => r.serverCpuPerReqUs),
      1,
    ),
    serverCores: round(
      m((r) => r.serverCores),
      2,
    ),
    loadgenCores: round(
      m((r) => r.loadgenCores),
      2,
    ),
    otherCores: round(
      m((r) => r.otherCores),
      2,
    ),
    peakRssMiB: Math.max(...runs.map((r) => r.peakRssMiB)),
    non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
    errors: runs.reduce((a, r) => a + r.errors, 0),
  };
}

/** Check a workload answers 200 everywhere before measuring it (a 404 is fast, not a result). */
async function preflight(server: Server, w: Workload): Promise<void> {
  const headers: Record<string, string> = { ...w.headers };
  if (w.auth) headers.authorization = `Bearer ${server.token}`;
  // Three sequential GETs also fill whatever cache the server keeps.
  for (let i = 0; i < 3; i++) {
    const res = await fetch(server.url + w.paths[server.name], { headers });
    await res.arrayBuffer();
    if (res.status !== 200) {
      throw new Error(`${server.name} ${w.id}: GET ${w.paths[server.name]} answered ${res.status}`);
    }
  }
}

export async function runLoadMatrix(
  servers: Server[],
  workloads: Workload[],
  opts: LoadOptions,
  log: (line: string) => void,
): Promise<Record<string, Record<string, LoadCell>>> {
  const out: Record<string, Record<string, LoadCell>> = {};
  for (const w of workloads) {
    const runs = new Map<ServerName, LoadRun[]>(servers.map((s) => [s.name, []]));
    for (const s of servers) {
      await preflight(s, w);
      // A short unmeasured run first, so the first measured one doesn't pay for JIT warm-up.
      if (opts.warmupS > 0) {
        await autocannon({
          url: s.url + w.paths[s.name],
          connections: opts.connections,
          duration: opts.warmupS,
          headers: w.headers,
          timeout: 60,
        });
        await waitIdle(s.pid);
      }
    }
    for (let rep = 0; rep < opts.reps; rep++) {
      for (const s of servers) {
        const r = await runOnce(s, w, opts.connections, opts.durationS);
        runs.get(s.name)?.push(r);
        log(
          `  ${w.id.padEnd(18)} ${s.name.padEnd(9)} rep ${rep + 1}: ${String(r.rps).padStart(8)} req/s, ` +
            `${r.serverCpuPerReqUs} µs CPU/req, server ${r.serverCores} cores, autocannon ${r.loadgenCores}, ` +
            `other ${r.otherCores}` +
            (r.non2xx || r.errors ? `, ${r.non2xx} non-2xx, ${r.errors} errors` : ""),
        );
      }
    }
    out[w.id] = Object.fromEntries(servers.map((s) => [s.name, cell(runs.get(s.name) ?? [])]));
  }
  return out;
}
