import path from "node:path";
import { z } from "zod";
import { LOOPBACK_PROXIES, parseProxyEntry } from "../auth/client-address.ts";
import {
  DEFAULT_LINK_TRUSTED_PROVIDERS,
  type OidcClaimRule,
  parseOidcClaimRule,
  SIGN_IN_PROVIDERS,
  type SignInProvider,
  type SignupPolicy,
} from "../users/signup-policy.ts";
import { parseDuration } from "./duration.ts";

const flag = z
  .enum(["true", "false", "1", "0", "yes", "no", ""])
  .optional()
  .transform((v) => v === "true" || v === "1" || v === "yes");

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

const bytes = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const m = /^(\d+)\s*(b|kb|mb|gb)?$/i.exec(v.trim());
      if (!m?.[1]) {
        ctx.addIssue({ code: "custom", message: `expected a size such as 100mb, got "${v}"` });
        return z.NEVER;
      }
      const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[
        (m[2] ?? "b").toLowerCase() as "b"
      ];
      return Number(m[1]) * unit;
    });

/** A duration setting in milliseconds (see duration.ts: `30s`, `15m`, `7d`; bare = ms). */
const duration = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const ms = parseDuration(v);
      if (ms === null) {
        ctx.addIssue({
          code: "custom",
          message: `expected a duration such as 500ms, 30s, 15m, 2h or 7d, got "${v}"`,
        });
        return z.NEVER;
      }
      return ms;
    });

export const DEFAULT_UPLINK_URL = "https://registry.npmjs.org";

/** Unset: the public npm registry. Empty: no uplink. Otherwise an http(s) URL. */
const uplinkUrl = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined) return DEFAULT_UPLINK_URL;
    const trimmed = v.trim();
    if (trimmed === "") return undefined;
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch {
      ctx.addIssue({ code: "custom", message: `expected an http(s) URL or nothing, got "${v}"` });
      return z.NEVER;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      ctx.addIssue({ code: "custom", message: `expected an http(s) URL, got "${v}"` });
      return z.NEVER;
    }
    return trimmed.replace(/\/+$/, "");
  });

/** `@acme,@corp` or `acme corp` → `["acme", "corp"]`; each must be a valid npm scope. */
const scopeList = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const scopes = (v ?? "")
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((s) => s.replace(/^@/, "").toLowerCase());
    for (const s of scopes) {
      if (!/^[a-z0-9][a-z0-9._~-]*$/.test(s) || s.length > 214) {
        ctx.addIssue({ code: "custom", message: `"${s.slice(0, 60)}" is not an npm scope` });
        return z.NEVER;
      }
    }
    return [...new Set(scopes)];
  });

const port = z.coerce.number().int().min(0).max(65535);

/** A comma (or space) list of lower-case entries, each checked by `valid`. */
const lowerList = (valid: RegExp, what: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const entries = (v ?? "")
        .split(/[\s,]+/)
        .filter(Boolean)
        .map((s) => s.toLowerCase());
      for (const e of entries) {
        if (!valid.test(e) || e.length > 255) {
          ctx.addIssue({ code: "custom", message: `"${e.slice(0, 60)}" is not ${what}` });
          return z.NEVER;
        }
      }
      return [...new Set(entries)];
    });

/** `groups:platform, https://acme.test/roles:release` → claim/value rules (split at the last `:`). */
const claimRules = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const rules: OidcClaimRule[] = [];
    for (const e of (v ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)) {
      const rule = parseOidcClaimRule(e);
      if (!rule) {
        ctx.addIssue({ code: "custom", message: `"${e.slice(0, 60)}" is not claim:value` });
        return z.NEVER;
      }
      rules.push(rule);
    }
    return rules;
  });

/** Unset: the providers that really verify email. Otherwise a comma list of sign-in providers. */
const providerList = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined) return [...DEFAULT_LINK_TRUSTED_PROVIDERS];
    const entries = v
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((s) => s.toLowerCase());
    for (const e of entries) {
      if (!(SIGN_IN_PROVIDERS as readonly string[]).includes(e)) {
        ctx.addIssue({
          code: "custom",
          message: `"${e.slice(0, 60)}" is not one of ${SIGN_IN_PROVIDERS.join(", ")}`,
        });
        return z.NEVER;
      }
    }
    return [...new Set(entries)] as SignInProvider[];
  });

/** `10.0.0.1, 10.1.0.0/16 fd00::/8` → the entries, each an IP address or CIDR block. */
const proxyList = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const entries = (v ?? "").split(/[\s,]+/).filter(Boolean);
    for (const e of entries) {
      if (!parseProxyEntry(e)) {
        ctx.addIssue({
          code: "custom",
          message: `"${e.slice(0, 60)}" is not an IP address or CIDR block`,
        });
        return z.NEVER;
      }
    }
    return entries;
  });

