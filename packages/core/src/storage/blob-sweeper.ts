import type { Database } from "../db/client.ts";
import { deleteUnusedBlobs, usedBlobKeys } from "./blob-references.ts";
import type { BlobStore } from "./blob-store.ts";

/** Where tarballs live in the store (see `tarballKey`): the only part the sweeper walks. */
const TARBALLS = "tarballs/";
/** Keys whose references are looked up in one query. */
const BATCH = 2000;

export type SweepResult = { examined: number; deleted: string[] };

/**
 * Delete tarball blobs nothing references any more, once they are older than `graceMs`. A blob is
 * written before the row that references it is committed (so a row never points at missing
 * bytes), which means a crash, a failed transaction or a publish refused by a concurrent one
 * leaves a blob behind; so can an uplink cache row an administrator's fork replaced. The grace
 * period covers a write whose row is still on its way; the per-key lock (`blob-references.ts`)
 * covers a publish of the same bytes that lands while the sweeper decides.
 *
 * Referenced means: the key of a live (not unpublished) version of any package, or of a tarball
 * in the uplink cache. An unpublished version's bytes are never served again.
 */
export async function sweepOrphanBlobs(
  deps: { db: Database; blobStore: BlobStore; now: () => Date },
  opts: { graceMs: number },
): Promise<SweepResult> {
  const cutoff = deps.now().getTime() - opts.graceMs;
  const result: SweepResult = { examined: 0, deleted: [] };
  let batch: string[] = [];
  const flush = async () => {
    const keys = batch;
    batch = [];
    const used = await usedBlobKeys(deps.db, keys);
    // Each candidate is checked again under its key's lock before it goes (a publish of the same
    // bytes may land meanwhile).
    const candidates = keys.filter((key) => !used.has(key));
    result.deleted.push(...(await deleteUnusedBlobs(deps.db, deps.blobStore, candidates)));
  };
  for await (const blob of deps.blobStore.list(TARBALLS)) {
    result.examined++;
    if (blob.modifiedAt.getTime() > cutoff) continue;
    batch.push(blob.key);
    if (batch.length >= BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  return result;
}

/**
 * `sweepOrphanBlobs` on a timer, one sweep at a time. Every instance may run one: the per-key
 * locks make concurrent sweeps safe, and a sweep is a listing plus two queries per 2,000 blobs.
 */
export class BlobSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly deps: { db: Database; blobStore: BlobStore; now: () => Date },
    private readonly opts: {
      graceMs: number;
      onSwept?: (result: SweepResult) => void;
      onError?: (err: unknown) => void;
    },
  ) {}

  /** The first sweep runs one interval after start (a restart loop must not sweep in a loop). */
  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.sweep(), intervalMs);
    this.timer.unref();
  }

  /** One sweep now, or the one already running. */
  sweep(): Promise<unknown> {
    this.running ??= sweepOrphanBlobs(this.deps, { graceMs: this.opts.graceMs })
      .then((result) => this.opts.onSwept?.(result))
      .catch((err) => this.opts.onError?.(err))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
