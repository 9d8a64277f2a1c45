import path from "node:path";
import { RateLimiter } from "./auth/rate-limiter.ts";
import { ACCESS_CHANGED, AccessCache } from "./auth/user-access.ts";
import { createBilling } from "./billing/stripe-client.ts";
import type { Config } from "./config/config.ts";
import { resolveSecrets, type Secrets } from "./config/secrets.ts";
import type { Deps } from "./context.ts";
import { type DatabaseHandle, openDatabase } from "./db/client.ts";
import { DownloadCounter } from "./downloads/download-counter.ts";
import { PACKAGE_CHANGED, PackageCache } from "./packages/package-cache.ts";
import { PackumentCache } from "./packages/packument-cache.ts";
import { TarballCache } from "./packages/tarball-cache.ts";
import { SessionSigner } from "./sessions/session-signer.ts";
import { RegistrySigner } from "./signing/registry-signer.ts";
import { registerSigningKey } from "./signing/signing-keys.ts";
import { createBlobStore } from "./storage/index.ts";
import { TokenService } from "./tokens/token-service.ts";
import { Uplink } from "./uplink/uplink.ts";

export type ProcessDeps = {
  deps: Deps;
  database: DatabaseHandle;
  secrets: Secrets;
  /**
   * Writes the buffered download counts and closes what `openProcessDeps` opened; rejects after
   * closing everything when the counts could not be written.
   */
  close(): Promise<void>;
};

/**
 * The Deps of one Packr process (the registry, apps/worker), wired one way from Config: the
 * database (PostgreSQL with DATABASE_URL, else embedded PGlite under the data dir), the blob
 * store, tokens, signer, caches kept fresh by NOTIFY, the uplink. What only one process has is
 * passed in: the registry's public URL once it is bound, its thread-pool document rewriter.
 */
export async function openProcessDeps(
  config: Config,
  opts: {
    /** Keep the embedded database in memory (tests); the blob store still uses dataDir. */
    inMemory?: boolean;
    publicUrl?: () => string;
    documentRewriter?: Deps["documentRewriter"];
    /** Already resolved by the caller (resolveSecrets), when it needed them first. */
    secrets?: Secrets;
  } = {},
): Promise<ProcessDeps> {
  const secrets = opts.secrets ?? (await resolveSecrets(config));
  const database = config.databaseUrl
    ? await openDatabase({ driver: "postgres", url: config.databaseUrl })
    : await openDatabase({
        driver: "pglite",
        dataDir: opts.inMemory ? undefined : path.join(config.dataDir, "db"),
      });
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
  const downloads = new DownloadCounter(database.db);
  downloads.start(config.downloadsFlushMs);
  const deps: Deps = {
    db: database.db,
    blobStore: createBlobStore(config),
    tokens,
    packumentCache: new PackumentCache(),
    packageCache,
    tarballCache: new TarballCache(),
    signer,
    uplink: config.uplink ? new Uplink(config.uplink, config.privateScopes) : undefined,
    documentRewriter: opts.documentRewriter,
    downloads,
    publicUrl: opts.publicUrl ?? (() => config.publicUrl ?? `http://localhost:${config.port}`),
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
    billing: config.billing ? createBilling(config.billing) : undefined,
  };
  return {
    deps,
    database,
    secrets,
    async close() {
      const lost = await downloads.close().then(
        () => undefined,
        (err: unknown) => err ?? new Error("download counts lost"),
      );
      await tokens.close().catch(() => {});
      await database.close();
      if (lost) throw lost;
    },
  };
}
