import { createHash, generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import postgres from "postgres";
import { RateLimiter } from "../auth/rate-limiter.ts";
import type { Role } from "../auth/roles.ts";
import { ACCESS_CHANGED, AccessCache } from "../auth/user-access.ts";
import type { Billing } from "../billing/stripe-client.ts";
import type { ScopeClaim, UplinkConfig, WebhookConfig } from "../config/config.ts";
import type { Deps, ServiceContext, TokenKind } from "../context.ts";
import { openDatabase } from "../db/client.ts";
import { users } from "../db/schema/index.ts";
import { DownloadCounter } from "../downloads/download-counter.ts";
import { newId } from "../ids.ts";
import { PACKAGE_CHANGED, PackageCache } from "../packages/package-cache.ts";
import { PackumentCache } from "../packages/packument-cache.ts";
import { TarballCache } from "../packages/tarball-cache.ts";
import { SessionSigner } from "../sessions/session-signer.ts";
import { RegistrySigner } from "../signing/registry-signer.ts";
import { registerSigningKey } from "../signing/signing-keys.ts";
import { FsBlobStore } from "../storage/fs-blob-store.ts";
import { TokenService } from "../tokens/token-service.ts";
import { Uplink } from "../uplink/uplink.ts";
import { OPEN_SIGNUP, type SignupPolicy } from "../users/signup-policy.ts";
import { makeTarballSync } from "./tarball.ts";

/** One key per test process: generating a P-256 key per suite is cheap, but needless. */
const TEST_SIGNING_KEY = generateKeyPairSync("ec", { namedCurve: "P-256" })
  .privateKey.export({ type: "pkcs8", format: "pem" })
  .toString();

/**
 * The databases a suite should run on: always embedded PGlite, plus the PostgreSQL server named
 * by DATABASE_URL when it is set (CI sets it). Use with `describe.each(testDrivers())`.
 */
export const testDrivers = (): Array<"pglite" | "postgres"> =>
  process.env.DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];

