import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { InstallResult } from "./install.ts";
import { cell, type LoadCell } from "./load.ts";
import { type Machine, runCommand } from "./proc.ts";
import { PROFILE_NOTES } from "./profile-notes.ts";
import type { ConcurrentResult, FixturePublishResult, GrowthResult } from "./publish.ts";
import { REPO_ROOT } from "./servers.ts";
import { round } from "./stats.ts";

/**
 * Turning measurements into the issue's answers: ratios, the target table (met / not met),
 * a capacity model from CPU per request, RESULTS.md and a console summary.
 */

export type Results = {
  mode: "full" | "smoke";
  startedAt: string;
  finishedAt: string;
  durationS: number;
  machine: Machine;
  loadavgBefore: [number, number, number];
  loadavgAfter: [number, number, number];
  packrRevision: string;
  plan: Record<string, unknown>;
  fixtures: {
    set: string;
    count: number;
    names: number;
    bytes: number;
    roots: Record<string, string>;
  };
  publish: Record<string, FixturePublishResult>;
  growth: Record<string, GrowthResult>;
  concurrent: Record<string, ConcurrentResult[]>;
  docSizes: {
    small: { name: string; full: number; abbreviated: number };
    scoped: { name: string; full: number; abbreviated: number };
    big: { name: string; full: number; abbreviated: number };
    tarball: { name: string; bytes: number };
  };
  workloads: { id: string; label: string; paths: Record<string, string> }[];
  load: Record<string, Record<string, LoadCell>>;
  install: Record<string, InstallResult>;
  /** When Packr refused part of the tree: the installs of the roots that avoid it. */
  installSubset?: { roots: Record<string, string>; result: Record<string, InstallResult> };
  rss: Record<string, { startMiB: number; endMiB: number; lastPeakMiB: number }>;
  serverLogs: Record<string, string[]>;
  notes: string[];
};

const SERVERS = ["packr", "verdaccio", "bare"] as const;

/** At or above this many cores, autocannon (one thread) is the limit, not the server. */
const LOADGEN_SATURATED = 0.9;

export type TargetRow = {
  workload: string;
  target: string;
  measured: string;
  met: boolean | null;
};

function fmt(x: number | null | undefined, digits = 2): string {
  if (typeof x !== "number" || !Number.isFinite(x)) return "–";
  if (Math.abs(x) >= 100) return String(Math.round(x));
  return String(round(x, digits));
}

/** a ÷ b; NaN when either is missing (JSON stores NaN as null, so null counts as missing). */
function ratio(a: number | null | undefined, b: number | null | undefined): number {
  return typeof a === "number" && typeof b === "number" && b > 0 ? a / b : Number.NaN;
}

function loadgenBound(r: Results, id: string): boolean {
  const row = r.load[id];
  return SERVERS.some((s) => (row?.[s]?.loadgenCores ?? 0) >= LOADGEN_SATURATED);
}

/** At or above this many cores a Node server's main thread is the limit. */
const SERVER_SATURATED = 0.9;

/**
 * Packr against the bare server for one workload. req/s compares capacity only when both
 * servers were the bottleneck of their runs (saturated, autocannon not). Otherwise req/s measured
 * something else (autocannon, or other processes sharing the 2 cores) and the ratio of CPU per
 * request (bare ÷ Packr) is the fair one: it is what sets req/s per core.
 */
function vsBare(r: Results, id: string): { value: number; basis: "req/s" | "CPU/request" } {
  const p = r.load[id]?.packr;
  const b = r.load[id]?.bare;
  const serverBound = [p, b].every((c) => (c?.serverCores ?? 0) >= SERVER_SATURATED);
  if (loadgenBound(r, id) || !serverBound) {
    return { value: ratio(b?.serverCpuPerReqUs, p?.serverCpuPerReqUs), basis: "CPU/request" };
  }
  return { value: ratio(p?.rps, b?.rps), basis: "req/s" };
}

