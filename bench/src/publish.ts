import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { type Fixture, type FixtureSet, fixtureBytes, syntheticVersion } from "./fixtures.ts";
import { childEnv, cpuMicros, makeTempDir, runCommand } from "./proc.ts";
import type { Server, ServerName } from "./servers.ts";
import { compareVersions, median, percentile, round, sum } from "./stats.ts";
import { digest } from "./tarball.ts";

/**
 * Publishing: npm's PUT body built by hand (what libnpmpublish sends, protocol §3.1), the real
 * `npm publish` CLI for a handful, the growth series and the concurrency burst.
 */

export type PublishInput = {
  name: string;
  version: string;
  packageJson: Record<string, unknown>;
  readme?: string;
  readmeFilename?: string;
  tgz: Buffer;
};

/** The body `npm publish` sends (libnpmpublish buildMetadata), for a registry at `base`. */
export function publishBody(base: string, p: PublishInput): string {
  const d = digest(p.tgz);
  const file = `${p.name}-${p.version}.tgz`;
  const unscoped = p.name.replace(/^@[^/]+\//, "");
  const manifest: Record<string, unknown> = {
    ...p.packageJson,
    name: p.name,
    version: p.version,
    _id: `${p.name}@${p.version}`,
    readme: p.readme ?? "ERROR: No README data found!",
    ...(p.readmeFilename ? { readmeFilename: p.readmeFilename } : {}),
    _nodeVersion: "20.20.2",
    _npmVersion: "11.19.1",
    dist: {
      integrity: d.integrity,
      shasum: d.shasum,
      // npm builds this itself (always http:, unscoped file name); registries rewrite it.
      tarball: `${base.replace(/^https:/, "http:")}/${p.name}/-/${unscoped}-${p.version}.tgz`,
    },
  };
  return JSON.stringify({
    _id: p.name,
    name: p.name,
    description: p.packageJson.description,
    "dist-tags": { latest: p.version },
    versions: { [p.version]: manifest },
    // Scoped names default to restricted on Packr; the benchmark reads anonymously too.
    access: p.name.startsWith("@") ? "public" : null,
    _attachments: {
      [file]: {
        content_type: "application/octet-stream",
        data: p.tgz.toString("base64"),
        length: p.tgz.length,
      },
    },
  });
}

export type PutResult = { status: number; ms: number; error?: string };

export async function put(server: Server, name: string, body: string): Promise<PutResult> {
  const started = performance.now();
  try {
    const res = await fetch(`${server.url}/${name.replace("/", "%2f")}`, {
      method: "PUT",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${server.token}`,
        "npm-command": "publish",
        "user-agent": "npm/11.19.1 node/v20.20.2 linux x64 workspaces/false",
      },
      body,
      signal: AbortSignal.timeout(120_000),
    });
    const text = await res.text();
    const ms = performance.now() - started;
    return res.ok
      ? { status: res.status, ms }
      : { status: res.status, ms, error: text.slice(0, 300) };
  } catch (err) {
    return { status: 0, ms: performance.now() - started, error: String(err) };
  }
}

// --- all fixtures, by PUT and by the CLI ---------------------------------------------------------

export type PublishSummary = {
  count: number;
  ok: number;
  failures: { id: string; status: number; error?: string }[];
  totalMs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  serverCpuMs: number;
};

export type FixturePublishResult = { put: PublishSummary; cli: PublishSummary };

function summary(
  results: { id: string; r: PutResult }[],
  totalMs: number,
  cpu: number,
): PublishSummary {
  const ms = results.map((x) => x.r.ms);
  const failures = results
    .filter((x) => x.r.status < 200 || x.r.status >= 300)
    .map((x) => ({ id: x.id, status: x.r.status, error: x.r.error }));
  return {
    count: results.length,
    ok: results.length - failures.length,
    failures,
    totalMs: round(totalMs),
    p50Ms: round(percentile(ms, 50)),
    p95Ms: round(percentile(ms, 95)),
    maxMs: round(Math.max(0, ...ms)),
    serverCpuMs: round(cpu / 1000),
  };
}

/**
 * Fixtures for the CLI: a few names with one version in the set (so none is already published by
 * PUT), no prerelease, and no publishConfig (which could point npm at another registry).
 */
export function pickCliFixtures(set: FixtureSet, count: number): Fixture[] {
  const perName = new Map<string, number>();
  for (const f of set.fixtures) perName.set(f.name, (perName.get(f.name) ?? 0) + 1);
  const candidates = set.fixtures.filter(
    (f) =>
      perName.get(f.name) === 1 &&
      !f.version.includes("-") &&
      !("publishConfig" in f.packageJson) &&
      !Object.keys(set.roots).includes(f.name),
  );
  const step = Math.max(1, Math.floor(candidates.length / count));
  return candidates.filter((_, i) => i % step === 0).slice(0, count);
}

/**
 * Every fixture to every server, interleaved (A B A B…) so that machine noise hits both alike;
 * in ascending version order per name so "latest" ends on the highest, as on the real registry.
 */
export async function publishFixtures(
  servers: Server[],
  set: FixtureSet,
  cacheDir: string,
  cliFixtures: Fixture[],
): Promise<Record<string, FixturePublishResult>> {
  const viaCli = new Set(cliFixtures.map((f) => `${f.name}@${f.version}`));
  const ordered = set.fixtures
    .filter((f) => !viaCli.has(`${f.name}@${f.version}`))
    .sort((a, b) =>
      a.name === b.name ? compareVersions(a.version, b.version) : a.name < b.name ? -1 : 1,
    );
  const putResults = new Map<ServerName, { id: string; r: PutResult }[]>();
  const putMs = new Map<ServerName, number>();
  const cpuBefore = new Map(servers.map((s) => [s.name, cpuMicros(s.pid)]));
  for (const f of ordered) {
    const tgz = await fixtureBytes(cacheDir, f);
    for (const s of servers) {
      const r = await put(s, f.name, publishBody(s.url, { ...f, tgz }));
      putResults.set(s.name, [
        ...(putResults.get(s.name) ?? []),
        { id: `${f.name}@${f.version}`, r },
      ]);
      putMs.set(s.name, (putMs.get(s.name) ?? 0) + r.ms);
    }
  }
  const cpuPut = new Map(servers.map((s) => [s.name, cpuMicros(s.pid)]));
  const cliResults = await publishWithCli(servers, cliFixtures, cacheDir);
  const out: Record<string, FixturePublishResult> = {};
  for (const s of servers) {
    const before = cpuBefore.get(s.name) ?? 0;
    const mid = cpuPut.get(s.name) ?? 0;
    out[s.name] = {
      put: summary(putResults.get(s.name) ?? [], putMs.get(s.name) ?? 0, mid - before),
      cli: summary(
        cliResults.get(s.name) ?? [],
        sum((cliResults.get(s.name) ?? []).map((x) => x.r.ms)),
        cpuMicros(s.pid) - mid,
      ),
    };
  }
  return out;
}

/** `npm publish <tarball>` with a throwaway HOME, cache and .npmrc holding the server's token. */
async function publishWithCli(
  servers: Server[],
  fixtures: Fixture[],
  cacheDir: string,
): Promise<Map<ServerName, { id: string; r: PutResult }[]>> {
  const results = new Map<ServerName, { id: string; r: PutResult }[]>();
  const home = await makeTempDir("cli");
  try {
    for (const f of fixtures) {
      const tgz = path.join(cacheDir, f.file);
      for (const s of servers) {
        const npmrc = path.join(home, `${s.name}.npmrc`);
        await writeFile(
          npmrc,
          `registry=${s.url}/\n//127.0.0.1:${s.port}/:_authToken=${s.token}\nupdate-notifier=false\n`,
        );
        const res = await runCommand(
          "npm",
          [
            "publish",
            tgz,
            "--registry",
            `${s.url}/`,
            "--userconfig",
            npmrc,
            "--cache",
            path.join(home, `cache-${s.name}`),
            "--ignore-scripts",
            "--access",
            "public",
            "--tag",
            "latest",
          ],
          { cwd: home, env: childEnv({ HOME: home }), timeoutMs: 120_000 },
        );
        const r: PutResult =
          res.code === 0
            ? { status: 201, ms: res.ms }
            : { status: 0, ms: res.ms, error: res.stderr.slice(-400) };
        results.set(s.name, [...(results.get(s.name) ?? []), { id: `${f.name}@${f.version}`, r }]);
      }
    }
  } finally {
    await rm(home, { recursive: true, force: true });
  }
  return results;
}

