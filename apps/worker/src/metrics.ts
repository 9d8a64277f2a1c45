import type { Queue } from "bullmq";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export type WorkerMetrics = {
  registry: Registry;
  /** One job settled: `completed`, `failed` (retry scheduled), or `stale` (claim gone, not run). */
  settled(topic: string, outcome: "completed" | "failed" | "stale", seconds: number): void;
};

/**
 * What `/metrics` serves (Prometheus text): jobs per topic and outcome, how long they ran, and
 * how many wait in each queue (read from Redis at scrape time), plus Node's process metrics.
 */
export function createMetrics(queues: Queue[]): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "packr_worker_" });
  const jobs = new Counter({
    name: "packr_worker_jobs_total",
    help: "Jobs this worker settled, by topic and outcome (completed, failed, stale).",
    labelNames: ["topic", "outcome"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "packr_worker_job_duration_seconds",
    help: "How long a job ran in this worker, by topic.",
    labelNames: ["topic"],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  new Gauge({
    name: "packr_worker_queue_waiting",
    help: "Jobs waiting in each BullMQ queue (all workers), read when scraped.",
    labelNames: ["queue"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const q of queues) {
        // Redis away: the gauge is left out rather than failing the whole scrape.
        const n = await q.getWaitingCount().catch(() => undefined);
        if (n !== undefined) this.set({ queue: q.name }, n);
      }
    },
  });
  return {
    registry,
    settled(topic, outcome, seconds) {
      jobs.inc({ topic, outcome });
      if (outcome !== "stale") duration.observe({ topic }, seconds);
    },
  };
}
