import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ACCEPT_ABBREVIATED, ACCEPT_FULL, CaptureWriter } from "./capture.ts";
import { fixtureBytes, loadFixtures, syntheticVersion } from "./fixtures.ts";
import { type LoadRun, runLoadMatrix, type Workload } from "./load.ts";
import { cpuMicros, freePort, installCleanupHandlers, killAllNow, loadavg } from "./proc.ts";
import { publishBody, put } from "./publish.ts";
import { BENCH_DIR, type Server, type ServerName, startBare, startPackr } from "./servers.ts";
import { median, percentile, round } from "./stats.ts";

/**
 * `pnpm bench:focus`: the hot paths only, Packr against the bare server, in about a minute. For
 * measuring a change before and after, and for profiling (`--prof` runs Packr under
 * `node --cpu-prof` and prints where the .cpuprofile went). Not a substitute for `pnpm bench`.
 *
 *   pnpm bench:focus [--seconds 5] [--reps 3] [--big 0|2000] [--only small-full,tarball] [--prof]
 *                    [--log warn|info]   (Packr's PACKR_LOG_LEVEL; the full run uses warn)
 *                    [--jobs off]        (PACKR_RUN_JOBS=false: publishes without their analysis job)
 */

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const next = process.argv[i + 1];
  return i >= 0 && next && !next.startsWith("--") ? next : fallback;
}

const seconds = Number(arg("seconds", "5"));
const reps = Number(arg("reps", "3"));
const bigVersions = Number(arg("big", "0"));
const only = arg("only", "")
  .split(",")
  .filter((x) => x);
const prof = process.argv.includes("--prof");
const logLevel = arg("log", "warn");
const runJobs = arg("jobs", "on") !== "off";

const encode = (name: string) => `/${name.replace("/", "%2f")}`;
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

async function main(): Promise<void> {
  installCleanupHandlers();
  const cacheDir = path.join(BENCH_DIR, ".cache");
  const set = await loadFixtures("full", cacheDir);
  const wanted = ["ms", "express", "@humanwhocodes/module-importer"];
  const picked = set.fixtures.filter((f) => wanted.includes(f.name));
  // Publish latency: first versions of other real packages, one at a time.
  const timed = set.fixtures.filter((f) => !wanted.includes(f.name)).slice(0, 40);
  const profDir = prof ? mkdtempSync(path.join(os.tmpdir(), "packr-prof-")) : "";
  const servers: Server[] = [];
  try {
    const packr = await startPackr(1, 0, prof ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : [], {
      PACKR_LOG_LEVEL: logLevel,
      PACKR_RUN_JOBS: String(runJobs),
    });
    servers.push(packr);
    log(`loadavg ${loadavg().join(" ")}`);
    for (const f of picked) {
      const r = await put(
        packr,
        f.name,
        publishBody(packr.url, { ...f, tgz: await fixtureBytes(cacheDir, f) }),
      );
      if (r.status >= 300)
        throw new Error(`publish ${f.name}@${f.version}: ${r.status} ${r.error}`);
    }
    const cpu0 = cpuMicros(packr.pid);
    const ms: number[] = [];
    for (const f of timed) {
      const r = await put(
        packr,
        f.name,
        publishBody(packr.url, { ...f, tgz: await fixtureBytes(cacheDir, f) }),
      );
      if (r.status < 300) ms.push(r.ms);
    }
    const publishCpu = (cpuMicros(packr.pid) - cpu0) / Math.max(1, ms.length);
    log(
      `publish (PUT, first version, ${ms.length} packages): p50 ${round(median(ms))} ms, p95 ${round(percentile(ms, 95))} ms, ` +
        `server CPU ${round(publishCpu / 1000, 2)} ms/publish`,
    );
    for (let i = 0; i < bigVersions; i++) {
      const version = `1.${Math.floor(i / 1000)}.${i % 1000}`;
      const v = syntheticVersion("bench-growth", version);
      await put(
        packr,
        "bench-growth",
        publishBody(packr.url, { name: "bench-growth", version, ...v }),
      );
    }

    const barePort = await freePort();
    const capture = new CaptureWriter(`http://127.0.0.1:${barePort}`);
    for (const name of [...wanted, ...(bigVersions ? ["bench-growth"] : [])]) {
      await capture.packument(packr.url, encode(name));
    }
    const express = picked.find((f) => f.name === "express");
    const tarball = `/express/-/express-${express?.version}.tgz`;
    await capture.tarball(packr.url, tarball);
    const captureDir = mkdtempSync(path.join(os.tmpdir(), "packr-focus-capture-"));
    await capture.write(captureDir);
    const bare = await startBare(captureDir, barePort);
    servers.push(bare);

    const same = (p: string) => ({ packr: p, bare: p }) as Record<ServerName, string>;
    const gz = { "accept-encoding": "gzip, deflate" };
    const all: Workload[] = [
      {
        id: "small-abbreviated",
        label: "ms abbreviated",
        paths: same("/ms"),
        headers: { ...gz, accept: ACCEPT_ABBREVIATED },
        auth: false,
      },
      {
        id: "small-full",
        label: "ms full",
        paths: same("/ms"),
        headers: { ...gz, accept: ACCEPT_FULL },
        auth: false,
      },
      {
        id: "small-full-token",
        label: "ms full, token",
        paths: same("/ms"),
        headers: { ...gz, accept: ACCEPT_FULL },
        auth: true,
      },
      { id: "tarball", label: "express tarball", paths: same(tarball), headers: gz, auth: false },
      {
        id: "tarball-token",
        label: "express tarball, token",
        paths: same(tarball),
        headers: gz,
        auth: true,
      },
      ...(bigVersions
        ? [
            {
              id: "big-abbreviated",
              label: "big abbreviated",
              paths: same("/bench-growth"),
              headers: { ...gz, accept: ACCEPT_ABBREVIATED },
              auth: false,
            },
            {
              id: "big-full",
              label: "big full",
              paths: same("/bench-growth"),
              headers: { ...gz, accept: ACCEPT_FULL },
              auth: false,
            },
          ]
        : []),
    ];
    const workloads = only.length ? all.filter((w) => only.includes(w.id)) : all;
    const cells = await runLoadMatrix(
      servers,
      workloads,
      { reps, durationS: seconds, connections: 50, warmupS: 1 },
      () => {},
    );
    console.log(
      `\nworkload             packr µs/req  bare µs/req  bare÷packr  packr req/s  (median of ${reps} × ${seconds} s)`,
    );
    for (const w of workloads) {
      const p = cells[w.id]?.packr;
      const b = cells[w.id]?.bare;
      if (!p || !b) continue;
      const spread = (runs: LoadRun[]) => runs.map((r) => r.serverCpuPerReqUs).join("/");
      console.log(
        `${w.id.padEnd(20)} ${String(p.serverCpuPerReqUs).padStart(12)}  ${String(b.serverCpuPerReqUs).padStart(11)}  ` +
          `${String(round(b.serverCpuPerReqUs / p.serverCpuPerReqUs, 2)).padStart(10)}  ${String(p.rps).padStart(11)}` +
          `  runs ${spread(p.runs)} / ${spread(b.runs)}  other cores ${p.otherCores}`,
      );
    }
    log(`loadavg ${loadavg().join(" ")}`);
  } finally {
    for (const s of servers.reverse()) await s.stop().catch(() => {});
    killAllNow();
  }
  if (prof) log(`CPU profile of Packr in ${profDir}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  killAllNow();
  process.exit(1);
});
