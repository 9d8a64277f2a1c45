import {
  AuditChainer,
  BlobSweeper,
  BullmqSink,
  backfillSearchDocuments,
  type Config,
  createJobHandlers,
  type Deps,
  InProcessRunner,
  type Job,
  OUTBOX_CHANNEL,
  OutboxRelay,
  openProcessDeps,
  resolveSecrets,
  type Secrets,
  SinkUnavailableError,
} from "@packr/core";
import { type AnalysisThreads, createAnalysisThreads } from "./analysis-threads.ts";
import { createLogger, type Logger, resolveLogFormat } from "./logger.ts";
import { type SecurityHeaders, securityHeaders } from "./security-headers.ts";
import { createRewriteThreads } from "./uplink-rewrite-threads.ts";

/** Everything one registry process holds: wired once from config, closed once on shutdown. */
export type Runtime = {
  config: Config;
  logger: Logger;
  deps: Deps;
  secrets: Secrets;
  /**
   * Hands committed outbox jobs to the in-process runner, or to BullMQ when REDIS_URL is set
   * (started unless PACKR_RUN_JOBS=false).
   */
  relay: OutboxRelay;
  /** Sent on every answer (security-headers.ts); HSTS in it when PACKR_PUBLIC_URL is https. */
  securityHeaders: SecurityHeaders;
  /** Set once the server is listening, when PACKR_PUBLIC_URL was not given. */
  setBoundUrl(url: string): void;
  close(): Promise<void>;
};

/** `inMemory` keeps the embedded database in memory (tests); the blob store still uses dataDir. */
export async function createRuntime(
  config: Config,
  opts: { inMemory?: boolean } = {},
): Promise<Runtime> {
  const secrets = await resolveSecrets(config);
  const rewriteThreads = config.uplink ? createRewriteThreads(secrets.signingKey) : undefined;
  let boundUrl = `http://localhost:${config.port}`;
  const opened = await openProcessDeps(config, {
    inMemory: opts.inMemory,
    secrets,
    publicUrl: () => config.publicUrl ?? boundUrl,
    documentRewriter: rewriteThreads?.rewrite,
  });
  const { deps, database } = opened;
  // Search documents for packages changed before they existed (a no-op query once they all have one).
  await backfillSearchDocuments(database.db);
  const logger = createLogger(
    config.logLevel,
    resolveLogFormat(config.logFormat, {
      isTTY: process.stdout.isTTY === true,
      production: config.production,
    }),
  );
  const logJobError = (err: unknown, job: Job | undefined) =>
    err instanceof SinkUnavailableError
      ? logger.warn({ msg: "jobs wait: Redis is not reachable", error: err.message })
      : logger.error({
          msg: "job failed",
          topic: job?.topic,
          jobId: job?.id,
          attempt: job?.attempt,
          error: err instanceof Error ? err.message : String(err),
        });
  // REDIS_URL: the relay hands jobs to BullMQ (apps/worker runs them), and none run here.
  // Without it, the embedded default: the same handlers run in this process.
  const bullmq = config.redisUrl ? new BullmqSink(config.redisUrl) : undefined;
  const analysis: AnalysisThreads | undefined =
    !bullmq && config.analysisThreads > 0
      ? createAnalysisThreads({ threads: config.analysisThreads })
      : undefined;
  const relay = bullmq
    ? new OutboxRelay(database.db, bullmq, { leaseMs: config.worker.leaseMs, onError: logJobError })
    : new OutboxRelay(
        database.db,
        new InProcessRunner(
          createJobHandlers(deps, {
            docGen: config.docGen,
            analyzer: analysis?.analyze,
            docsReader: analysis?.readDocs,
          }),
        ),
        { onError: logJobError },
      );
  if (config.runJobs) {
    await database.listen(OUTBOX_CHANNEL, {
      onNotify: () => relay.wake(),
      onListening: () => relay.wake(),
    });
    relay.start();
  }
  // Tarball blobs no row references (a crash between blob write and commit, a refused race):
  // deleted once older than PACKR_BLOB_SWEEP_GRACE, every PACKR_BLOB_SWEEP_INTERVAL.
  const sweeper = new BlobSweeper(deps, {
    graceMs: config.blobSweep.graceMs,
    onSwept: (r) => {
      if (r.deleted.length > 0)
        logger.info({ msg: "orphan blobs deleted", count: r.deleted.length, examined: r.examined });
    },
    onError: (err) =>
      logger.error({
        msg: "blob sweep failed",
        error: err instanceof Error ? err.message : String(err),
      }),
  });
  if (config.runJobs) sweeper.start(config.blobSweep.intervalMs);
  // Links committed audit events into their hash chain, off the request path (audit-chain.ts).
  const chainer = new AuditChainer(deps, {
    onError: (err) =>
      logger.error({
        msg: "audit chaining failed",
        error: err instanceof Error ? err.message : String(err),
      }),
  });
  if (config.runJobs) chainer.start();
  return {
    config,
    logger,
    deps,
    secrets,
    relay,
    securityHeaders: securityHeaders(config.publicUrl),
    setBoundUrl(url) {
      boundUrl = url;
    },
    async close() {
      // Jobs in flight finish (or stay in the outbox for the next start); counts are written.
      await relay.stop();
      await sweeper.stop();
      await bullmq?.close();
      await chainer.stop();
      await analysis?.close();
      await rewriteThreads?.close();
      await opened
        .close()
        .catch((err) => logger.error({ msg: "download counts lost", error: String(err) }));
    },
  };
}