export function targets(r: Results): TargetRow[] {
  const rows: TargetRow[] = [];
  const L = (id: string, s: string) => r.load[id]?.[s];
  const bigN = String(r.plan.growthVersions ?? "");

  const sa = vsBare(r, "small-abbreviated");
  const sf = vsBare(r, "small-full");
  rows.push({
    workload: "small packument GET, abbreviated and full",
    target: "≥ 0.6× the bare server (≈ 9× Verdaccio)",
    measured:
      `abbreviated ${fmt(sa.value)}× bare by ${sa.basis} (${fmt(ratio(L("small-abbreviated", "packr")?.rps, L("small-abbreviated", "verdaccio")?.rps), 1)}× Verdaccio); ` +
      `full ${fmt(sf.value)}× by ${sf.basis} (${fmt(ratio(L("small-full", "packr")?.rps, L("small-full", "verdaccio")?.rps), 1)}× Verdaccio)`,
    met: sa.value >= 0.6 && sf.value >= 0.6,
  });

  const cpuSmall = Math.max(
    L("small-abbreviated", "packr")?.serverCpuPerReqUs ?? Number.NaN,
    L("small-full", "packr")?.serverCpuPerReqUs ?? Number.NaN,
  );
  rows.push({
    workload: "small packument GET, server CPU per request",
    target: "≤ 150 µs (bare ≈ 80 µs, Verdaccio ≈ 1.2 ms)",
    measured:
      `Packr ${fmt(L("small-abbreviated", "packr")?.serverCpuPerReqUs)} / ${fmt(L("small-full", "packr")?.serverCpuPerReqUs)} µs (abbr. / full); ` +
      `bare ${fmt(L("small-abbreviated", "bare")?.serverCpuPerReqUs)} / ${fmt(L("small-full", "bare")?.serverCpuPerReqUs)}; ` +
      `Verdaccio ${fmt(L("small-abbreviated", "verdaccio")?.serverCpuPerReqUs)} / ${fmt(L("small-full", "verdaccio")?.serverCpuPerReqUs)}`,
    met: cpuSmall <= 150,
  });

  const ba = vsBare(r, "big-abbreviated");
  const bf = vsBare(r, "big-full");
  const cpuBig = Math.max(
    L("big-abbreviated", "packr")?.serverCpuPerReqUs ?? Number.NaN,
    L("big-full", "packr")?.serverCpuPerReqUs ?? Number.NaN,
  );
  rows.push({
    workload: `${bigN}-version packument GET`,
    target: "≥ 0.8× the bare server; ≤ 3 ms CPU per request (Verdaccio ≈ 160 ms)",
    measured:
      `abbreviated ${fmt(ba.value)}× bare by ${ba.basis}, full ${fmt(bf.value)}× by ${bf.basis}; ` +
      `Packr CPU ${fmt((L("big-abbreviated", "packr")?.serverCpuPerReqUs ?? Number.NaN) / 1000)} / ${fmt((L("big-full", "packr")?.serverCpuPerReqUs ?? Number.NaN) / 1000)} ms, ` +
      `Verdaccio ${fmt((L("big-abbreviated", "verdaccio")?.serverCpuPerReqUs ?? Number.NaN) / 1000)} / ${fmt((L("big-full", "verdaccio")?.serverCpuPerReqUs ?? Number.NaN) / 1000)} ms, ` +
      `bare ${fmt((L("big-abbreviated", "bare")?.serverCpuPerReqUs ?? Number.NaN) / 1000)} / ${fmt((L("big-full", "bare")?.serverCpuPerReqUs ?? Number.NaN) / 1000)} ms`,
    met: ba.value >= 0.8 && bf.value >= 0.8 && cpuBig <= 3000,
  });

  const t = vsBare(r, "tarball");
  rows.push({
    workload: "tarball GET (filesystem store)",
    target: "≥ 0.9× the bare server",
    measured: `${fmt(t.value)}× bare by ${t.basis} (req/s ${fmt(ratio(L("tarball", "packr")?.rps, L("tarball", "bare")?.rps))}×; Verdaccio ${fmt(ratio(L("tarball", "verdaccio")?.rps, L("tarball", "bare")?.rps))}×)`,
    met: t.value >= 0.9,
  });

  // By CPU per request, for the reason vsBare gives: on 2 shared cores req/s wanders run to run.
  const cpuRatio = (anon: string, tok: string, s = "packr") =>
    ratio(L(anon, s)?.serverCpuPerReqUs, L(tok, s)?.serverCpuPerReqUs);
  const rpsRatio = (anon: string, tok: string, s = "packr") =>
    ratio(L(tok, s)?.rps, L(anon, s)?.rps);
  const tokSmall = cpuRatio("small-full", "small-full-token");
  const tokTar = cpuRatio("tarball", "tarball-token");
  rows.push({
    workload: "token-authenticated GET",
    target: "≥ 0.9× the same GET anonymous",
    measured:
      `by CPU/request: small full ${fmt(tokSmall)}×, tarball ${fmt(tokTar)}× ` +
      `(req/s ${fmt(rpsRatio("small-full", "small-full-token"))}× and ${fmt(rpsRatio("tarball", "tarball-token"))}×); ` +
      `Verdaccio ${fmt(cpuRatio("small-full", "small-full-token", "verdaccio"))}× and ${fmt(cpuRatio("tarball", "tarball-token", "verdaccio"))}×`,
    met: tokSmall >= 0.9 && tokTar >= 0.9,
  });

  const pp = r.publish.packr?.put;
  const vp = r.publish.verdaccio?.put;
  rows.push({
    workload: "publish p50 (direct PUT, 1st version)",
    target: "≤ Verdaccio's",
    measured: `Packr ${fmt(pp?.p50Ms, 1)} ms, Verdaccio ${fmt(vp?.p50Ms, 1)} ms (p95 ${fmt(pp?.p95Ms, 1)} vs ${fmt(vp?.p95Ms, 1)})`,
    met: pp !== undefined && vp !== undefined ? pp.p50Ms <= vp.p50Ms : null,
  });

  const pg = r.growth.packr;
  const vg = r.growth.verdaccio;
  rows.push({
    workload: `publish latency at ${bigN} versions`,
    target: "≤ 2× the latency at the 1st version",
    measured: `Packr ${fmt(pg?.firstMs, 1)} → ${fmt(pg?.lastMs, 1)} ms (${fmt(pg?.growth)}×); Verdaccio ${fmt(vg?.firstMs, 1)} → ${fmt(vg?.lastMs, 1)} ms (${fmt(vg?.growth)}×); medians of 10`,
    met: pg ? pg.growth <= 2 && pg.ok === pg.versions : null,
  });

  const pc = r.concurrent.packr ?? [];
  const vc = r.concurrent.verdaccio ?? [];
  const desc = (c: ConcurrentResult) =>
    `${c.precreated ? "existing" : "new"} package ${c.succeeded}/${c.attempted} ok, ${c.present} present, ${fmt(c.wallMs / 1000)} s`;
  rows.push({
    workload: `${String(r.plan.concurrent ?? 50)} concurrent publishes to one package`,
    target: "50 of 50 succeed and are present",
    measured: `Packr: ${pc.map(desc).join("; ")}. Verdaccio: ${vc.map(desc).join("; ")}`,
    met: pc.length > 0 && pc.every((c) => c.succeeded === c.attempted && c.present === c.attempted),
  });

  const times = (inst: Record<string, InstallResult>) => {
    const ip = inst.packr?.medianMs;
    const ib = inst.bare?.medianMs;
    const iv = inst.verdaccio?.medianMs;
    return (
      `Packr ${fmt((ip ?? Number.NaN) / 1000)} s, bare ${fmt((ib ?? Number.NaN) / 1000)} s (${fmt(ratio(ip, ib))}×); ` +
      `Verdaccio ${fmt((iv ?? Number.NaN) / 1000)} s (${fmt(ratio(iv, ib))}×)`
    );
  };
  const packrInstalls = packrInstalledTree(r);
  const sub = r.installSubset;
  rows.push({
    workload: "cold `npm install` of the tree",
    target: "≤ 1.05× the bare server's time",
    measured: packrInstalls
      ? times(r.install)
      : `Packr cannot install the tree (${(r.install.packr?.runs[0]?.error ?? "").replace(/\s+/g, " ").slice(0, 140)}…); ` +
        `bare ${fmt((r.install.bare?.medianMs ?? Number.NaN) / 1000)} s, Verdaccio ${fmt((r.install.verdaccio?.medianMs ?? Number.NaN) / 1000)} s. ` +
        (sub ? `The installable part (${rootList(sub.roots)}): ${times(sub.result)}` : ""),
    met: packrInstalls ? ratio(r.install.packr?.medianMs, r.install.bare?.medianMs) <= 1.05 : false,
  });
  return rows;
}

