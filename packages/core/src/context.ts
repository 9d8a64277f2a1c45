import type { Actor } from "./auth/actor.ts";
import type { RateLimiter } from "./auth/rate-limiter.ts";
import type { AccessCache } from "./auth/user-access.ts";
import type { Billing } from "./billing/stripe-client.ts";
import type { ScopeClaim, WebhookConfig } from "./config/config.ts";
import type { Database, Queryable, Tx } from "./db/client.ts";
import type { DownloadCounter } from "./downloads/download-counter.ts";
import type { PackageCache } from "./packages/package-cache.ts";
import type { PackumentCache } from "./packages/packument-cache.ts";
import type { TarballCache } from "./packages/tarball-cache.ts";
import type { SessionSigner } from "./sessions/session-signer.ts";
import type { RegistrySigner } from "./signing/registry-signer.ts";
import type { BlobStore } from "./storage/blob-store.ts";
import type { TokenTtlRange } from "./tokens/token-expiry.ts";
import type { TokenService } from "./tokens/token-service.ts";
import type { DocumentRewriter } from "./uplink/rewrite-document.ts";
import type { Uplink } from "./uplink/uplink.ts";
import type { SignupPolicy } from "./users/signup-policy.ts";

/** Settings of the sign-in flows and tokens, from config. */
export type IdentitySettings = {
  /** Where people are sent to approve a device code (`<dashboard>/cli/auth`), no trailing slash. */
  dashboardUrl: string;
  /** RFC 8628 polling interval the registry asks for, in seconds. */
  deviceIntervalSeconds: number;
  /** How long a device code (and npm's web login) stays usable, in seconds. */
  deviceCodeTtlSeconds: number;
  /** The expiries a new token may ask for (PACKR_TOKEN_MIN_TTL to PACKR_TOKEN_MAX_TTL), in ms. */
  tokenTtl: TokenTtlRange;
  /** Who may create an account, and whose verified email links accounts (PACKR_SIGNUP…). */
  signup: SignupPolicy;
};

/** Infrastructure a verb may use, wired once per process (see apps/registry/src/deps.ts). */
export type Deps = {
  db: Database;
  blobStore: BlobStore;
  /** Base of absolute URLs (tarballs), without a trailing slash. */
  tokens: TokenService;
  packumentCache: PackumentCache;
  packageCache: PackageCache;
  tarballCache: TarballCache;
  signer: RegistrySigner;
  /** Public packages from an upstream registry; undefined when PACKR_UPLINK_URL is empty. */
  uplink: Uplink | undefined;
  /**
   * Rewrites large uplink documents off the request thread (the registry's worker pool); absent,
   * they are rewritten in-thread.
   */
  documentRewriter?: DocumentRewriter | undefined;
  /** Tarball downloads, counted in memory and flushed in batches. */
  downloads: DownloadCounter;
  publicUrl: () => string;
  now: () => Date;
  sessions: SessionSigner;
  rateLimiter: RateLimiter;
  identity: IdentitySettings;
  /** Access of a new scoped package published without `--access` (PACKR_SCOPED_DEFAULT_ACCESS). */
  scopedDefaultAccess: "restricted" | "public";
  /** How an unclaimed scope gets its owner (PACKR_SCOPE_CLAIM). */
  scopeClaim: ScopeClaim;
  /** Each user's org roles, team grants and maintained packages, cached for the read checks. */
  access: AccessCache;
  /** How webhooks are checked and delivered (PACKR_WEBHOOK_*). */
  webhooks: WebhookConfig;
  /** Stripe billing and plan limits; undefined (no STRIPE_SECRET_KEY) = no limits at all. */
  billing?: Billing | undefined;
};

export type ServiceContext = {
  deps: Deps;
  actor: Actor;
  requestId: string;
  ip?: string | undefined;
};

// Defined with the rest of authentication; re-exported because most verbs take them with ServiceContext.
export type { Actor, SessionActor, TokenActor, TokenKind } from "./auth/actor.ts";
export type { Database, Queryable, Tx };
