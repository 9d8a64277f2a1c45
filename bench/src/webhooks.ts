/**
 * Webhook delivery figures (issue 18), side by side for the two ways jobs run:
 *
 * - "in-process": the registry alone (no REDIS_URL), its relay runs the handlers itself;
 * - "bullmq": the registry with REDIS_URL hands jobs to BullMQ, one apps/worker process runs them.
 *
 * For each: (a) deliveries per second — N `package.published` events committed at once (outbox
 * rows, as a publish commits them), fanned out to one hook and POSTed to a loopback receiver (a
 * process of its own), timed from commit to the last `succeeded` row; (b) publish latency (PUT
 * p50/p95) with 10 hooks subscribed vs none, interleaved in blocks on the same registry, with the
 * deliveries of the hooked blocks running in the background as they would. A script, not a test:
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres pnpm --filter @packr/bench run webhooks [events] [publishes]
 *
 * It makes a scratch database per mode on that server (dropped at the end), its own redis-server
 * on a free port, and kills every process it started.
 */
import type { ChildProcess } from "node:child_process";
import path from "node:path";
import { DELIVER_EVENT, enqueueJob, openDatabase } from "@packr/core";
import { createScratchDatabase, startRedisServer, type TestRedis } from "@packr/core/testing";
import { sql } from "drizzle-orm";
import {
  childEnv,
  cpuMicros,
  freePort,
  installCleanupHandlers,
  loadavg,
  makeTempDir,
  sleep,
  spawnTracked,
  stopProcess,
} from "./proc.ts";
import { publishBody, put } from "./publish.ts";
import { REPO_ROOT, type Server, startPackr } from "./servers.ts";
import { percentile, round } from "./stats.ts";
import { makeTarball } from "./tarball.ts";

const base = process.env.DATABASE_URL;
if (!base) {
  console.error("Set DATABASE_URL to a PostgreSQL server (a scratch database is made on it).");
  process.exit(2);
}
const EVENTS = Number(process.argv[2] ?? 2000);
/** Publishes per arm of (b), in blocks of BLOCK alternating none/hooks (ABBA order). */
const PUBLISHES = Number(process.argv[3] ?? 200);
const BLOCK = 25;
const HOOKS = 10;

type Mode = "in-process" | "bullmq";
type Result = {
  mode: Mode;
  deliveries: number;
  seconds: number;
  perSecond: number;
  registryCpuMsPerDelivery: number;
  workerCpuMsPerDelivery: number | null;
  publish: { none: number[]; hooks: number[]; hookDeliveries: number };
};

installCleanupHandlers();

/** A receiver in a process of its own (so it takes no CPU from whoever sends): answers 200. */
async function startReceiver(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawnTracked(process.execPath, [
    "-e",
    `require("node:http").createServer((q, s) => { q.resume(); q.on("end", () => s.end("ok")); })
       .listen(${port}, "127.0.0.1", () => console.log("listening"));`,
  ]);
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`receiver exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}/hook`, child };
}

async function startWorker(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawnTracked(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: path.join(REPO_ROOT, "apps", "worker"),
    env: childEnv({ HOST: "127.0.0.1", PACKR_WORKER_PORT: "0", ...env, PACKR_LOG_LEVEL: "info" }),
  });
  let out = "";
  child.stdout?.on("data", (d) => {
    out = (out + String(d)).slice(-20_000);
  });
  child.stderr?.on("data", (d) => {
    out = (out + String(d)).slice(-20_000);
  });
  const until = Date.now() + 60_000;
  while (!out.includes('"msg":"worker started"')) {
    if (child.exitCode !== null) throw new Error(`worker exited:\n${out}`);
    if (Date.now() > until) throw new Error(`worker did not start in 60 s:\n${out}`);
    await sleep(100);
  }
  return child;
}