// --- growth ------------------------------------------------------------------------------------

export type GrowthSample = { version: number; ms: number; windowMedianMs: number };

export type GrowthResult = {
  name: string;
  versions: number;
  ok: number;
  failures: { version: string; status: number; error?: string }[];
  samples: GrowthSample[];
  firstMs: number;
  lastMs: number;
  /** Median of the last ten publishes over the median of the first ten. */
  growth: number;
};

export function growthVersion(i: number): string {
  return `1.${Math.floor(i / 1000)}.${i % 1000}`;
}

/**
 * `n` versions of one package on each server, interleaved per version. Every publish is timed;
 * the report samples every `every` versions, each sample with the median of the ten publishes
 * ending there (one publish is too noisy to compare with another on a shared machine).
 */
export async function publishGrowth(
  servers: Server[],
  name: string,
  n: number,
  every: number,
  onProgress: (i: number) => void,
): Promise<Record<string, GrowthResult>> {
  const ms = new Map<ServerName, number[]>(servers.map((s) => [s.name, []]));
  const failures = new Map<ServerName, GrowthResult["failures"]>(servers.map((s) => [s.name, []]));
  for (let i = 0; i < n; i++) {
    const version = growthVersion(i);
    const v = syntheticVersion(name, version);
    for (const s of servers) {
      const r = await put(s, name, publishBody(s.url, { name, version, ...v }));
      ms.get(s.name)?.push(r.ms);
      if (r.status < 200 || r.status >= 300) {
        failures.get(s.name)?.push({ version, status: r.status, error: r.error });
      }
    }
    if ((i + 1) % every === 0) onProgress(i + 1);
  }
  const out: Record<string, GrowthResult> = {};
  for (const s of servers) {
    const all = ms.get(s.name) ?? [];
    const window = (end: number) => median(all.slice(Math.max(0, end - 10), Math.max(10, end)));
    const points = [1];
    for (let k = every; k <= n; k += every) points.push(k);
    const samples = points.map((k) => ({
      version: k,
      ms: round(all[k - 1] ?? Number.NaN),
      windowMedianMs: round(window(k)),
    }));
    const firstMs = window(1);
    const lastMs = window(n);
    const fails = failures.get(s.name) ?? [];
    out[s.name] = {
      name,
      versions: n,
      ok: n - fails.length,
      failures: fails.slice(0, 20),
      samples,
      firstMs: round(firstMs),
      lastMs: round(lastMs),
      growth: round(lastMs / firstMs, 2),
    };
  }
  return out;
}

