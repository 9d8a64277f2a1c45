import path from "node:path";
import {
  ACCESS_CHANGED,
  AccessCache,
  AuditChainer,
  BlobSweeper,
  backfillSearchDocuments,
  type Config,
  createBlobStore,
  createJobHandlers,
  type DatabaseHandle,
  type Deps,
  DownloadCounter,
  InProcessRunner,
  OUTBOX_CHANNEL,
  OutboxRelay,
  openDatabase,
  PACKAGE_CHANGED,
  PackageCache,
  PackumentCache,
  RateLimiter,
  RegistrySigner,
  registerSigningKey,
  resolveSecrets,
  type Secrets,
  SessionSigner,
  TarballCache,
  TokenService,
  Uplink,
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
  /** Hands committed outbox jobs to the in-process runner (started unless PACKR_RUN_JOBS=false). */
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
  const database: DatabaseHandle = config.databaseUrl
    ? await openDatabase({ driver: "postgres", url: config.databaseUrl })
    : await openDatabase({
        driver: "pglite",
        dataDir: opts.inMemory ? undefined : path.join(config.dataDir, "db"),
      });
  // Search documents for packages changed before they existed (a no-op query once they all have one).
  await backfillSearchDocuments(database.db);
  const tokens = new TokenService(database.db, {
    current: secrets.jwt,
    previous: config.jwtPreviousSecrets,
  });
  const signer = new RegistrySigner(secrets.signingKey);
  await registerSigningKey(database.db, signer.key);
  const packageCache = new PackageCache();
  await database.listen(PACKAGE_CHANGED, {
    onNotify: (name) => packageCache.invalidate(name),
    onListening: () => packageCache.resume(),
    onLost: () => packageCache.suspend(),
  });
  // Who may read what: dropped per user by every access change, wholesale when notices may be lost.
  const access = new AccessCache(database.db);
  await database.listen(ACCESS_CHANGED, {
    onNotify: (payload) => access.onNotify(payload),
    onListening: () => access.clear(),
    onLost: () => access.clear(),
  });
  let boundUrl = `http://localhost:${config.port}`;
  const logger = createLogger(
    config.logLevel,
    resolveLogFormat(config.logFormat, {
      isTTY: process.stdout.isTTY === true,
      production: config.production,
    }),
  );
  const downloads = new DownloadCounter(database.db);
  downloads.start(config.downloadsFlushMs);
  const rewriteThreads = config.uplink ? createRewriteThreads(secrets.signingKey) : undefined;
  const deps: Deps = {
    db: database.db,
    blobStore: createBlobStore(config),
    tokens,
    packumentCache: new PackumentCache(),
    packageCache,
    tarballCache: new TarballCache(),
    signer,
    uplink: config.uplink ? new Uplink(config.uplink, config.privateScopes) : undefined,
    documentRewriter: rewriteThreads?.rewrite,
    downloads,
    publicUrl: () => config.publicUrl ?? boundUrl,
    now: () => new Date(),
    sessions: new SessionSigner(secrets.session),
    rateLimiter: new RateLimiter(),
    identity: {
      dashboardUrl: config.dashboardUrl,
      deviceIntervalSeconds: config.deviceIntervalSeconds,
      deviceCodeTtlSeconds: config.deviceCodeTtlSeconds,
      tokenTtl: config.tokenTtl,
      signup: config.signup,
    },
    scopedDefaultAccess: config.scopedDefaultAccess,
    scopeClaim: config.scopeClaim,
    access,
    webhooks: config.webhooks,
  };
  const analysis: AnalysisThreads | undefined =
    config.analysisThreads > 0
      ? createAnalysisThreads({ threads: config.analysisThreads })
      : undefined;
  const relay = new OutboxRelay(
    database.db,
    new InProcessRunner(
      createJobHandlers(deps, { docGen: config.docGen, analyzer: analysis?.analyze }),
    ),
    {
      onError: (err, job) =>
        logger.error({
          msg: "job failed",
          topic: job?.topic,
          jobId: job?.id,
          attempt: job?.attempt,
          error: err instanceof Error ? err.message : String(err),
        }),
    },
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
      await chainer.stop();
      await analysis?.close();
      await rewriteThreads?.close();
      await downloads
        .close()
        .catch((err) => logger.error({ msg: "download counts lost", error: String(err) }));
      await tokens.close().catch(() => {});
      await database.close();
    },
  };
}
