import type { RateLimiter } from "./auth/rate-limiter.ts";
import type { Permission, Role } from "./auth/roles.ts";
import type { SessionSigner } from "./auth/sessions.ts";
import type { TokenService } from "./auth/tokens.ts";
import type { Database, Tx } from "./db/client.ts";
import type { DownloadCounter } from "./downloads/download-counter.ts";
import type { PackrError } from "./errors.ts";
import type { PackageCache } from "./packages/package-cache.ts";
import type { PackumentCache } from "./packages/packument-cache.ts";
import type { TarballCache } from "./packages/tarball-cache.ts";
import type { RegistrySigner } from "./signing/registry-signer.ts";
import type { BlobStore } from "./storage/blob-store.ts";
import type { Uplink } from "./uplink/uplink.ts";

export type TokenKind = "login" | "personal" | "ci";

/** Who is calling. Every core verb decides authorization from this and nothing else. */
export type Actor =
  | {
      type: "anonymous";
      /** Why a presented credential was rejected; raised only when the call needs authentication. */
      authError?: PackrError;
    }
  | {
      type: "token";
      tokenId: string;
      tokenKind: TokenKind;
      userId: string;
      userName: string;
      userEmail: string | null;
      isAdmin: boolean;
      role: Role;
      permissions: readonly Permission[];
      /** npm scopes (`@acme`) the token may publish to; empty = all. */
      scopes: readonly string[];
      orgId: string | null;
    }
  | {
      /** A person signed in to the dashboard (a `packr_session`); accepted by the admin API only. */
      type: "session";
      sessionId: string;
      userId: string;
      userName: string;
      userEmail: string | null;
      isAdmin: boolean;
    }
  | { type: "system"; reason: string };

export type TokenActor = Extract<Actor, { type: "token" }>;
export type SessionActor = Extract<Actor, { type: "session" }>;

/** Settings of the sign-in flows, from config. */
export type IdentitySettings = {
  /** Where people are sent to approve a device code (`<dashboard>/cli/auth`), no trailing slash. */
  dashboardUrl: string;
  /** RFC 8628 polling interval the registry asks for, in seconds. */
  deviceIntervalSeconds: number;
  /** How long a device code (and npm's web login) stays usable, in seconds. */
  deviceCodeTtlSeconds: number;
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
  /** Tarball downloads, counted in memory and flushed in batches. */
  downloads: DownloadCounter;
  publicUrl: () => string;
  now: () => Date;
  sessions: SessionSigner;
  rateLimiter: RateLimiter;
  identity: IdentitySettings;
  /** Access of a new scoped package published without `--access` (PACKR_SCOPED_DEFAULT_ACCESS). */
  scopedDefaultAccess: "restricted" | "public";
};

export type ServiceContext = {
  deps: Deps;
  actor: Actor;
  requestId: string;
  ip?: string | undefined;
};

export type { Database, Tx };