/**
 * Where things listen and how a first start is reached (DESIGN §10). PACKR_PORT wins over PORT
 * (which hosting platforms set). Each app's default URL for the other follows these ports, so a
 * changed port needs no extra setting.
 */
const ListenEnv = {
  PACKR_PORT: port.optional(),
  PORT: port.optional(),
  HOST: z.string().default("127.0.0.1"),
  PACKR_DASHBOARD_PORT: port.default(3000),
  /** The first-start `admin` gets this email: a magic link or OAuth with it signs in as admin. */
  PACKR_ADMIN_EMAIL: optionalString.pipe(z.email().max(320).optional()),
  /** `auto`: one short line per request on a terminal (unless NODE_ENV=production), else JSON. */
  PACKR_LOG_FORMAT: z.enum(["auto", "pretty", "json"]).default("auto"),
  NODE_ENV: optionalString,
};

/**
 * The URL a process started with HOST and a port is reached at: loopback and wildcard binds as
 * `localhost` (the name npm's hints and the README use), any other address as itself.
 */
export function localUrl(host: string, port: number): string {
  const name = ["127.0.0.1", "0.0.0.0", "::", "::1", "localhost"].includes(host)
    ? "localhost"
    : host;
  return `http://${name.includes(":") ? `[${name}]` : name}:${port}`;
}

/** A comma list of durations (`1m,5m,30m`), each as `duration` reads one; empty = the fallback. */
const durationList = (fallback: number[]) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const out: number[] = [];
      for (const part of v.split(",").map((s) => s.trim())) {
        const ms = part === "" ? null : parseDuration(part);
        if (ms === null) {
          ctx.addIssue({
            code: "custom",
            message: `"${part}" is not a duration: use a number with a unit (500ms, 30s, 15m, 2h, 7d), comma-separated`,
          });
          return z.NEVER;
        }
        out.push(ms);
      }
      return out;
    });

/** The registry's port: PACKR_PORT, else PORT, else 4873. */
const registryPort = (e: { PACKR_PORT?: number | undefined; PORT?: number | undefined }) =>
  e.PACKR_PORT ?? e.PORT ?? 4873;

