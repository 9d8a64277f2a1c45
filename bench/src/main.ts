import { execFileSync } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { ACCEPT_ABBREVIATED, ACCEPT_FULL, CaptureWriter } from "./capture.ts";
import { type FixtureSetName, loadFixtures, rootsAvoiding } from "./fixtures.ts";
import { runInstalls } from "./install.ts";
import { type LoadOptions, runLoadMatrix, type Workload } from "./load.ts";
import {
  currentRss,
  freePort,
  installCleanupHandlers,
  killAllNow,
  loadavg,
  machineInfo,
  makeTempDir,
  peakRss,
} from "./proc.ts";
import { concurrentPublishes, pickCliFixtures, publishFixtures, publishGrowth } from "./publish.ts";
import { printSummary, type Results, writeMarkdown } from "./report.ts";
import {
  BENCH_DIR,
  REPO_ROOT,
  type Server,
  type ServerName,
  startBare,
  startPackr,
  startVerdaccio,
} from "./servers.ts";

/**
 * `pnpm bench` (full, by hand: 15–25 minutes) and `pnpm bench:smoke` (the same code at tiny sizes,
 * well under a minute, so the benchmark cannot rot). See bench/README in RESULTS.md for what each
 * phase measures and why.
 */

type Mode = "full" | "smoke";

type Plan = {
  set: FixtureSetName;
  cliPublishes: number;
  growthVersions: number;
  growthEvery: number;
  concurrent: number;
  load: LoadOptions;
  installReps: number;
  packrStartAttempts: number;
  /** Unscoped packument measured as "small", and the scoped one. */
  small: string;
  scoped: string;
  tarballOf: string;
};

const PLANS: Record<Mode, Plan> = {
  full: {
    set: "full",
    cliPublishes: 5,
    growthVersions: 2000,
    growthEvery: 100,
    concurrent: 50,
    load: { reps: 3, durationS: 10, connections: 50, warmupS: 2 },
    installReps: 3,
    packrStartAttempts: 4,
    small: "ms",
    scoped: "@humanwhocodes/module-importer",
    tarballOf: "express",
  },
  smoke: {
    set: "smoke",
    cliPublishes: 1,
    growthVersions: 100,
    growthEvery: 20,
    // Verdaccio needs ~0.1 s per publish in a burst; 20 keeps the smoke run short.
    concurrent: 20,
    // 24 load runs: 0.8 s each keeps the whole smoke run under a minute with server starts.
    load: { reps: 1, durationS: 0.8, connections: 50, warmupS: 0 },
    installReps: 1,
    packrStartAttempts: 2,
    small: "ms",
    scoped: "@humanwhocodes/module-importer",
    tarballOf: "debug",
  },
};

const GROWTH = "bench-growth";

function parseMode(argv: string[]): Mode | "render" {
  const i = argv.indexOf("--mode");
  const m = i >= 0 ? argv[i + 1] : "smoke";
  if (m !== "full" && m !== "smoke" && m !== "render") {
    throw new Error(`--mode full|smoke|render, not ${m}`);
  }
  return m;
}

/** `--mode render`: RESULTS.md again from results/latest.json, after a change to the report. */
async function render(): Promise<void> {
  const file = path.join(BENCH_DIR, "results", "latest.json");
  const r = JSON.parse(await readFile(file, "utf8")) as Results;
  await writeMarkdown(r, path.join(BENCH_DIR, "RESULTS.md"));
  printSummary(r);
}

function log(line: string): void {
  const t = new Date().toISOString().slice(11, 19);
  console.log(`[${t}] ${line}`);
}

function encodeName(name: string): string {
  return `/${name.replace("/", "%2f")}`;
}

async function tarballPath(s: Server, name: string, version: string): Promise<string> {
  const res = await fetch(s.url + encodeName(name), { headers: { accept: ACCEPT_FULL } });
  if (!res.ok) throw new Error(`${s.name}: GET ${name} answered ${res.status}`);
  const doc = (await res.json()) as { versions?: Record<string, { dist?: { tarball?: string } }> };
  const url = doc.versions?.[version]?.dist?.tarball;
  if (!url) throw new Error(`${s.name}: ${name}@${version} has no dist.tarball`);
  return new URL(url).pathname;
}