function packrInstalledTree(r: Results): boolean {
  const runs = r.install.packr?.runs ?? [];
  return runs.length > 0 && runs.every((x) => x.ok);
}

function rootList(roots: Record<string, string>): string {
  return Object.entries(roots)
    .map(([n, v]) => `${n}@${v}`)
    .join(", ");
}

/** The installs the capacity model uses: the whole tree, or the part Packr could install. */
function installBasis(r: Results): { inst: Record<string, InstallResult>; what: string } {
  if (packrInstalledTree(r) || !r.installSubset) {
    return {
      inst: r.install,
      what: `this tree (${r.fixtures.count} tarballs, ${kb(r.fixtures.bytes)})`,
    };
  }
  const n = r.installSubset.result.bare?.ci?.installed ?? Number.NaN;
  return {
    inst: r.installSubset.result,
    what: `the part of the tree Packr can serve (${rootList(r.installSubset.roots)}: ${n} tarballs)`,
  };
}

// --- capacity model ----------------------------------------------------------------------------

export type Capacity = {
  perCore: { workload: string; packr: number; verdaccio: number; bare: number }[];
  ci: {
    server: string;
    cpuMsPerCi: number;
    ciWallS: number;
    cpuMsPerInstall: number;
    fleet: { jobs: number; cores: number; instances: number }[];
  }[];
};

/** Node serves requests on one thread: one instance ≈ one core, run at 70% to keep latency. */
const UTILISATION = 0.7;

