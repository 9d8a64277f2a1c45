import { sql } from "drizzle-orm";
import {
  boolean,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { timestamps, tstz } from "./_columns.ts";

export const users = pgTable("users", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  email: text("email"),
  /**
   * The email was proven: by a provider trusted for linking (PACKR_LINK_TRUSTED_PROVIDERS), by an
   * administrator's invitation, or by PACKR_ADMIN_EMAIL. Only such an email links a new sign-in
   * to this account; an npm adduser email or a weaker provider's never does.
   */
  emailVerified: boolean("email_verified").notNull().default(false),
  /** scrypt hash in PHC-like form; null for accounts that only sign in through OAuth or email. */
  passwordHash: text("password_hash"),
  isAdmin: boolean("is_admin").notNull().default(false),
  ...timestamps(),
});

/**
 * An organization: its `name` *is* an npm scope without the `@` (`acme` owns `@acme/*`), stored
 * lower-case (npm scopes are) and unique in any letter case.
 */
export const orgs = pgTable(
  "orgs",
  {
    id: text("id").primaryKey(),
    /** The npm scope this org owns, without the `@`, lower-case. */
    name: text("name").notNull().unique(),
    displayName: text("display_name"),
    plan: text("plan").notNull().default("free"),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex("orgs_name_lower_uq").on(sql`lower(${t.name})`),
    // The scopes a personal plan counts are the orgs the user created (billing/limits.ts).
    index("orgs_created_by_idx").on(t.createdBy),
  ],
);

/** Roles inside an org, weakest first: readers read, maintainers also publish, admins also manage. */
export const ORG_ROLES = ["reader", "maintainer", "admin"] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

export const orgMembers = pgTable(
  "org_members",
  {
    orgId: text("org_id")
      .notNull()
      .references(() => orgs.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: ORG_ROLES }).notNull(),
    ...timestamps(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.userId] }), index("org_members_user_idx").on(t.userId)],
);

/** A team inside an org (`acme:frontend`); its name is lower-case and unique within the org. */
export const teams = pgTable(
  "teams",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => orgs.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description"),
    ...timestamps(),
  },
  (t) => [uniqueIndex("teams_org_name_uq").on(t.orgId, t.name)],
);

/** Team members are members of the team's org (the verbs keep it so; leaving the org leaves its teams). */
export const teamMembers = pgTable(
  "team_members",
  {
    teamId: text("team_id")
      .notNull()
      .references(() => teams.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.teamId, t.userId] }),
    index("team_members_user_idx").on(t.userId),
  ],
);

export const TEAM_PERMISSIONS = ["read-only", "read-write"] as const;
export type TeamPermission = (typeof TEAM_PERMISSIONS)[number];

/**
 * Every JWT Packr signs has a row here (its `jti` is the id) so it can be listed, described and
 * revoked. `kind` says what minted it: a password/device login, a token a person created, or a CI
 * token. Every kind acts with its creator's *current* org roles (DESIGN.md §5): none is exempt.
 */
export const tokens = pgTable(
  "tokens",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: ["login", "personal", "ci"] }).notNull(),
    name: text("name").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    orgId: text("org_id").references(() => orgs.id, { onDelete: "cascade" }),
    role: text("role", { enum: ["ci-readonly", "ci-publish", "maintainer", "admin"] }).notNull(),
    permissions: text("permissions").array().notNull(),
    /** npm scopes (`@acme`) this token may publish to; empty means all. */
    scopes: text("scopes").array().notNull().default(sql`'{}'::text[]`),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: tstz("created_at").notNull().defaultNow(),
    lastUsedAt: tstz("last_used_at"),
    expiresAt: tstz("expires_at").notNull(),
    revokedAt: tstz("revoked_at"),
  },
  (t) => [index("tokens_user_idx").on(t.userId)],
);

export const sessions = pgTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    userAgent: text("user_agent"),
    ip: text("ip"),
    createdAt: tstz("created_at").notNull().defaultNow(),
    expiresAt: tstz("expires_at").notNull(),
    revokedAt: tstz("revoked_at"),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

export const oauthAccounts = pgTable(
  "oauth_accounts",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** github | google | gitlab | oidc | forge-auth | email */
    provider: text("provider").notNull(),
    providerAccountId: text("provider_account_id").notNull(),
    email: text("email"),
    ...timestamps(),
  },
  (t) => [uniqueIndex("oauth_accounts_provider_uq").on(t.provider, t.providerAccountId)],
);

/** RFC 8628 device authorization codes; the device code itself is stored only as a hash. */
export const deviceCodes = pgTable("device_codes", {
  id: text("id").primaryKey(),
  deviceCodeHash: text("device_code_hash").notNull().unique(),
  userCode: text("user_code").notNull().unique(),
  provider: text("provider"),
  /** Who asked: `packr-cli` polls the RFC 8628 token endpoint, `npm` polls its web-login doneUrl. */
  client: text("client", { enum: ["packr-cli", "npm"] })
    .notNull()
    .default("packr-cli"),
  status: text("status", { enum: ["pending", "approved", "denied", "consumed"] })
    .notNull()
    .default("pending"),
  userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
  tokenId: text("token_id").references(() => tokens.id, { onDelete: "set null" }),
  clientIp: text("client_ip"),
  intervalSeconds: integer("interval_seconds").notNull().default(5),
  lastPolledAt: tstz("last_polled_at"),
  expiresAt: tstz("expires_at").notNull(),
  createdAt: tstz("created_at").notNull().defaultNow(),
});

/**
 * Fixed-window counters of password attempts (per client address, per username), shared by every
 * instance on one database so a guesser cannot multiply the limits by the number of replicas.
 * One row per key; a row whose window has passed is reset by the next attempt's upsert.
 */
export const authRateLimits = pgTable(
  "auth_rate_limits",
  {
    bucket: text("bucket").notNull(),
    key: text("key").notNull(),
    windowStart: tstz("window_start").notNull(),
    count: integer("count").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.bucket, t.key] }),
    index("auth_rate_limits_window_idx").on(t.windowStart),
  ],
);