function gitDescribe(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
    }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "apps", "packages"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
    }).trim();
    return dirty ? `${head} + uncommitted changes in apps/ or packages/` : head;
  } catch {
    return "unknown";
  }
}

async function main(): Promise<void> {
  const mode = parseMode(process.argv.slice(2));
  if (mode === "render") return render();
  const plan = PLANS[mode];
  const started = Date.now();
  const servers: Server[] = [];
  installCleanupHandlers();
  const cacheDir = path.join(BENCH_DIR, ".cache");
  const resultsDir = path.join(BENCH_DIR, "results");
  await mkdir(cacheDir, { recursive: true });
  await mkdir(resultsDir, { recursive: true });
  const npmVersion = execFileSync("npm", ["--version"], { encoding: "utf8" }).trim();
  const results: Partial<Results> = {
    mode,
    startedAt: new Date().toISOString(),
    machine: machineInfo(npmVersion),
    loadavgBefore: loadavg(),
    packrRevision: gitDescribe(),
    plan: { ...plan },
    notes: [],
  };
  const captureDir = await makeTempDir("capture");
  try {
    log(
      `mode ${mode}; ${results.machine?.cores} cores, ${results.machine?.model}, Node ${process.version}`,
    );
    const set = await loadFixtures(plan.set, cacheDir);
    results.fixtures = {
      set: set.set,
      count: set.fixtures.length,
      names: new Set(set.fixtures.map((f) => f.name)).size,
      bytes: set.fixtures.reduce((a, f) => a + f.size, 0),
      roots: set.roots,
    };
    log(`fixtures: ${set.fixtures.length} name@versions (${results.fixtures.names} names)`);

    log("starting Packr and Verdaccio");
    const [packr, verdaccio] = await Promise.all([
      startPackr(plan.packrStartAttempts),
      startVerdaccio(),
    ]);
    servers.push(packr, verdaccio);
    const rssStart: Record<string, number> = {
      packr: currentRss(packr.pid),
      verdaccio: currentRss(verdaccio.pid),
    };

    log("publishing every fixture by PUT (interleaved), and a few with npm publish");
    const cli = pickCliFixtures(set, plan.cliPublishes);
    results.publish = await publishFixtures([packr, verdaccio], set, cacheDir, cli);
    for (const [name, p] of Object.entries(results.publish)) {
      log(
        `  ${name}: PUT ${p.put.ok}/${p.put.count} ok, p50 ${p.put.p50Ms} ms, p95 ${p.put.p95Ms} ms; ` +
          `npm publish ${p.cli.ok}/${p.cli.count} ok, p50 ${p.cli.p50Ms} ms`,
      );
      for (const f of [...p.put.failures, ...p.cli.failures]) {
        log(`    refused ${f.id}: ${f.status} ${(f.error ?? "").slice(0, 200)}`);
      }
    }
    // Fixtures Packr refused cannot be installed from it; say so, and find out whether it even
    // serves the name (the bare server then takes those documents from Verdaccio).
    const refused = new Set<string>();
    for (const f of results.publish.packr?.put.failures ?? []) {
      const name = f.id.slice(0, f.id.lastIndexOf("@"));
      refused.add(name);
      const get = await fetch(packr.url + encodeName(name), { headers: { accept: ACCEPT_FULL } });
      results.notes?.push(
        `Packr refused to publish ${f.id} (${f.status}: ${(f.error ?? "").slice(0, 160)}); ` +
          `GET ${encodeName(name)} on Packr answers ${get.status}, on Verdaccio ` +
          `${(await fetch(verdaccio.url + encodeName(name))).status}.`,
      );
      await get.arrayBuffer();
    }

    log(`publish growth: ${plan.growthVersions} versions of ${GROWTH}`);
    results.growth = await publishGrowth(
      [packr, verdaccio],
      GROWTH,
      plan.growthVersions,
      plan.growthEvery,
      (i) => {
        if (i % (plan.growthEvery * 5) === 0 || i === plan.growthVersions) log(`  ${i} versions`);
      },
    );

    log(`${plan.concurrent} concurrent publishes of one package`);
    results.concurrent = {};
    for (const s of [packr, verdaccio]) {
      results.concurrent[s.name] = [
        await concurrentPublishes(s, "bench-concurrent-existing", plan.concurrent, true),
        await concurrentPublishes(s, "bench-concurrent-new", plan.concurrent, false),
      ];
      for (const c of results.concurrent[s.name] ?? []) {
        log(
          `  ${s.name} ${c.precreated ? "existing" : "new"}: ${c.succeeded}/${c.attempted} ok, ` +
            `${c.present} present, ${c.wallMs} ms ${JSON.stringify(c.statuses)}`,
        );
      }
    }

    // The bare server answers Packr's bytes: capture them now that everything is published.
    log("capturing Packr's responses for the bare server");
    const barePort = await sameWidthPort(packr.port);
    const capture = new CaptureWriter(`http://127.0.0.1:${barePort}`);
    const names = [...new Set(set.fixtures.map((f) => f.name))];
    const sizes: Record<string, { full: number; abbreviated: number }> = {};
    // What Packr refused comes from Verdaccio, so the bare server can still serve the whole tree.
    const source = (name: string) => (refused.has(name) ? verdaccio : packr);
    for (const name of [...names, GROWTH]) {
      sizes[name] = await capture.packument(source(name).url, encodeName(name));
    }
    // The measured tarball: the root's version if it is a root, else the first in the set.
    const tarVersion =
      set.roots[plan.tarballOf] ??
      set.fixtures.find((f) => f.name === plan.tarballOf)?.version ??
      "";
    let tarballBytes = 0;
    for (const f of set.fixtures) {
      const from = source(f.name);
      const n = await capture.tarball(from.url, await tarballPath(from, f.name, f.version));
      if (f.name === plan.tarballOf && f.version === tarVersion) tarballBytes = n;
    }
    await capture.write(captureDir);
    const bare = await startBare(captureDir, barePort);
    servers.push(bare);
    rssStart.bare = currentRss(bare.pid);
    results.docSizes = {
      small: { name: plan.small, ...(sizes[plan.small] ?? { full: 0, abbreviated: 0 }) },
      scoped: { name: plan.scoped, ...(sizes[plan.scoped] ?? { full: 0, abbreviated: 0 }) },
      big: { name: GROWTH, ...(sizes[GROWTH] ?? { full: 0, abbreviated: 0 }) },
      tarball: { name: plan.tarballOf, bytes: tarballBytes },
    };

    const all = [packr, verdaccio, bare];
    const workloads = await buildWorkloads(all, plan, tarVersion);
    results.workloads = workloads.map((w) => ({ id: w.id, label: w.label, paths: w.paths }));
    log(
      `GET load: ${workloads.length} workloads × 3 servers × ${plan.load.reps} reps × ${plan.load.durationS} s, ` +
        `${plan.load.connections} connections`,
    );
    results.load = await runLoadMatrix(all, workloads, plan.load, log);

    log(`cold npm install of the tree (${plan.installReps}× per server, interleaved), then npm ci`);
    results.install = await runInstalls(all, set.roots, set.fixtures.length, plan.installReps, log);
    if (refused.size > 0) {
      // The tree cannot come from Packr; measure the part of it that can, on all three.
      const subset = rootsAvoiding(set, refused);
      if (Object.keys(subset).length > 0) {
        log(`npm install of the roots that avoid what Packr refused: ${JSON.stringify(subset)}`);
        results.installSubset = {
          roots: subset,
          result: await runInstalls(all, subset, null, plan.installReps, log),
        };
      }
    }

    results.rss = {};
    for (const s of all) {
      results.rss[s.name] = {
        startMiB: mib(rssStart[s.name] ?? 0),
        endMiB: mib(currentRss(s.pid)),
        lastPeakMiB: mib(peakRss(s.pid)),
      };
    }
    results.serverLogs = {};
    for (const s of all) results.serverLogs[s.name] = interestingLines(s.output());
  } catch (err) {
    // A failed run is only useful with what the servers said: print the tail of each log.
    for (const s of servers)
      console.error(`--- ${s.name} output (tail) ---\n${s.output().slice(-4_000)}`);
    throw err;
  } finally {
    for (const s of servers.reverse()) await s.stop().catch(() => {});
    killAllNow();
    await rm(captureDir, { recursive: true, force: true });
  }
  results.loadavgAfter = loadavg();
  results.finishedAt = new Date().toISOString();
  results.durationS = Math.round((Date.now() - started) / 1000);
  const final = results as Results;
  await writeFile(
    path.join(resultsDir, mode === "full" ? "latest.json" : "smoke.json"),
    `${JSON.stringify(final, null, 2)}\n`,
  );
  printSummary(final);
  if (mode === "full") await writeMarkdown(final, path.join(BENCH_DIR, "RESULTS.md"));
  log(`done in ${final.durationS} s`);
}