/** Every environment variable Packr reads. Nothing else in the codebase touches process.env. */
const EnvSchema = z.object({
  ...ListenEnv,
  PACKR_PUBLIC_URL: optionalString.pipe(z.url().optional()),
  PACKR_DATA_DIR: z.string().default("./data"),
  PACKR_REGION: z.string().default("local"),
  PACKR_ADMIN_PASSWORD: optionalString,
  /** Deprecated alias: `true` is PACKR_SIGNUP=open. */
  PACKR_ALLOW_SIGNUP: flag,
  /** Who may create an account: see users/signup-policy.ts and signupPolicy below. */
  PACKR_SIGNUP: optionalString.pipe(z.enum(["allowlist", "closed", "open"]).optional()),
  PACKR_SIGNUP_EMAIL_DOMAINS: lowerList(
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/,
    "a domain",
  ),
  PACKR_SIGNUP_GITHUB_ORGS: lowerList(/^[a-z0-9][a-z0-9-]*$/, "a GitHub organization login"),
  PACKR_SIGNUP_GITLAB_GROUPS: lowerList(
    /^[a-z0-9_.][a-z0-9_.-]*(\/[a-z0-9_.][a-z0-9_.-]*)*$/,
    "a GitLab group path",
  ),
  PACKR_SIGNUP_OIDC_CLAIMS: claimRules,
  PACKR_LINK_TRUSTED_PROVIDERS: providerList,
  PACKR_MAX_BODY_SIZE: bytes(200 * 1024 ** 2),
  PACKR_LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  PACKR_DASHBOARD_URL: optionalString.pipe(z.url().optional()),
  /** Proxies (IPs, CIDRs) whose X-Forwarded-For is believed for client addresses (rate limits, audit). */
  PACKR_TRUSTED_PROXIES: proxyList,
  /** Deprecated: `true` trusts proxies on loopback only (as PACKR_TRUSTED_PROXIES=127.0.0.0/8,::1). */
  PACKR_TRUST_PROXY: flag,
  /** Private by login: every request but health and signing in needs a token or a session. */
  PACKR_READ_REQUIRES_AUTH: flag,
  PACKR_DEVICE_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(60).default(5),
  PACKR_DEVICE_CODE_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(600),
  /** The shortest and longest expiry a new token may ask for. */
  PACKR_TOKEN_MIN_TTL: duration(5 * 60_000),
  PACKR_TOKEN_MAX_TTL: duration(90 * 86_400_000),
  DATABASE_URL: optionalString,
  S3_BUCKET: optionalString,
  S3_ENDPOINT: optionalString,
  S3_REGION: z.string().default("us-east-1"),
  S3_ACCESS_KEY_ID: optionalString,
  S3_SECRET_ACCESS_KEY: optionalString,
  S3_FORCE_PATH_STYLE: flag,
  S3_TARBALL_DELIVERY: z.enum(["redirect", "proxy"]).default("redirect"),
  JWT_SECRET: optionalString,
  /**
   * Retired JWT secrets, comma-separated: tokens they signed are still accepted until they expire,
   * so JWT_SECRET can be rotated without logging everyone out. Nothing new is signed with them.
   */
  JWT_PREVIOUS_SECRETS: z
    .string()
    .optional()
    .transform((v) =>
      (v ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  SESSION_SECRET: optionalString,
  INTERNAL_API_SECRET: optionalString,
  /** PKCS#8 PEM of an ECDSA P-256 key; `\n` escapes are accepted for one-line env files. */
  PACKR_SIGNING_KEY: optionalString,
  PACKR_UPLINK_URL: uplinkUrl,
  PACKR_UPLINK_MAX_AGE: duration(120_000),
  /** Uplink misses (packages not cached yet) one anonymous address may cause per minute; 0 = no limit. */
  PACKR_UPLINK_ANONYMOUS_MISSES: z.coerce.number().int().min(0).max(1_000_000).default(60),
  PACKR_UPLINK_TIMEOUT: duration(10_000),
  PACKR_PRIVATE_SCOPES: scopeList,
  /** Where the packed tarballs of Packr's own clients are (default: the checkout's packages/). */
  PACKR_CLIENTS_DIR: optionalString,
  /** Access of a new scoped package published without `--access` (npmjs: restricted). */
  PACKR_SCOPED_DEFAULT_ACCESS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const value = (v ?? "").trim().toLowerCase();
      if (value === "") return "restricted" as const;
      if (value === "restricted" || value === "public") return value;
      ctx.addIssue({ code: "custom", message: `expected restricted or public, got "${v}"` });
      return z.NEVER;
    }),
  /**
   * How an unclaimed scope gets its owner: the first publish into it creates the org of that name
   * with the publisher as admin (`first-publish`), or only an administrator creates orgs (`admin-only`).
   */
  PACKR_SCOPE_CLAIM: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const value = (v ?? "").trim().toLowerCase();
      if (value === "") return "first-publish" as const;
      if (value === "first-publish" || value === "admin-only") return value;
      ctx.addIssue({ code: "custom", message: `expected first-publish or admin-only, got "${v}"` });
      return z.NEVER;
    }),
  /** Run committed jobs (analysis, docs) in this process; off when a worker deployment runs them. */
  PACKR_RUN_JOBS: z
    .enum(["true", "false", "1", "0", "yes", "no", ""])
    .optional()
    .transform((v) => v === undefined || v === "" || v === "true" || v === "1" || v === "yes"),
  /** Worker threads for the CPU-bound part of package analysis; 0 runs it on the request thread. */
  PACKR_ANALYSIS_THREADS: z.coerce.number().int().min(0).max(16).default(1),
  PACKR_DOWNLOADS_FLUSH_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
  /**
   * The blob sweeper: how old an unreferenced tarball blob must be before it is deleted (a
   * publish writes its blob just before committing the row that references it), and how often
   * it runs (0: never). It runs with the jobs (PACKR_RUN_JOBS).
   */
  PACKR_BLOB_SWEEP_GRACE: duration(3_600_000),
  PACKR_BLOB_SWEEP_INTERVAL: duration(3_600_000),
  /** Redis for BullMQ: the relay hands jobs to it and `apps/worker` runs them; unset = in process. */
  REDIS_URL: optionalString.pipe(
    z
      .string()
      .refine((v) => /^rediss?:\/\//.test(v), "expected redis:// or rediss://")
      .optional(),
  ),
  /** Delay before each webhook retry; its length is the number of retries. */
  PACKR_WEBHOOK_RETRY_SCHEDULE: durationList([60_000, 300_000, 1_800_000, 7_200_000, 86_400_000]),
  PACKR_WEBHOOK_ALLOW_HTTP: flag,
  /** Let hooks target loopback and private addresses (tests, a closed network); logged loudly. */
  PACKR_WEBHOOK_ALLOW_PRIVATE: flag,
  /** How long one delivery may take for its 2xx. */
  PACKR_WEBHOOK_TIMEOUT: duration(10_000),
  /** A hook whose every delivery failed for this long is disabled. */
  PACKR_WEBHOOK_DISABLE_AFTER: duration(3 * 86_400_000),
  /** apps/worker: where /health and /metrics listen, and jobs run at once per queue. */
  PACKR_WORKER_PORT: z.coerce.number().int().min(0).max(65535).default(4874),
  PACKR_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  /** Analyses one worker runs at once (CPU-bound: about its cores). */
  PACKR_WORKER_ANALYZE_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** AI doc generations one worker runs at once (each waits on a rate-limited API). */
  PACKR_WORKER_DOCS_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /**
   * With REDIS_URL: how long a job handed to Redis, or running in a worker, stays claimed without
   * news (the worker renews it every third while running). A job Redis lost (flush, outage) or
   * whose worker died is handed over again this long after the last news.
   */
  PACKR_WORKER_LEASE: duration(60_000),
  /** On SIGTERM, how long the worker lets the jobs in hand finish before giving them back. */
  PACKR_WORKER_SHUTDOWN_GRACE: duration(25_000),
  /** Billing (Stripe): on when STRIPE_SECRET_KEY is set, which then needs STRIPE_WEBHOOK_SECRET. */
  STRIPE_SECRET_KEY: optionalString,
  STRIPE_WEBHOOK_SECRET: optionalString,
  /** Where the Stripe client sends its calls (tests: a loopback stand-in); unset = Stripe's. */
  STRIPE_API_URL: optionalString.pipe(z.url().optional()),
  /** The Stripe price ids of the Solo and Team plans (Checkout sells them; webhooks map them back). */
  PACKR_STRIPE_PRICE_SOLO: optionalString,
  PACKR_STRIPE_PRICE_TEAM: optionalString,
  /** The page a LIMIT_EXCEEDED sentence sends people to; default: the dashboard's /billing. */
  PACKR_BILLING_URL: optionalString.pipe(z.url().optional()),
  /** How long a past-due account keeps its plan's limits after the failed payment. */
  PACKR_BILLING_GRACE: duration(7 * 86_400_000),
  DOC_GEN_ENABLED: flag,
  ANTHROPIC_API_KEY: optionalString,
  ANTHROPIC_BASE_URL: optionalString.pipe(z.url().optional()),
  DOC_GEN_MODEL: z.string().default("claude-sonnet-4-5"),
});