export function capacity(r: Results): Capacity {
  const perCore = r.workloads.map((w) => {
    const c = (s: string) => r.load[w.id]?.[s]?.serverCpuPerReqUs ?? Number.NaN;
    return {
      workload: w.label,
      packr: Math.round(1e6 / c("packr")),
      verdaccio: Math.round(1e6 / c("verdaccio")),
      bare: Math.round(1e6 / c("bare")),
    };
  });
  const basis = installBasis(r).inst;
  const ci = SERVERS.map((s) => {
    const inst = basis[s];
    const cpuMsPerCi = inst?.ci?.serverCpuMs ?? Number.NaN;
    const ciWallS = (inst?.ci?.ms ?? Number.NaN) / 1000;
    return {
      server: s,
      cpuMsPerCi,
      ciWallS: round(ciWallS, 2),
      cpuMsPerInstall: inst?.medianServerCpuMs ?? Number.NaN,
      // N jobs started together, each taking ciWallS if the registry keeps up, ask the registry
      // for N × cpu / wall cores on average.
      fleet: [10, 50, 200, 1000].map((jobs) => {
        const cores = (jobs * cpuMsPerCi) / 1000 / ciWallS;
        return {
          jobs,
          cores: round(cores, 2),
          instances: Math.max(1, Math.ceil(cores / UTILISATION)),
        };
      }),
    };
  });
  return { perCore, ci };
}

// --- output ------------------------------------------------------------------------------------

function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map((c) => String(c)).join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

function kb(bytes: number): string {
  return bytes >= 2 ** 20 ? `${fmt(bytes / 2 ** 20)} MB` : `${fmt(bytes / 1024, 1)} KB`;
}

/**
 * Medians recomputed from the stored runs, so a results file from an older version of this code
 * renders with today's aggregation.
 */
function withCells(r: Results): Results {
  const load: Results["load"] = {};
  for (const [id, row] of Object.entries(r.load)) {
    load[id] = Object.fromEntries(Object.entries(row).map(([s, c]) => [s, cell(c.runs)]));
  }
  return { ...r, load };
}