function mib(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}

/** Warnings, errors and stack traces a server printed; the rest is start-up chatter. */
function interestingLines(out: string): string[] {
  return out
    .split("\n")
    .filter((l) => /error|warn|exception|"status":5\d\d/i.test(l))
    .filter((l) => !/superuser privileges|recommends Node\.js|trace-warnings|http address/i.test(l))
    .slice(0, 40);
}

/**
 * A free port with as many digits as Packr's, so rewriting Packr's origin into the bare
 * server's keeps every document the same length. Bounded: ephemeral ports are all 5 digits.
 */
async function sameWidthPort(port: number): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freePort();
    if (String(p).length === String(port).length) return p;
  }
  return freePort();
}

async function buildWorkloads(
  servers: Server[],
  plan: Plan,
  tarVersion: string,
): Promise<Workload[]> {
  const same = (p: string) =>
    Object.fromEntries(servers.map((s) => [s.name, p])) as Record<ServerName, string>;
  const tarballPaths = Object.fromEntries(
    await Promise.all(
      servers.map(async (s) => [s.name, await tarballPath(s, plan.tarballOf, tarVersion)]),
    ),
  ) as Record<ServerName, string>;
  // npm sends gzip on every request; registries that precompute gzip should get the benefit.
  const gz = { "accept-encoding": "gzip, deflate" };
  const abbr = { ...gz, accept: ACCEPT_ABBREVIATED };
  const full = { ...gz, accept: ACCEPT_FULL };
  const small = same(encodeName(plan.small));
  const big = same(encodeName(GROWTH));
  return [
    {
      id: "small-abbreviated",
      label: `small packument (${plan.small}), abbreviated`,
      paths: small,
      headers: abbr,
      auth: false,
    },
    {
      id: "small-full",
      label: `small packument (${plan.small}), full`,
      paths: small,
      headers: full,
      auth: false,
    },
    {
      id: "small-full-token",
      label: `small packument (${plan.small}), full, with a token`,
      paths: small,
      headers: full,
      auth: true,
    },
    {
      id: "scoped-full",
      label: `scoped packument (${plan.scoped}), full`,
      paths: same(encodeName(plan.scoped)),
      headers: full,
      auth: false,
    },
    {
      id: "tarball",
      label: `tarball (${plan.tarballOf}@${tarVersion})`,
      paths: tarballPaths,
      headers: gz,
      auth: false,
    },
    {
      id: "tarball-token",
      label: `tarball (${plan.tarballOf}@${tarVersion}), with a token`,
      paths: tarballPaths,
      headers: gz,
      auth: true,
    },
    {
      id: "big-abbreviated",
      label: `${plan.growthVersions}-version packument, abbreviated`,
      paths: big,
      headers: abbr,
      auth: false,
    },
    {
      id: "big-full",
      label: `${plan.growthVersions}-version packument, full`,
      paths: big,
      headers: full,
      auth: false,
    },
  ];
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  killAllNow();
  process.exit(1);
});