/**
 * Billing, present only when STRIPE_SECRET_KEY is set: without it there are no plan limits at all
 * and the billing routes answer 404.
 */
export type BillingConfig = {
  secretKey: string;
  webhookSecret: string;
  /** STRIPE_API_URL: where the Stripe client sends its calls; undefined = api.stripe.com. */
  apiUrl: string | undefined;
  /** Stripe price ids of the paid self-serve plans (undefined: that plan cannot be bought). */
  prices: { solo: string | undefined; team: string | undefined };
  /** The billing page named in LIMIT_EXCEEDED sentences and used for Checkout's return URLs. */
  billingUrl: string;
  /** PACKR_BILLING_GRACE (ms). */
  graceMs: number;
};

/** PACKR_SCOPE_CLAIM. */
export type ScopeClaim = "first-publish" | "admin-only";

/** PACKR_WEBHOOK_*: how hooks are delivered (DESIGN.md §7). */
export type WebhookConfig = {
  /** Delay before each retry (ms); its length is the number of retries. */
  retryScheduleMs: number[];
  allowHttp: boolean;
  allowPrivate: boolean;
  /** A delivery's 2xx must arrive within this (ms). */
  timeoutMs: number;
  /** Every delivery failing for this long disables the hook (ms). */
  disableAfterMs: number;
};

export type S3Config = {
  bucket: string;
  endpoint: string | undefined;
  region: string;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  forcePathStyle: boolean;
  delivery: "redirect" | "proxy";
};

export type UplinkConfig = {
  /** Base URL of the upstream registry, without a trailing slash. */
  url: string;
  /** How long a fetched document is served without asking the uplink again (ms). */
  maxAgeMs: number;
  /** How long one uplink request may take before the cached copy is served instead (ms). */
  timeoutMs: number;
  /** Uplink misses one anonymous address may cause per minute; 0 = no limit. Default 60. */
  anonymousMissesPerMinute?: number;
};