export function renderMarkdown(results: Results): string {
  const r = withCells(results);
  const out: string[] = [];
  const rows = targets(r);
  const cap = capacity(r);
  const p = r.plan as {
    load?: { reps: number; durationS: number; connections: number };
    installReps?: number;
    growthVersions?: number;
    growthEvery?: number;
  };
  out.push(
    "# Packr benchmark results",
    "",
    `Written by \`pnpm bench\` on ${r.startedAt.slice(0, 10)} (${r.durationS} s). Packr at ${r.packrRevision}, ` +
      `Verdaccio 6.8.0, autocannon 9, npm ${r.machine.npm}. Everything ran on this one machine over loopback; ` +
      "every server was its own process, measured from /proc. Issue #7 describes what is measured and why.",
    "",
    "## Machine",
    "",
    table(
      ["cores", "CPU", "memory", "Node", "kernel", "load average before", "after"],
      [
        [
          r.machine.cores,
          r.machine.model,
          `${r.machine.memoryGiB} GiB`,
          r.machine.node,
          r.machine.kernel,
          r.loadavgBefore.join(" "),
          r.loadavgAfter.join(" "),
        ],
      ],
    ),
    "",
    "## Targets",
    "",
    "Ratios are from one interleaved run (Packr, Verdaccio, bare, Packr, …), medians of the repetitions. " +
      "A ratio to the bare server is by requests per second only where both servers saturated their core and autocannon did not; " +
      "otherwise (autocannon at ≥ 0.9 cores, or other processes taking the cores) it is by CPU per request (bare ÷ Packr), " +
      "which is what sets requests per second per core, and the row says which.",
    "",
    table(
      ["workload", "target", "measured", "met"],
      rows.map((t) => [
        t.workload,
        t.target,
        t.measured,
        t.met === null ? "n/a" : t.met ? "met" : "**not met**",
      ]),
    ),
    "",
  );

  out.push(
    "## GET throughput and cost",
    "",
    `autocannon, ${p.load?.connections} connections, ${p.load?.durationS} s per run, ${p.load?.reps} runs per cell (median shown), ` +
      "`accept-encoding: gzip, deflate` as npm sends. Server CPU is user+system time of the server process over the run, " +
      'divided by responses; "cores" is that CPU time over wall time. autocannon runs in the benchmark\'s own process.',
    "",
    `Document sizes as Packr serves them (plain): small \`${r.docSizes.small.name}\` ${kb(r.docSizes.small.full)} full / ${kb(r.docSizes.small.abbreviated)} abbreviated; ` +
      `scoped \`${r.docSizes.scoped.name}\` ${kb(r.docSizes.scoped.full)} / ${kb(r.docSizes.scoped.abbreviated)}; ` +
      `${r.plan.growthVersions}-version \`${r.docSizes.big.name}\` ${kb(r.docSizes.big.full)} / ${kb(r.docSizes.big.abbreviated)}; ` +
      `tarball \`${r.docSizes.tarball.name}\` ${kb(r.docSizes.tarball.bytes)}.`,
    "",
  );
  const loadRows: (string | number)[][] = [];
  for (const w of r.workloads) {
    for (const s of SERVERS) {
      const c = r.load[w.id]?.[s];
      if (!c) continue;
      const bare = r.load[w.id]?.bare;
      const ver = r.load[w.id]?.verdaccio;
      loadRows.push([
        s === "packr" ? `**${w.label}**` : "",
        s,
        fmt(c.rps, 0),
        s === "bare" ? "1" : fmt(ratio(c.rps, bare?.rps)),
        s === "verdaccio" ? "1" : fmt(ratio(c.rps, ver?.rps), 1),
        `${fmt(c.p50Ms)} / ${fmt(c.p99Ms)}`,
        fmt(c.serverCpuPerReqUs, 0),
        s === "bare" ? "1" : fmt(ratio(bare?.serverCpuPerReqUs, c.serverCpuPerReqUs)),
        fmt(c.serverCores),
        `${fmt(c.loadgenCores)}${c.loadgenCores >= LOADGEN_SATURATED ? " ⚠" : ""}`,
        fmt(c.otherCores),
        fmt(c.peakRssMiB, 0),
        c.non2xx + c.errors ? `${c.non2xx} / ${c.errors}` : "0",
        c.runs.map((x) => fmt(x.rps, 0)).join(", "),
      ]);
    }
  }
  out.push(
    table(
      [
        "workload",
        "server",
        "req/s",
        "× bare",
        "× Verdaccio",
        "latency p50 / p99 ms",
        "server CPU µs/req",
        "CPU efficiency × bare",
        "server cores",
        "autocannon cores",
        "other cores",
        "peak RSS MiB",
        "non-2xx / errors",
        "req/s per run",
      ],
      loadRows,
    ),
    "",
    "⚠ autocannon used ≥ 0.9 cores: that row's req/s is a floor set by the load generator on this 2-core machine " +
      '(client and server share it); compare CPU per request there. "other cores": CPU time of every other process on the ' +
      "machine over the run (from /proc/stat): where it is high, another job shared the cores and req/s is low for that reason; " +
      "CPU per request is much less affected.",
    "",
  );

  out.push("## Publish", "");
  out.push(
    `Every fixture (${r.fixtures.count} name@versions of ${r.fixtures.names} packages, ${kb(r.fixtures.bytes)} of tarballs; roots ${Object.entries(
      r.fixtures.roots,
    )
      .map(([n, v]) => `${n}@${v}`)
      .join(
        ", ",
      )}) by direct PUT in npm's body format (protocol §3.1), one at a time, interleaved between the two registries, ` +
      "in ascending version order per package; then a handful more with the real `npm publish <tarball>`.",
    "",
    table(
      ["server", "how", "ok", "total s", "p50 ms", "p95 ms", "max ms", "server CPU s"],
      ["packr", "verdaccio"].flatMap((s) => {
        const x = r.publish[s];
        if (!x) return [];
        return [
          [
            s,
            "PUT",
            `${x.put.ok}/${x.put.count}`,
            fmt(x.put.totalMs / 1000),
            fmt(x.put.p50Ms, 1),
            fmt(x.put.p95Ms, 1),
            fmt(x.put.maxMs, 1),
            fmt(x.put.serverCpuMs / 1000),
          ],
          [
            s,
            "npm publish",
            `${x.cli.ok}/${x.cli.count}`,
            fmt(x.cli.totalMs / 1000),
            fmt(x.cli.p50Ms, 1),
            fmt(x.cli.p95Ms, 1),
            fmt(x.cli.maxMs, 1),
            fmt(x.cli.serverCpuMs / 1000),
          ],
        ];
      }),
    ),
    "",
    "`npm publish` times include starting npm (about half a second), so they compare the registries only by difference.",
    "",
  );
  const failures = ["packr", "verdaccio"].flatMap((s) =>
    [...(r.publish[s]?.put.failures ?? []), ...(r.publish[s]?.cli.failures ?? [])].map(
      (f) => `- ${s}: ${f.id} → ${f.status} ${(f.error ?? "").replace(/\s+/g, " ").slice(0, 200)}`,
    ),
  );
  if (failures.length) out.push("Failed publishes:", "", ...failures.slice(0, 30), "");

  out.push(
    `### Growth: ${p.growthVersions} versions of one package`,
    "",
    `Direct PUT of synthetic versions (realistic manifest, ~0.5 KB tarball each), interleaved per version. Each sample is the median of the ten publishes ending at that version (the first: versions 1–10), with the single publish in brackets.`,
    "",
    table(
      ["version", "Packr ms", "Verdaccio ms"],
      (r.growth.packr?.samples ?? []).map((sm, i) => {
        const v = r.growth.verdaccio?.samples[i];
        return [
          sm.version,
          `${fmt(sm.windowMedianMs, 1)} (${fmt(sm.ms, 1)})`,
          v ? `${fmt(v.windowMedianMs, 1)} (${fmt(v.ms, 1)})` : "–",
        ];
      }),
    ),
    "",
    ...["packr", "verdaccio"].map((s) => {
      const g = r.growth[s];
      return g
        ? `- ${s}: ${g.ok}/${g.versions} ok, ${fmt(g.firstMs, 1)} → ${fmt(g.lastMs, 1)} ms (${fmt(g.growth)}×)${
            g.failures.length
              ? `; failures: ${g.failures
                  .slice(0, 3)
                  .map((f) => `${f.version} ${f.status} ${(f.error ?? "").slice(0, 120)}`)
                  .join("; ")}`
              : ""
          }`
        : "";
    }),
    "",
    "### 50 concurrent publishes of one package",
    "",
    'Fifty PUTs of versions 1.0.0–1.0.49 in flight at once; "existing" had 0.0.1 published first, "new" is created by the burst itself. ' +
      '"present" counts the 50 versions in the full packument read afterwards.',
    "",
    table(
      ["server", "package", "succeeded", "present", "wall s", "statuses", "errors (first)"],
      ["packr", "verdaccio"].flatMap((s) =>
        (r.concurrent[s] ?? []).map((c) => [
          s,
          c.precreated ? "existing" : "new",
          `${c.succeeded}/${c.attempted}`,
          `${c.present}/${c.attempted}`,
          fmt(c.wallMs / 1000),
          Object.entries(c.statuses)
            .map(([k, v]) => `${k}×${v}`)
            .join(" "),
          (c.errors[0] ?? "").replace(/[|\n]/g, " ").slice(0, 140),
        ]),
      ),
    ),
    "",
  );

  out.push(
    "## Cold `npm install` of the tree",
    "",
    `Fresh directory and cache, no lockfile, \`--no-audit --no-fund --ignore-scripts\`; ${p.installReps} runs per server interleaved, median shown; ` +
      "every run is checked to install the whole tree from that server only. The bare server answers Packr's captured documents " +
      "with tarball URLs pointing at itself. Then one `npm ci` from the first run's lockfile (tarballs only, what CI jobs do).",
    "",
    installTable(r.install),
    "",
    ...(r.installSubset
      ? [
          `Packr could not install the whole tree, so the roots whose dependencies avoid what it refused (${rootList(r.installSubset.roots)}) were installed the same way from all three:`,
          "",
          installTable(r.installSubset.result),
          "",
        ]
      : []),
  );
  const installFailures = [r.install, r.installSubset?.result ?? {}].flatMap((inst) =>
    SERVERS.flatMap((s) =>
      [...(inst[s]?.runs ?? []), ...(inst[s]?.ci ? [inst[s].ci] : [])]
        .filter((x) => x && !x.ok)
        .map((x) => `- ${s}: ${(x?.error ?? "").replace(/\s+/g, " ").slice(0, 300)}`),
    ),
  );
  if (installFailures.length) out.push("Failed installs:", "", ...installFailures, "");

  out.push(
    "## Memory",
    "",
    "Resident set size from /proc/<pid>/status. The peak (VmHWM) is reset before every measurement (clear_refs), so the per-workload peaks above are each one run's.",
    "",
    table(
      ["server", "RSS after start MiB", "RSS at end MiB", "largest per-run peak MiB"],
      SERVERS.map((s) => {
        const peaks = r.workloads.map((w) => r.load[w.id]?.[s]?.peakRssMiB ?? 0);
        const inst = (r.install[s]?.runs ?? []).map((x) => x.peakRssMiB);
        return [
          s,
          fmt(r.rss[s]?.startMiB, 0),
          fmt(r.rss[s]?.endMiB, 0),
          fmt(Math.max(...peaks, ...inst), 0),
        ];
      }),
    ),
    "",
  );

  out.push(
    "## Capacity model",
    "",
    "From the measured server CPU per request; a Node process serves on one thread, so one instance ≈ one core, planned at 70% busy.",
    "",
    table(
      ["workload", "Packr req/s per core", "Verdaccio", "bare"],
      cap.perCore.map((c) => [c.workload, fmt(c.packr, 0), fmt(c.verdaccio, 0), fmt(c.bare, 0)]),
    ),
    "",
    `A CI job runs \`npm ci\` of ${installBasis(r).what}: measured server CPU per job and the job's wall time on an idle registry. ` +
      "N jobs starting together need N × CPU ÷ wall cores on average (bursts are worse; caches in front help):",
    "",
    table(
      [
        "server",
        "CPU per npm ci",
        "npm ci wall",
        "CPU per cold install",
        ...[10, 50, 200, 1000].map((n) => `${n} parallel jobs`),
      ],
      cap.ci.map((c) => [
        c.server,
        `${fmt(c.cpuMsPerCi, 0)} ms`,
        `${fmt(c.ciWallS)} s`,
        `${fmt(c.cpuMsPerInstall, 0)} ms`,
        ...c.fleet.map((f) => `${fmt(f.cores, 1)} cores → ${f.instances}`),
      ]),
    ),
    "",
    ...capacityProse(r, cap),
    "",
  );

  const disturbed = r.workloads.flatMap((w) =>
    SERVERS.flatMap((s) =>
      (r.load[w.id]?.[s]?.runs ?? [])
        .map((x, i) => ({ x, i }))
        .filter(({ x }) => (x.otherCores ?? 0) >= 0.3)
        .map(({ x, i }) => `${w.id} ${s} run ${i + 1} (${fmt(x.otherCores)} cores)`),
    ),
  );
  const notes = [...r.notes];
  if (disturbed.length) {
    notes.push(
      `Other processes used ≥ 0.3 cores during ${disturbed.length} load runs: ${disturbed.slice(0, 12).join(", ")}${disturbed.length > 12 ? ", …" : ""}.`,
    );
  }
  const logs = SERVERS.flatMap((s) =>
    (r.serverLogs[s] ?? []).map((l) => `    ${s}: ${l.slice(0, 240)}`),
  );
  out.push("## What the profiles showed", "", ...PROFILE_NOTES, "");
  out.push(
    "## Observations",
    "",
    ...notes.map((n) => `- ${n}`),
    "",
    logs.length
      ? "Warnings and errors the servers printed (first lines):\n"
      : "No server printed a warning or error during the run (Packr and Verdaccio log at warn).",
    ...(logs.length ? [...logs, ""] : [""]),
  );

  out.push(
    "## How to reproduce",
    "",
    "```sh",
    "pnpm install",
    "pnpm bench          # this file and bench/results/latest.json; about 22 minutes",
    "pnpm bench:smoke    # the same code on a tiny tree, well under a minute; bench/results/smoke.json",
    "```",
    "",
    "What it runs, with the exact settings:",
    "",
    "- Fixtures: `npm install --package-lock-only --ignore-scripts express@^4 eslint@^8` in a temp dir against the public registry, " +
      "every `resolved` tarball downloaded once (integrity checked) into `bench/.cache/`, listed in `bench/.cache/fixtures-full.json`.",
    "- Packr: `node --import tsx apps/registry/src/server.ts` with `PORT=<free> HOST=127.0.0.1 PACKR_PUBLIC_URL=http://127.0.0.1:<port> " +
      "PACKR_DATA_DIR=<fresh temp dir> PACKR_LOG_LEVEL=warn NODE_ENV=production`; token from `POST /-/v1/login`.",
    "- Verdaccio 6.8.0: `node bench/node_modules/verdaccio/bin/verdaccio -c <config>`; config: storage in a temp dir, htpasswd " +
      "(`max_users: 100`), `security.api.jwt` (JWT tokens), no uplinks, `'@*/*'` and `'**'` `{access: $all, publish: $authenticated}`, " +
      "`max_body_size: 200mb`, logs at warn; user created with `PUT /-/user/org.couchdb.user:bench`.",
    "- Bare server: `node --import tsx bench/src/bare-server.ts <capture>`: node:http answering the status, headers and bytes captured " +
      "from Packr (full and abbreviated, plain and gzip; tarballs) from memory, origin rewritten to its own.",
    `- GET load: autocannon({connections: ${p.load?.connections}, duration: ${p.load?.durationS}, headers: {accept, "accept-encoding": "gzip, deflate", authorization?}}), ` +
      "the equivalent of `autocannon -c 50 -d 10 -H 'accept: application/json' -H 'accept-encoding: gzip, deflate' <url>`; abbreviated uses " +
      "`accept: application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*`.",
    "- Install: `npm install --no-audit --no-fund --ignore-scripts --registry <url>/ --userconfig <fresh> --cache <fresh>` in a fresh dir whose " +
      "package.json depends on the roots at their resolved versions; `npm ci` the same way from the first lockfile.",
    "",
  );
  return out.join("\n");
}