async function api(server: Server, method: string, route: string, body?: unknown) {
  const res = await fetch(`${server.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

function versionBody(server: Server, name: string, version: string): string {
  const packageJson = { name, version, description: "webhook bench" };
  return publishBody(server.url, {
    name,
    version,
    packageJson,
    tgz: makeTarball({
      "package.json": JSON.stringify(packageJson),
      "index.js": "module.exports = 1;\n",
    }),
  });
}

async function runMode(mode: Mode, receiverUrl: string): Promise<Result> {
  const scratch = await createScratchDatabase(base as string);
  let redis: TestRedis | undefined;
  let worker: ChildProcess | undefined;
  let server: Server | undefined;
  const handle = await openDatabase({ driver: "postgres", url: scratch.url });
  const db = handle.db;
  const count = async (where: ReturnType<typeof sql>) => {
    const rows = (await db.execute(
      sql`select count(*)::int as n from webhook_deliveries where ${where}`,
    )) as unknown as Array<{ n: number }> | { rows: Array<{ n: number }> };
    const list = Array.isArray(rows) ? rows : rows.rows;
    return list[0]?.n ?? 0;
  };
  try {
    const env: Record<string, string> = {
      DATABASE_URL: scratch.url,
      PACKR_DATA_DIR: await makeTempDir("webhooks-data"),
      PACKR_WEBHOOK_ALLOW_HTTP: "true",
      PACKR_WEBHOOK_ALLOW_PRIVATE: "true",
      PACKR_LOG_LEVEL: "error",
    };
    if (mode === "bullmq") {
      redis = await startRedisServer();
      env.REDIS_URL = redis.url;
    }
    server = await startPackr(2, 5_000, [], env);
    if (mode === "bullmq") {
      worker = await startWorker(env);
    }

    // (a) deliveries per second.
    const name = `bench-hooked-${mode}`;
    const hook = await api(server, "POST", "/api/v1/admin/webhooks", {
      url: receiverUrl,
      events: ["package.published"],
      scope: name,
    });
    const hookId: string = hook.webhook.id;
    const first = await put(server, name, versionBody(server, name, "1.0.0"));
    if (first.status !== 201) throw new Error(`publish: ${first.status} ${first.error}`);
    const deadline = (ms: number) => Date.now() + ms;
    let until = deadline(60_000);
    while ((await count(sql`webhook_id = ${hookId} and status = 'succeeded'`)) < 1) {
      if (Date.now() > until) throw new Error("the warm-up delivery did not arrive");
      await sleep(100);
    }
    const at = new Date().toISOString();
    const cpu0 = { reg: cpuMicros(server.pid), wk: worker?.pid ? cpuMicros(worker.pid) : 0 };
    const t0 = performance.now();
    await db.transaction(async (tx) => {
      for (let i = 0; i < EVENTS; i++) {
        await enqueueJob(tx, {
          topic: DELIVER_EVENT,
          payload: {
            id: `evt_bench${mode.replace("-", "")}${i}`,
            type: "package.published",
            orgId: null,
            packageName: name,
            version: "1.0.0",
            userId: null,
            actor: { type: "system", name: "bench" },
            data: {},
            occurredAt: at,
          },
        });
      }
    });
    until = deadline(600_000);
    let done = 0;
    while (done < EVENTS + 1) {
      if (Date.now() > until) throw new Error(`only ${done - 1} of ${EVENTS} delivered in 10 min`);
      await sleep(50);
      done = await count(sql`webhook_id = ${hookId} and status = 'succeeded'`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const regCpu = (cpuMicros(server.pid) - cpu0.reg) / 1000;
    const wkCpu = worker?.pid ? (cpuMicros(worker.pid) - cpu0.wk) / 1000 : null;
    const failed = await count(sql`webhook_id = ${hookId} and status <> 'succeeded'`);
    if (failed > 0) throw new Error(`${failed} attempts did not succeed`);
    console.log(
      `  ${mode}: ${EVENTS} deliveries in ${seconds.toFixed(2)} s = ${Math.round(EVENTS / seconds)}/s`,
    );

    // (b) publish latency, 10 hooks vs none, interleaved.
    const pub = `bench-pub-${mode}`;
    let v = 0;
    const publishBlock = async (into: number[] | null) => {
      for (let i = 0; i < BLOCK; i++) {
        const r = await put(
          server as Server,
          pub,
          versionBody(server as Server, pub, `1.0.${v++}`),
        );
        if (r.status !== 201) throw new Error(`publish: ${r.status} ${r.error}`);
        into?.push(r.ms);
      }
    };
    /** Wait until every event is fanned out and every delivery attempted. */
    const drain = async () => {
      const until = deadline(180_000);
      for (;;) {
        const rows = (await db.execute(
          sql`select count(*)::int as n from outbox where processed_at is null and topic in ('event.deliver', 'webhook.deliver')`,
        )) as unknown as Array<{ n: number }> | { rows: Array<{ n: number }> };
        const jobs = (Array.isArray(rows) ? rows : rows.rows)[0]?.n ?? 0;
        if (jobs === 0 && (await count(sql`status = 'pending'`)) === 0) return;
        if (Date.now() > until) throw new Error("events or deliveries still pending after 3 min");
        await sleep(100);
      }
    };
    await api(server, "DELETE", `/api/v1/admin/webhooks/${hookId}`);
    await publishBlock(null); // warm-up
    const none: number[] = [];
    const hooks: number[] = [];
    let hookDeliveries = 0;
    const rounds = Math.ceil(PUBLISHES / BLOCK);
    for (let r = 0; r < rounds; r++) {
      for (const arm of r % 2 === 0 ? ["none", "hooks"] : ["hooks", "none"]) {
        if (arm === "none") {
          await publishBlock(none);
          continue;
        }
        // The events of the block before are fanned out before the hooks exist.
        await drain();
        const ids: string[] = [];
        for (let h = 0; h < HOOKS; h++) {
          const created = await api(server, "POST", "/api/v1/admin/webhooks", {
            url: receiverUrl,
            events: ["package.published"],
            scope: pub,
          });
          ids.push(created.webhook.id);
        }
        await publishBlock(hooks);
        await drain();
        for (const id of ids) {
          hookDeliveries += await count(sql`webhook_id = ${id} and status = 'succeeded'`);
          await api(server, "DELETE", `/api/v1/admin/webhooks/${id}`);
        }
      }
    }
    return {
      mode,
      deliveries: EVENTS,
      seconds,
      perSecond: EVENTS / seconds,
      registryCpuMsPerDelivery: regCpu / EVENTS,
      workerCpuMsPerDelivery: wkCpu === null ? null : wkCpu / EVENTS,
      publish: { none, hooks, hookDeliveries },
    };
  } finally {
    if (worker) await stopProcess(worker, 30_000);
    await server?.stop();
    await redis?.stop();
    await handle.close();
    await scratch.drop();
  }
}

const started = Date.now();
const load0 = loadavg();
const receiver = await startReceiver();
const results: Result[] = [];
try {
  console.log(`(a) ${EVENTS} events to one hook, (b) ${PUBLISHES} publishes per arm:`);
  for (const mode of ["in-process", "bullmq"] as const)
    results.push(await runMode(mode, receiver.url));
} finally {
  await stopProcess(receiver.child);
}

const ms = (x: number) => `${round(x, 1)} ms`;
console.log(
  `\nWebhook figures, ${new Date().toISOString().slice(0, 10)}, ${Math.round((Date.now() - started) / 1000)} s; load average before ${load0.join(" ")}, after ${loadavg().join(" ")}\n`,
);
console.log(
  `| jobs run by | deliveries/s (${EVENTS} events, 1 hook) | CPU per delivery: registry / worker | publish p50 / p95, no hooks | publish p50 / p95, ${HOOKS} hooks | deliveries during the hooked publishes |`,
);
console.log("| --- | --- | --- | --- | --- | --- |");
for (const r of results) {
  const p = r.publish;
  console.log(
    `| ${r.mode === "bullmq" ? "BullMQ, 1 apps/worker process (concurrency 8)" : "registry process (in-process runner)"} | ${Math.round(r.perSecond)} (${r.seconds.toFixed(1)} s) | ${round(r.registryCpuMsPerDelivery, 2)} ms / ${r.workerCpuMsPerDelivery === null ? "-" : `${round(r.workerCpuMsPerDelivery, 2)} ms`} | ${ms(percentile(p.none, 50))} / ${ms(percentile(p.none, 95))} (n=${p.none.length}) | ${ms(percentile(p.hooks, 50))} / ${ms(percentile(p.hooks, 95))} (n=${p.hooks.length}) | ${p.hookDeliveries} |`,
  );
}
process.exit(0);