export type Config = {
  port: number;
  host: string;
  /** The dashboard's port under `pnpm start` (PACKR_DASHBOARD_PORT). */
  dashboardPort: number;
  adminEmail: string | undefined;
  /** Request and event logs: readable lines or JSON (resolved against the terminal at start). */
  logFormat: "auto" | "pretty" | "json";
  production: boolean;
  /** Base of every absolute URL Packr emits (tarballs). Undefined: derived from host and port once bound. */
  publicUrl: string | undefined;
  dataDir: string;
  region: string;
  adminPassword: string | undefined;
  /** Who may create an account and whose email links accounts (PACKR_SIGNUP and its lists). */
  signup: SignupPolicy;
  maxBodySize: number;
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
  /** The dashboard's base URL (device-flow verification page), without a trailing slash. */
  dashboardUrl: string;
  /** PACKR_TRUSTED_PROXIES (plus loopback when the deprecated PACKR_TRUST_PROXY=true). */
  trustedProxies: string[];
  /** PACKR_TRUST_PROXY was set: the server warns that it is deprecated. */
  trustProxyDeprecated: boolean;
  /** PACKR_READ_REQUIRES_AUTH: anonymous callers get 401 everywhere but health and sign-in. */
  readRequiresAuth: boolean;
  deviceIntervalSeconds: number;
  deviceCodeTtlSeconds: number;
  /** The range of expiries a new token may ask for (ms). */
  tokenTtl: { minMs: number; maxMs: number };
  databaseUrl: string | undefined;
  s3: S3Config | undefined;
  secrets: { jwt?: string; session?: string; internalApi?: string; signingKey?: string };
  /** JWT_PREVIOUS_SECRETS: retired JWT secrets whose tokens are verified until they expire. */
  jwtPreviousSecrets: string[];
  /** Public packages from an upstream registry; undefined when PACKR_UPLINK_URL is empty. */
  uplink: UplinkConfig | undefined;
  /** Scopes (without `@`) that are Packr's even before they hold a package: never looked up upstream. */
  privateScopes: string[];
  /**
   * Where the registry finds the tarballs of its own clients to publish at start (`*.tgz` in it
   * and in each of its packages' `.pack/`); undefined: the checkout's `packages/` (the app resolves it).
   */
  clientsDir: string | undefined;
  /** Access of a new scoped package whose publish names none (`npm publish` without `--access`). */
  scopedDefaultAccess: "restricted" | "public";
  /** PACKR_SCOPE_CLAIM: how an unclaimed scope gets its owner. */
  scopeClaim: ScopeClaim;
  runJobs: boolean;
  /** Worker threads `version.analyze` derives its results on (0: inline, on the request thread). */
  analysisThreads: number;
  downloadsFlushMs: number;
  /** Unreferenced blobs older than `graceMs` are deleted every `intervalMs` (0: never). */
  blobSweep: { graceMs: number; intervalMs: number };
  /** REDIS_URL: jobs go through BullMQ (apps/worker runs them); undefined = the in-process runner. */
  redisUrl: string | undefined;
  webhooks: WebhookConfig;
  /** apps/worker's own settings. */
  worker: {
    port: number;
    /** Webhook deliveries (and any other I/O-bound job) at once. */
    concurrency: number;
    analyzeConcurrency: number;
    docsConcurrency: number;
    leaseMs: number;
    shutdownGraceMs: number;
  };
  /** STRIPE_*: undefined = billing off (no plan limits). */
  billing: BillingConfig | undefined;
  /** Set when DOC_GEN_ENABLED=true and ANTHROPIC_API_KEY is given: Claude writes package docs. */
  docGen: { apiKey: string; baseUrl: string | undefined; model: string } | undefined;
};

