import { sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` (UTC) of a time. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/**
 * Download counts, kept in memory and written in batches: a tarball GET costs one map increment
 * (the day string is recomputed only when the UTC day changes), never a query. `flush()` runs on
 * a timer and on shutdown, upserting one row per (package, version, day) with the summed count;
 * a failed flush puts its counts back for the next one, so nothing counted is lost short of the
 * process dying between flushes.
 */
export class DownloadCounter {
  /** packageId → version → day → count */
  private pending = new Map<string, Map<string, Map<string, number>>>();
  private day = "";
  private dayEnds = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** The batch being written: still counted by reads until its rows are committed. */
  private inFlight: Counts | undefined;

  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  /** The hot path: one download of `packageId@version`. */
  record(packageId: string, version: string): void {
    const t = this.now();
    if (t >= this.dayEnds) {
      this.day = utcDay(t);
      this.dayEnds = (Math.floor(t / DAY_MS) + 1) * DAY_MS;
    }
    add(this.pending, packageId, version, this.day, 1);
  }

  /** Counts of a package not yet flushed, between two days inclusive (reads add them to the table's). */
  pendingFor(packageId: string, from: string, to: string): number {
    let n = 0;
    for (const counts of [this.pending, this.inFlight]) {
      for (const days of counts?.get(packageId)?.values() ?? []) {
        for (const [day, count] of days) if (day >= from && day <= to) n += count;
      }
    }
    return n;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.flush().catch(() => {}), intervalMs);
    this.timer.unref();
  }

  /** Write everything counted so far; concurrent calls share one write. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    if (this.pending.size === 0) return Promise.resolve();
    const batch = this.pending;
    this.pending = new Map();
    this.inFlight = batch;
    this.flushing = this.write(batch)
      .catch((err) => {
        this.merge(batch);
        throw err;
      })
      .finally(() => {
        this.inFlight = undefined;
        this.flushing = undefined;
      });
    return this.flushing;
  }

  /** Stop the timer and write what is left (graceful shutdown). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(batch: Map<string, Map<string, Map<string, number>>>): Promise<void> {
    const rows: { packageId: string; version: string; day: string; n: number }[] = [];
    for (const [packageId, versions] of batch) {
      for (const [version, days] of versions) {
        for (const [day, n] of days) rows.push({ packageId, version, day, n });
      }
    }
    // 500 rows per statement keeps parameters well under PostgreSQL's limit; one transaction, so
    // a failure puts the whole batch back without any of it already counted in the table.
    await this.db.transaction(async (tx) => {
      for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500);
        const values = sql.join(
          chunk.map((r) => sql`(${r.packageId}, ${r.version}, ${r.day}::date, ${r.n}::bigint)`),
          sql`, `,
        );
        // Joined with packages: counts of a package deleted meanwhile are dropped, not an FK error.
        await tx.execute(sql`
        insert into usage_metrics (package_id, version, day, downloads)
        select v.package_id, v.version, v.day, v.n
        from (values ${values}) as v(package_id, version, day, n)
        join packages p on p.id = v.package_id
        on conflict (package_id, version, day)
        do update set downloads = usage_metrics.downloads + excluded.downloads`);
      }
    });
  }

  private merge(batch: Counts): void {
    for (const [packageId, versions] of batch) {
      for (const [version, days] of versions) {
        for (const [day, n] of days) add(this.pending, packageId, version, day, n);
      }
    }
  }
}

/** packageId → version → day → count */
type Counts = Map<string, Map<string, Map<string, number>>>;

function add(counts: Counts, packageId: string, version: string, day: string, n: number): void {
  let versions = counts.get(packageId);
  if (!versions) {
    versions = new Map();
    counts.set(packageId, versions);
  }
  let days = versions.get(version);
  if (!days) {
    days = new Map();
    versions.set(version, days);
  }
  days.set(day, (days.get(day) ?? 0) + n);
}
