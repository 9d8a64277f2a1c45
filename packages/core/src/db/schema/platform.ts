import { sql } from "drizzle-orm";
import { bigserial, boolean, index, integer, json, pgTable, text } from "drizzle-orm/pg-core";
import { timestamps, tstz } from "./_columns.ts";
import { orgs, users } from "./identity.ts";

export const webhooks = pgTable(
  "webhooks",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").references(() => orgs.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    secret: text("secret").notNull(),
    events: text("events").array().notNull(),
    active: boolean("active").notNull().default(true),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    ...timestamps(),
  },
  (t) => [index("webhooks_org_idx").on(t.orgId)],
);

/** One row per delivery attempt, so the dashboard can show every try and its answer. */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    webhookId: text("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    event: text("event").notNull(),
    payload: json("payload").$type<Record<string, unknown>>().notNull(),
    attempt: integer("attempt").notNull(),
    status: text("status", {
      enum: ["pending", "succeeded", "failed", "permanently_failed"],
    }).notNull(),
    responseStatus: integer("response_status"),
    responseBody: text("response_body"),
    error: text("error"),
    durationMs: integer("duration_ms"),
    nextAttemptAt: tstz("next_attempt_at"),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [index("webhook_deliveries_webhook_idx").on(t.webhookId, t.createdAt)],
);

/** Written in the same transaction as the change it records. */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").references(() => orgs.id, { onDelete: "set null" }),
    /** user | token | system | anonymous */
    actorType: text("actor_type").notNull(),
    actorId: text("actor_id"),
    actorName: text("actor_name"),
    /** `{module}.{verb}`, e.g. `package.publish` */
    action: text("action").notNull(),
    targetType: text("target_type"),
    targetId: text("target_id"),
    data: json("data").$type<Record<string, unknown>>().notNull().default({}),
    requestId: text("request_id"),
    ip: text("ip"),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [
    index("audit_events_org_idx").on(t.orgId, t.createdAt),
    index("audit_events_target_idx").on(t.targetType, t.targetId),
  ],
);

export const subscriptions = pgTable("subscriptions", {
  id: text("id").primaryKey(),
  orgId: text("org_id")
    .notNull()
    .unique()
    .references(() => orgs.id, { onDelete: "cascade" }),
  plan: text("plan").notNull(),
  status: text("status").notNull(),
  stripeCustomerId: text("stripe_customer_id"),
  stripeSubscriptionId: text("stripe_subscription_id").unique(),
  currentPeriodEnd: tstz("current_period_end"),
  ...timestamps(),
});

/**
 * Jobs committed together with the change that caused them. A relay hands them to BullMQ (or the
 * in-process runner) after commit; the row is the truth, so a crash or a Redis outage loses nothing.
 */
export const outbox = pgTable(
  "outbox",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    topic: text("topic").notNull(),
    payload: json("payload").$type<Record<string, unknown>>().notNull(),
    attempts: integer("attempts").notNull().default(0),
    availableAt: tstz("available_at").notNull().defaultNow(),
    lockedUntil: tstz("locked_until"),
    processedAt: tstz("processed_at"),
    lastError: text("last_error"),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [index("outbox_pending_idx").on(t.availableAt).where(sql`processed_at is null`)],
);

/**
 * Every public key that ever signed a version here (`/-/npm/v1/keys` serves them all), so a
 * version signed by another instance, or before a key rotation, still verifies. Only public keys:
 * the private key is configuration (`PACKR_SIGNING_KEY`) or the embedded data dir's secret.
 */
export const signingKeys = pgTable("signing_keys", {
  keyid: text("keyid").primaryKey(),
  /** SPKI DER, base64: exactly what npm's `keys[].key` carries. */
  publicKey: text("public_key").notNull(),
  createdAt: tstz("created_at").notNull().defaultNow(),
  /** Signatures made after this are not to be trusted (npm checks a version's publish time). */
  expiresAt: tstz("expires_at"),
});