/**
 * Parse the environment once at start. Errors name every bad variable at once, so a
 * misconfigured deployment fails fast with one readable message.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  // A token's expiry is signed in whole seconds, so a shorter minimum could not be honoured.
  if (e.PACKR_TOKEN_MIN_TTL < 1000 || e.PACKR_TOKEN_MIN_TTL > e.PACKR_TOKEN_MAX_TTL) {
    throw new Error(
      "Invalid configuration:\n  PACKR_TOKEN_MIN_TTL: must be at least 1s and no longer than PACKR_TOKEN_MAX_TTL",
    );
  }
  const signup = signupPolicy(e);
  if (e.STRIPE_SECRET_KEY && !e.STRIPE_WEBHOOK_SECRET) {
    throw new Error(
      "Invalid configuration:\n  STRIPE_WEBHOOK_SECRET: billing is on (STRIPE_SECRET_KEY is set) and needs the signing secret of the webhook endpoint /api/billing/webhook",
    );
  }
  const dashboardUrl = (e.PACKR_DASHBOARD_URL ?? localUrl(e.HOST, e.PACKR_DASHBOARD_PORT)).replace(
    /\/+$/,
    "",
  );
  const secrets: Config["secrets"] = {};
  if (e.JWT_SECRET) secrets.jwt = e.JWT_SECRET;
  if (e.SESSION_SECRET) secrets.session = e.SESSION_SECRET;
  if (e.INTERNAL_API_SECRET) secrets.internalApi = e.INTERNAL_API_SECRET;
  if (e.PACKR_SIGNING_KEY) secrets.signingKey = e.PACKR_SIGNING_KEY.replace(/\\n/g, "\n");
  return {
    port: registryPort(e),
    host: e.HOST,
    dashboardPort: e.PACKR_DASHBOARD_PORT,
    adminEmail: e.PACKR_ADMIN_EMAIL?.toLowerCase(),
    logFormat: e.PACKR_LOG_FORMAT,
    production: e.NODE_ENV === "production",
    publicUrl: e.PACKR_PUBLIC_URL?.replace(/\/+$/, ""),
    dataDir: path.resolve(e.PACKR_DATA_DIR),
    region: e.PACKR_REGION,
    adminPassword: e.PACKR_ADMIN_PASSWORD,
    signup,
    maxBodySize: e.PACKR_MAX_BODY_SIZE,
    logLevel: e.PACKR_LOG_LEVEL,
    dashboardUrl,
    trustedProxies: [
      ...new Set([...e.PACKR_TRUSTED_PROXIES, ...(e.PACKR_TRUST_PROXY ? LOOPBACK_PROXIES : [])]),
    ],
    trustProxyDeprecated: e.PACKR_TRUST_PROXY,
    readRequiresAuth: e.PACKR_READ_REQUIRES_AUTH,
    deviceIntervalSeconds: e.PACKR_DEVICE_INTERVAL_SECONDS,
    deviceCodeTtlSeconds: e.PACKR_DEVICE_CODE_TTL_SECONDS,
    tokenTtl: { minMs: e.PACKR_TOKEN_MIN_TTL, maxMs: e.PACKR_TOKEN_MAX_TTL },
    databaseUrl: e.DATABASE_URL,
    s3: e.S3_BUCKET
      ? {
          bucket: e.S3_BUCKET,
          endpoint: e.S3_ENDPOINT,
          region: e.S3_REGION,
          accessKeyId: e.S3_ACCESS_KEY_ID,
          secretAccessKey: e.S3_SECRET_ACCESS_KEY,
          forcePathStyle: e.S3_FORCE_PATH_STYLE,
          delivery: e.S3_TARBALL_DELIVERY,
        }
      : undefined,
    secrets,
    jwtPreviousSecrets: e.JWT_PREVIOUS_SECRETS,
    uplink: e.PACKR_UPLINK_URL
      ? {
          url: e.PACKR_UPLINK_URL,
          maxAgeMs: e.PACKR_UPLINK_MAX_AGE,
          timeoutMs: e.PACKR_UPLINK_TIMEOUT,
          anonymousMissesPerMinute: e.PACKR_UPLINK_ANONYMOUS_MISSES,
        }
      : undefined,
    privateScopes: e.PACKR_PRIVATE_SCOPES,
    clientsDir: e.PACKR_CLIENTS_DIR ? path.resolve(e.PACKR_CLIENTS_DIR) : undefined,
    scopedDefaultAccess: e.PACKR_SCOPED_DEFAULT_ACCESS,
    scopeClaim: e.PACKR_SCOPE_CLAIM,
    runJobs: e.PACKR_RUN_JOBS,
    analysisThreads: e.PACKR_ANALYSIS_THREADS,
    downloadsFlushMs: e.PACKR_DOWNLOADS_FLUSH_SECONDS * 1000,
    blobSweep: { graceMs: e.PACKR_BLOB_SWEEP_GRACE, intervalMs: e.PACKR_BLOB_SWEEP_INTERVAL },
    redisUrl: e.REDIS_URL,
    webhooks: {
      retryScheduleMs: e.PACKR_WEBHOOK_RETRY_SCHEDULE,
      allowHttp: e.PACKR_WEBHOOK_ALLOW_HTTP,
      allowPrivate: e.PACKR_WEBHOOK_ALLOW_PRIVATE,
      timeoutMs: e.PACKR_WEBHOOK_TIMEOUT,
      disableAfterMs: e.PACKR_WEBHOOK_DISABLE_AFTER,
    },
    worker: {
      port: e.PACKR_WORKER_PORT,
      concurrency: e.PACKR_WORKER_CONCURRENCY,
      analyzeConcurrency: e.PACKR_WORKER_ANALYZE_CONCURRENCY,
      docsConcurrency: e.PACKR_WORKER_DOCS_CONCURRENCY,
      leaseMs: e.PACKR_WORKER_LEASE,
      shutdownGraceMs: e.PACKR_WORKER_SHUTDOWN_GRACE,
    },
    billing:
      e.STRIPE_SECRET_KEY && e.STRIPE_WEBHOOK_SECRET
        ? {
            secretKey: e.STRIPE_SECRET_KEY,
            webhookSecret: e.STRIPE_WEBHOOK_SECRET,
            apiUrl: e.STRIPE_API_URL,
            prices: { solo: e.PACKR_STRIPE_PRICE_SOLO, team: e.PACKR_STRIPE_PRICE_TEAM },
            billingUrl: (e.PACKR_BILLING_URL ?? `${dashboardUrl}/billing`).replace(/\/+$/, ""),
            graceMs: e.PACKR_BILLING_GRACE,
          }
        : undefined,
    docGen:
      e.DOC_GEN_ENABLED && e.ANTHROPIC_API_KEY
        ? { apiKey: e.ANTHROPIC_API_KEY, baseUrl: e.ANTHROPIC_BASE_URL, model: e.DOC_GEN_MODEL }
        : undefined,
  };
}

/**
 * The sign-up mode: PACKR_SIGNUP when set (PACKR_ALLOW_SIGNUP=true is its old spelling of
 * `open`); unset, `allowlist` when an allow-list is set, else `closed`. Closed is the default
 * rather than an allow-list of PACKR_ADMIN_EMAIL's domain, because that address is often at a
 * public mail provider, whose domain would admit the whole internet.
 */
