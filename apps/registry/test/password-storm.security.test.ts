/**
 * A storm of wrong passwords against a real registry process: the limits answer 429 with
 * Retry-After, and password hashing (scrypt, 128 MiB and ~100 ms each on libuv's threadpool) runs
 * on a bounded pool, so a tarball GET in the middle of the storm (file reads on the same
 * threadpool) is served about as fast as without it.
 */
import { randomBytes } from "node:crypto";
import { makeTarballSync, publishBody } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RegistryProcess, startRegistryProcess } from "./harness.ts";

let registry: RegistryProcess;
let tarballUrl: string;

beforeAll(async () => {
  // Loopback is the trusted proxy here, so the storm can come "from" many client addresses.
  registry = await startRegistryProcess({
    env: { PACKR_TRUSTED_PROXIES: "127.0.0.1", PACKR_LOG_LEVEL: "warn" },
  });
  const login = await fetch(`${registry.url}/-/v1/login`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": "192.0.2.250" },
    body: JSON.stringify({ name: "admin", password: registry.adminPassword }),
  });
  expect(login.status).toBe(201);
  const { token } = (await login.json()) as { token: string };
  // Over the in-memory tarball cache's 1 MiB item limit: every GET reads the file again, on the
  // threadpool the storm would otherwise fill.
  const bytes = makeTarballSync(
    { name: "storm-target", version: "1.0.0" },
    { "blob.bin": randomBytes(2 * 1024 * 1024) },
  );
  const put = await fetch(`${registry.url}/storm-target`, {
    method: "PUT",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(publishBody("storm-target", "1.0.0", { bytes })),
  });
  expect(put.status).toBe(201);
  tarballUrl = `${registry.url}/storm-target/-/storm-target-1.0.0.tgz`;
  tarballSize = bytes.byteLength;
  const first = await fetch(tarballUrl);
  expect(Buffer.from(await first.arrayBuffer()).equals(bytes)).toBe(true);
}, 120_000);

let tarballSize = 0;

afterAll(async () => registry?.stop());

async function timedGet(): Promise<number> {
  const started = performance.now();
  const res = await fetch(tarballUrl);
  const body = await res.arrayBuffer();
  if (res.status !== 200 || body.byteLength !== tarballSize) throw new Error("bad tarball");
  return performance.now() - started;
}

const stats = (ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0),
    max: Math.round(sorted[sorted.length - 1] ?? 0),
  };
};

describe("a storm of 200 parallel wrong passwords", () => {
  it("is answered with 429s, and tarball GETs keep their latency", async () => {
    const baselineMs: number[] = [];
    for (let i = 0; i < 30; i++) baselineMs.push(await timedGet());

    // Half from one address at one name (the per-address limit), half from 100 addresses at 100
    // unknown names (no limit applies: only the bounded hashing pool stands in the way).
    const attempts = Array.from({ length: 200 }, (_, i) =>
      fetch(`${registry.url}/-/v1/login`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-forwarded-for": i < 100 ? "198.51.100.1" : `203.0.113.${i - 100}`,
        },
        body: JSON.stringify({ name: i < 100 ? "admin" : `guess-${i}`, password: `wrong-${i}` }),
      }).then(async (res) => ({
        status: res.status,
        retryAfter: res.headers.get("retry-after"),
        body: (await res.json()) as { error: string; code: string },
        single: i < 100,
      })),
    );
    let done = false;
    const storm = Promise.all(attempts).finally(() => {
      done = true;
    });
    const stormMs: number[] = [];
    while (!done || stormMs.length < 30) stormMs.push(await timedGet());
    const results = await storm;

    const base = stats(baselineMs);
    const during = stats(stormMs);
    const count = (pred: (r: (typeof results)[number]) => boolean) => results.filter(pred).length;
    const limited = count((r) => r.status === 429 && /Too many wrong passwords/.test(r.body.error));
    const busy = count(
      (r) => r.status === 429 && /busy checking other passwords/.test(r.body.error),
    );
    const wrong = count((r) => r.status === 401);
    console.log(
      `password storm: 200 attempts → ${wrong} × 401 (hashed), ${limited} × 429 rate limit, ${busy} × 429 hashing pool full; ` +
        `tarball GET (2 MiB) baseline p50 ${base.p50} ms max ${base.max} ms (n=${base.n}), ` +
        `during storm p50 ${during.p50} ms max ${during.max} ms (n=${during.n})`,
    );

    expect(results.every((r) => r.status === 401 || r.status === 429)).toBe(true);
    for (const r of results.filter((x) => x.status === 429)) {
      expect(r.body.code).toBe("RATE_LIMITED");
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    // The one address gets at most its 10 attempts hashed: counted before hashing, so a parallel
    // burst cannot slip past a check made before any of its attempts failed.
    expect(count((r) => r.single && r.status === 401)).toBeLessThanOrEqual(10);
    expect(count((r) => r.single && r.status === 429)).toBeGreaterThanOrEqual(90);
    // The hundred addresses outran the pool: the excess was refused at once, not queued.
    expect(busy).toBeGreaterThan(0);
    expect(wrong + limited + busy).toBe(200);
    // Generous bounds (the machine running tests is shared and noisy): without the bounded pool
    // the storm's hashes fill every libuv thread and a tarball waits behind tens of seconds of them.
    expect(during.p50).toBeLessThan(10 * base.p50 + 200);
    expect(during.max).toBeLessThan(10 * base.max + 200);
  }, 180_000);
});