function capacityProse(r: Results, cap: Capacity): string[] {
  const packrCi = cap.ci.find((c) => c.server === "packr");
  const tarCpu = r.load.tarball?.packr?.serverCpuPerReqUs ?? Number.NaN;
  const smallCpu = r.load["small-full"]?.packr?.serverCpuPerReqUs ?? Number.NaN;
  const jobs200 = packrCi?.fleet.find((f) => f.jobs === 200);
  const reqPerCi = r.fixtures.count;
  // Bytes are known for the whole tree only; the model speaks of it even when Packr failed it.
  const mbPerCi = r.fixtures.bytes / 2 ** 20;
  const ciWall = packrCi?.ciWallS ?? Number.NaN;
  return [
    "Where the shared services give out first (estimates from the request mix, not measured here: this run uses the embedded PGlite and the filesystem store):",
    "",
    `- **PostgreSQL.** Each packument GET does one indexed lookup (access and revision; the bytes come from the instance's cache), and a tarball GET ` +
      `one lookup on a cache miss. A cold install of this tree is ~${r.fixtures.names} packument GETs + ${reqPerCi} tarball GETs, an \`npm ci\` ~${reqPerCi} tarball GETs. ` +
      `At Packr's ${fmt(smallCpu, 0)} µs per small packument GET, one instance core makes ≈ ${fmt(1e6 / smallCpu, 0)} such lookups/s; a 2–4 core PostgreSQL ` +
      "answers on the order of 20–50 k primary-key selects/s, so it saturates around 5–15 registry instances busy with packument reads, before anything else does. " +
      "Publishes hold the package row lock while rebuilding the documents, so publish rate to one package is bounded by that transaction, not by instances.",
    `- **Blob store.** An \`npm ci\` of the whole tree moves ${fmt(mbPerCi, 1)} MB of tarballs; at ${fmt(ciWall)} s per job, 200 parallel jobs ≈ ${fmt((200 * mbPerCi) / ciWall, 0)} MB/s. ` +
      `Streaming through the registry costs ${fmt(tarCpu, 0)} µs CPU per tarball GET; with S3 in \`redirect\` mode the bytes bypass the registry entirely, ` +
      "so the object store's bandwidth (and per-prefix request rate, ~5.5 k GET/s on AWS S3) is the limit, and the registry only signs URLs.",
    `- **Redis.** Packr does not use Redis yet (REDIS_URL is not read), so it cannot be the bottleneck today; the token check's 2-second cache and the packument cache are per instance.`,
    `- So for ${jobs200?.jobs ?? 200} parallel \`npm ci\` jobs of ${installBasis(r).what} Packr needs ≈ ${fmt(jobs200?.cores, 1)} cores of registry (${jobs200?.instances ?? "–"} instances at 70%), ` +
      "and a CDN or S3 redirects take the tarball bytes off the instances; PostgreSQL matters once packument reads dominate (cold caches, lockfile-less installs).",
  ];
}