function signupPolicy(e: z.infer<typeof EnvSchema>): SignupPolicy {
  const lists = {
    emailDomains: e.PACKR_SIGNUP_EMAIL_DOMAINS,
    githubOrgs: e.PACKR_SIGNUP_GITHUB_ORGS,
    gitlabGroups: e.PACKR_SIGNUP_GITLAB_GROUPS,
    oidcClaims: e.PACKR_SIGNUP_OIDC_CLAIMS,
    linkTrustedProviders: e.PACKR_LINK_TRUSTED_PROVIDERS,
  };
  const anyList =
    lists.emailDomains.length + lists.githubOrgs.length + lists.gitlabGroups.length > 0 ||
    lists.oidcClaims.length > 0;
  if (e.PACKR_SIGNUP && e.PACKR_ALLOW_SIGNUP && e.PACKR_SIGNUP !== "open") {
    throw new Error(
      `Invalid configuration:\n  PACKR_ALLOW_SIGNUP=true means PACKR_SIGNUP=open, but PACKR_SIGNUP=${e.PACKR_SIGNUP}: remove PACKR_ALLOW_SIGNUP`,
    );
  }
  if (e.PACKR_SIGNUP === "allowlist" && !anyList) {
    throw new Error(
      "Invalid configuration:\n  PACKR_SIGNUP=allowlist needs at least one of PACKR_SIGNUP_EMAIL_DOMAINS, PACKR_SIGNUP_GITHUB_ORGS, PACKR_SIGNUP_GITLAB_GROUPS, PACKR_SIGNUP_OIDC_CLAIMS (or use PACKR_SIGNUP=closed and invite people)",
    );
  }
  if (e.PACKR_SIGNUP) return { mode: e.PACKR_SIGNUP, modeSource: "PACKR_SIGNUP", ...lists };
  if (e.PACKR_ALLOW_SIGNUP) return { mode: "open", modeSource: "PACKR_ALLOW_SIGNUP", ...lists };
  if (anyList) return { mode: "allowlist", modeSource: "allow-lists set", ...lists };
  return { mode: "closed", modeSource: "default", ...lists };
}

/**
 * The dashboard's settings (apps/dashboard reads them once at start, beside `loadConfig` for the
 * data dir and secrets). A sign-in provider is enabled when its client id (or, for email, its
 * SMTP URL) is set; the endpoint URLs default to the real services and exist so tests can point
 * an adapter at a local stand-in.
 */
const DashboardEnvSchema = z.object({
  ...ListenEnv,
  PACKR_DASHBOARD_URL: optionalString.pipe(z.url().optional()),
  PACKR_REGISTRY_URL: optionalString.pipe(z.url().optional()),
  /** How long the dashboard waits for one answer of the registry before saying it timed out. */
  PACKR_REGISTRY_TIMEOUT: duration(10_000),
  GITHUB_CLIENT_ID: optionalString,
  GITHUB_CLIENT_SECRET: optionalString,
  GITHUB_URL: z.url().default("https://github.com"),
  GITHUB_API_URL: z.url().default("https://api.github.com"),
  GOOGLE_CLIENT_ID: optionalString,
  GOOGLE_CLIENT_SECRET: optionalString,
  /** Google is OpenID Connect: its endpoints and keys come from this issuer's discovery document. */
  GOOGLE_ISSUER: z.url().default("https://accounts.google.com"),
  GITLAB_CLIENT_ID: optionalString,
  GITLAB_CLIENT_SECRET: optionalString,
  GITLAB_URL: z.url().default("https://gitlab.com"),
  OIDC_ISSUER: optionalString.pipe(z.url().optional()),
  OIDC_CLIENT_ID: optionalString,
  OIDC_CLIENT_SECRET: optionalString,
  OIDC_NAME: z.string().default("Single sign-on"),
  /** Scopes asked of the generic OIDC provider; add the one that yields a claim PACKR_SIGNUP_OIDC_CLAIMS names (e.g. `groups`). */
  OIDC_SCOPES: z.string().default("openid email profile"),
  FORGE_AUTH_AUTHORIZE_URL: optionalString.pipe(z.url().optional()),
  FORGE_AUTH_TOKEN_URL: optionalString.pipe(z.url().optional()),
  FORGE_AUTH_USERINFO_URL: optionalString.pipe(z.url().optional()),
  FORGE_AUTH_CLIENT_ID: optionalString,
  FORGE_AUTH_CLIENT_SECRET: optionalString,
  FORGE_AUTH_NAME: z.string().default("forge-auth"),
  /** `smtp://user:pass@host:587`, `smtps://…`, or `console` (print the mail to the log). */
  SMTP_URL: optionalString.pipe(
    z
      .string()
      .refine(
        (v) => v === "console" || /^smtps?:\/\//.test(v),
        "expected smtp://, smtps:// or console",
      )
      .optional(),
  ),
  MAIL_FROM: z.string().default("Packr <packr@localhost>"),
});