// --- concurrency -------------------------------------------------------------------------------

export type ConcurrentResult = {
  name: string;
  precreated: boolean;
  attempted: number;
  succeeded: number;
  present: number;
  statuses: Record<string, number>;
  wallMs: number;
  errors: string[];
};

/**
 * `n` PUTs of different versions of one package, all in flight at once: as many CI jobs
 * publishing prereleases. `precreate` publishes 0.0.1 first, else the burst also creates it.
 */
export async function concurrentPublishes(
  server: Server,
  name: string,
  n: number,
  precreate: boolean,
): Promise<ConcurrentResult> {
  if (precreate) {
    const v = syntheticVersion(name, "0.0.1");
    const r = await put(server, name, publishBody(server.url, { name, version: "0.0.1", ...v }));
    if (r.status >= 300)
      throw new Error(`${server.name}: precreate ${name}: ${r.status} ${r.error}`);
  }
  const versions = Array.from({ length: n }, (_, i) => `1.0.${i}`);
  const bodies = versions.map((version) =>
    publishBody(server.url, { name, version, ...syntheticVersion(name, version) }),
  );
  const started = performance.now();
  const results = await Promise.all(bodies.map((b) => put(server, name, b)));
  const wallMs = performance.now() - started;
  const statuses: Record<string, number> = {};
  for (const r of results) statuses[String(r.status)] = (statuses[String(r.status)] ?? 0) + 1;
  const res = await fetch(`${server.url}/${name}`, {
    headers: { accept: "application/json", authorization: `Bearer ${server.token}` },
  });
  const doc = res.ok ? ((await res.json()) as { versions?: Record<string, unknown> }) : {};
  const present = versions.filter((v) => doc.versions?.[v] !== undefined).length;
  return {
    name,
    precreated: precreate,
    attempted: n,
    succeeded: results.filter((r) => r.status >= 200 && r.status < 300).length,
    present,
    statuses,
    wallMs: round(wallMs),
    errors: [...new Set(results.filter((r) => r.error).map((r) => `${r.status} ${r.error}`))].slice(
      0,
      5,
    ),
  };
}