function installTable(inst: Record<string, InstallResult>): string {
  return table(
    [
      "server",
      "median s",
      "× bare",
      "runs s",
      "packages",
      "server CPU s (median)",
      "peak RSS MiB",
      "npm ci s",
      "npm ci server CPU s",
    ],
    SERVERS.map((s) => {
      const x = inst[s];
      const b = inst.bare;
      return [
        s,
        fmt((x?.medianMs ?? Number.NaN) / 1000),
        fmt(ratio(x?.medianMs, b?.medianMs)),
        (x?.runs ?? []).map((y) => (y.ok ? fmt(y.ms / 1000) : "failed")).join(", "),
        String(x?.runs[0]?.installed ?? "–"),
        fmt((x?.medianServerCpuMs ?? Number.NaN) / 1000),
        fmt(Math.max(...(x?.runs ?? []).map((y) => y.peakRssMiB)), 0),
        x?.ci ? (x.ci.ok ? fmt(x.ci.ms / 1000) : "failed") : "–",
        x?.ci ? fmt(x.ci.serverCpuMs / 1000) : "–",
      ];
    }),
  );
}

export async function writeMarkdown(r: Results, file: string): Promise<void> {
  await writeFile(file, `${renderMarkdown(r)}\n`);
  // The repo's lint formats Markdown too (aligned tables): leave the file as biome would.
  const biome = path.join(REPO_ROOT, "node_modules", ".bin", "biome");
  const res = await runCommand(biome, ["format", "--write", file], {
    cwd: REPO_ROOT,
    timeoutMs: 60_000,
  });
  if (res.code !== 0) console.error(`biome format ${file}: ${res.stderr.slice(0, 400)}`);
}