export type OAuthClientConfig = { clientId: string; clientSecret: string | undefined };

export type DashboardConfig = {
  /** Where people reach the dashboard (links in mail, OAuth redirect URIs). */
  dashboardUrl: string;
  /** Where the dashboard server calls the registry's admin API. */
  registryUrl: string;
  /** PACKR_REGISTRY_TIMEOUT: the longest the dashboard waits for one registry answer (ms). */
  registryTimeoutMs: number;
  github: (OAuthClientConfig & { url: string; apiUrl: string }) | undefined;
  google: (OAuthClientConfig & { issuer: string }) | undefined;
  gitlab: (OAuthClientConfig & { url: string }) | undefined;
  oidc: (OAuthClientConfig & { issuer: string; name: string; scope: string }) | undefined;
  forgeAuth:
    | (OAuthClientConfig & {
        authorizeUrl: string;
        tokenUrl: string;
        userinfoUrl: string;
        name: string;
      })
    | undefined;
  email: { smtpUrl: string; from: string } | undefined;
};

export function loadDashboardConfig(env: Record<string, string | undefined>): DashboardConfig {
  const parsed = DashboardEnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const trim = (u: string) => u.replace(/\/+$/, "");
  const forgeEndpoints =
    e.FORGE_AUTH_AUTHORIZE_URL && e.FORGE_AUTH_TOKEN_URL && e.FORGE_AUTH_USERINFO_URL;
  return {
    dashboardUrl: trim(e.PACKR_DASHBOARD_URL ?? localUrl(e.HOST, e.PACKR_DASHBOARD_PORT)),
    registryUrl: trim(e.PACKR_REGISTRY_URL ?? localUrl(e.HOST, registryPort(e))),
    registryTimeoutMs: e.PACKR_REGISTRY_TIMEOUT,
    github: e.GITHUB_CLIENT_ID
      ? {
          clientId: e.GITHUB_CLIENT_ID,
          clientSecret: e.GITHUB_CLIENT_SECRET,
          url: trim(e.GITHUB_URL),
          apiUrl: trim(e.GITHUB_API_URL),
        }
      : undefined,
    google: e.GOOGLE_CLIENT_ID
      ? {
          clientId: e.GOOGLE_CLIENT_ID,
          clientSecret: e.GOOGLE_CLIENT_SECRET,
          issuer: e.GOOGLE_ISSUER,
        }
      : undefined,
    gitlab: e.GITLAB_CLIENT_ID
      ? {
          clientId: e.GITLAB_CLIENT_ID,
          clientSecret: e.GITLAB_CLIENT_SECRET,
          url: trim(e.GITLAB_URL),
        }
      : undefined,
    oidc:
      e.OIDC_ISSUER && e.OIDC_CLIENT_ID
        ? {
            issuer: e.OIDC_ISSUER,
            clientId: e.OIDC_CLIENT_ID,
            clientSecret: e.OIDC_CLIENT_SECRET,
            name: e.OIDC_NAME,
            scope: e.OIDC_SCOPES.split(/[\s,]+/)
              .filter(Boolean)
              .join(" "),
          }
        : undefined,
    forgeAuth:
      forgeEndpoints && e.FORGE_AUTH_CLIENT_ID
        ? {
            authorizeUrl: e.FORGE_AUTH_AUTHORIZE_URL as string,
            tokenUrl: e.FORGE_AUTH_TOKEN_URL as string,
            userinfoUrl: e.FORGE_AUTH_USERINFO_URL as string,
            clientId: e.FORGE_AUTH_CLIENT_ID,
            clientSecret: e.FORGE_AUTH_CLIENT_SECRET,
            name: e.FORGE_AUTH_NAME,
          }
        : undefined,
    email: e.SMTP_URL ? { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM } : undefined,
  };
}