/** A throwaway database on the DATABASE_URL server, so suites never see each other's rows. */
export async function createScratchDatabase(
  baseUrl: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `packr_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = postgres(baseUrl, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

export type TestDeps = Deps & { close(): Promise<void> };

/** Real database (PGlite in memory, or a scratch PostgreSQL database) and a temp blob directory. */
export async function createTestDeps(
  driver: "pglite" | "postgres" = "pglite",
  /** Open this PostgreSQL database instead of a scratch one (a second "instance" on shared data). */
  sharedUrl?: string,
  opts: {
    /** An uplink (tests point it at another Packr on loopback; never the internet). */
    uplink?: UplinkConfig;
    privateScopes?: string[];
    publicUrl?: string;
    scopedDefaultAccess?: "restricted" | "public";
    scopeClaim?: ScopeClaim;
    /** Embedded database and blobs in this directory, kept on close (restart tests reopen them). */
    persist?: { dir: string };
    /** The clock every verb and the TokenService read (tests move it instead of waiting). */
    now?: () => Date;
    tokenTtl?: { minMs: number; maxMs: number };
    /**
     * Who may create an account. Default: open, for the suites about other things that sign
     * people up freely; the sign-up suites set the policy they test.
     */
    signup?: Partial<SignupPolicy>;
    /** Webhook delivery settings; default: loopback and http allowed, retries in milliseconds. */
    webhooks?: Partial<WebhookConfig>;
    /** Billing on (plan limits, Stripe); default off, as without STRIPE_SECRET_KEY. */
    billing?: Billing;
  } = {},
): Promise<TestDeps> {
  const blobDir = opts.persist?.dir ?? (await mkdtemp(path.join(os.tmpdir(), "packr-core-")));
  const base = process.env.DATABASE_URL;
  const scratch =
    driver === "postgres" && base && !sharedUrl ? await createScratchDatabase(base) : null;
  const url = sharedUrl ?? scratch?.url;
  const handle = url
    ? await openDatabase({ driver: "postgres", url, maxConnections: 25 })
    : await openDatabase({
        driver: "pglite",
        dataDir: opts.persist ? path.join(opts.persist.dir, "db") : undefined,
      });
  const downloads = new DownloadCounter(handle.db);
  const now = opts.now ?? (() => new Date());
  const tokens = new TokenService(handle.db, "test-secret-of-enough-length-for-hs256", now);
  // Wired as the registry wires it, so suites exercise the cached read paths.
  const signer = new RegistrySigner(TEST_SIGNING_KEY);
  await registerSigningKey(handle.db, signer.key);
  const packageCache = new PackageCache();
  await handle.listen(PACKAGE_CHANGED, {
    onNotify: (name) => packageCache.invalidate(name),
    onListening: () => packageCache.resume(),
    onLost: () => packageCache.suspend(),
  });
  const access = new AccessCache(handle.db);
  await handle.listen(ACCESS_CHANGED, {
    onNotify: (payload) => access.onNotify(payload),
    onListening: () => access.clear(),
    onLost: () => access.clear(),
  });
  return {
    db: handle.db,
    blobStore: new FsBlobStore(path.join(blobDir, "blobs")),
    tokens,
    packumentCache: new PackumentCache(),
    packageCache,
    tarballCache: new TarballCache(),
    signer,
    uplink: opts.uplink ? new Uplink(opts.uplink, opts.privateScopes) : undefined,
    downloads,
    publicUrl: () => opts.publicUrl ?? "http://registry.test",
    now,
    sessions: new SessionSigner("test-session-secret"),
    rateLimiter: new RateLimiter(),
    identity: {
      dashboardUrl: "http://dashboard.test",
      deviceIntervalSeconds: 5,
      deviceCodeTtlSeconds: 600,
      tokenTtl: opts.tokenTtl ?? { minMs: 5 * 60_000, maxMs: 90 * 86_400_000 },
      signup: { ...OPEN_SIGNUP, ...opts.signup },
    },
    scopedDefaultAccess: opts.scopedDefaultAccess ?? "restricted",
    scopeClaim: opts.scopeClaim ?? "first-publish",
    access,
    webhooks: { ...TEST_WEBHOOKS, ...opts.webhooks },
    billing: opts.billing,
    async close() {
      await downloads.close().catch(() => {});
      await tokens.close();
      await handle.close();
      await scratch?.drop();
      if (!opts.persist) await rm(blobDir, { recursive: true, force: true });
    },
  };
}

/**
 * Test receivers listen on loopback over http, so suites allow both; the schedule is in
 * milliseconds so a whole retry sequence runs in a test.
 */
export const TEST_WEBHOOKS: WebhookConfig = {
  retryScheduleMs: [10, 20, 30, 40, 50],
  allowHttp: true,
  allowPrivate: true,
  timeoutMs: 2_000,
  disableAfterMs: 3 * 86_400_000,
};

export const systemContext = (deps: Deps): ServiceContext => ({
  deps,
  actor: { type: "system", reason: "test" },
  requestId: "test",
});

/** npm 11's publish body (protocol §3.1) for arbitrary tarball bytes. */
export function publishBody(
  name: string,
  version: string,
  opts: {
    bytes?: Uint8Array;
    tag?: string;
    access?: "public" | "restricted" | null;
    manifest?: Record<string, unknown>;
    integrity?: string;
  } = {},
): Record<string, unknown> {
  // By default a real tarball whose package.json agrees with the manifest sent (the registry
  // compares them); `bytes` replaces it, e.g. to send a tarball that disagrees.
  const bytes = Buffer.from(
    opts.bytes ?? makeTarballSync({ name, version, ...packageJsonFields(opts.manifest ?? {}) }),
  );
  const integrity =
    opts.integrity ?? `sha512-${createHash("sha512").update(bytes).digest("base64")}`;
  return {
    _id: name,
    name,
    description: `${name} for tests`,
    "dist-tags": { [opts.tag ?? "latest"]: version },
    versions: {
      [version]: {
        name,
        version,
        description: `${name} for tests`,
        readme: `# ${name}`,
        _id: `${name}@${version}`,
        _nodeVersion: "20.20.2",
        _npmVersion: "11.19.1",
        _resolved: "/tmp/local/path.tgz",
        _from: "file:local.tgz",
        _integrity: integrity,
        ...opts.manifest,
        dist: {
          integrity,
          shasum: createHash("sha1").update(bytes).digest("hex"),
          tarball: `http://127.0.0.1/${name}/-/${name}-${version}.tgz`,
        },
      },
    },
    access: opts.access ?? null,
    _attachments: {
      [`${name}-${version}.tgz`]: {
        content_type: "application/octet-stream",
        data: bytes.toString("base64"),
        length: bytes.byteLength,
      },
    },
  };
}

/** What a package.json holds of a published manifest: everything but npm's `_` fields and dist. */
function packageJsonFields(manifest: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(manifest).filter(([k]) => !k.startsWith("_") && k !== "dist"),
  );
}

/** A user with a token of the given role, returned as the context that token authenticates to. */
export async function tokenContext(
  deps: Deps,
  spec: { user: string; role: Role; scopes?: string[]; kind?: TokenKind; isAdmin?: boolean },
): Promise<ServiceContext & { token: string }> {
  const existing = await deps.db.select().from(users).where(eq(users.name, spec.user));
  const user =
    existing[0] ??
    (
      await deps.db
        .insert(users)
        .values({
          id: newId("usr"),
          name: spec.user,
          email: `${spec.user}@example.test`,
          isAdmin: spec.isAdmin ?? false,
        })
        .returning()
    )[0];
  if (!user) throw new Error("user insert failed");
  const { token } = await deps.tokens.issue(deps.db, {
    kind: spec.kind ?? "personal",
    name: `test ${spec.role}`,
    userId: user.id,
    role: spec.role,
    scopes: spec.scopes ?? [],
    ttlSeconds: 3600,
  });
  return { deps, actor: await deps.tokens.verify(token), requestId: "test", token };
}
export { grantTeam, removeFromOrg, setOrgRole } from "./orgs.ts";
export { freeLocalPort, startRedisServer, type TestRedis } from "./redis-server.ts";
export { type LocalS3, startLocalS3 } from "./s3rver.ts";
export {
  type StripeCall,
  type StripeStandIn,
  signedStripeEvent,
  signStripePayload,
  startStripeStandIn,
  stripeSubscription,
  TEST_WEBHOOK_SECRET,
  testBillingConfig,
} from "./stripe-stand-in.ts";
export { makeTarball, makeTarballSync } from "./tarball.ts";
export { startUplinkServer, type UplinkRequest, type UplinkServer } from "./uplink-server.ts";