/** A compact table on stdout (what the smoke run shows in CI logs). */
export function printSummary(results: Results): void {
  const r = withCells(results);
  const lines: string[] = ["", `== ${r.mode} run: ${r.durationS} s`, ""];
  lines.push(
    `${"workload".padEnd(20)}${"packr r/s".padStart(11)}${"verd. r/s".padStart(11)}${"bare r/s".padStart(11)}` +
      `${"P µs/req".padStart(10)}${"V µs/req".padStart(10)}${"B µs/req".padStart(10)}`,
  );
  for (const w of r.workloads) {
    const c = (s: string) => r.load[w.id]?.[s];
    lines.push(
      `${w.id.padEnd(20)}${fmt(c("packr")?.rps, 0).padStart(11)}${fmt(c("verdaccio")?.rps, 0).padStart(11)}${fmt(c("bare")?.rps, 0).padStart(11)}` +
        `${fmt(c("packr")?.serverCpuPerReqUs, 0).padStart(10)}${fmt(c("verdaccio")?.serverCpuPerReqUs, 0).padStart(10)}${fmt(c("bare")?.serverCpuPerReqUs, 0).padStart(10)}`,
    );
  }
  lines.push("");
  for (const t of targets(r)) {
    lines.push(
      `${t.met === null ? "n/a " : t.met ? "met " : "MISS"}  ${t.workload}: ${t.measured}`,
    );
  }
  console.log(lines.join("\n"));
}
