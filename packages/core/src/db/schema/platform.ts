import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  json,
  pgTable,
  text,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { timestamps, tstz } from "./_columns.ts";
import { orgs, users } from "./identity.ts";

/**
 * A webhook belongs to a user (`userId`) or to an org (`orgId`, managed by the org's admins);
 * exactly one is set. Events reach it only when its owner may read what they are about at
 * delivery time (for an org hook: what the org's members may read through the org).
 */
export const webhooks = pgTable(
  "webhooks",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").references(() => orgs.id, { onDelete: "cascade" }),
    userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    /** HMAC key for both signatures; shown once at creation, like a token. */
    secret: text("secret").notNull(),
    events: text("events").array().notNull(),
    /** Narrows the hook: `@acme` (a scope), `name` / `@acme/name` (one package) or a glob (`@acme/ui-*`); null = all. */
    scope: text("scope"),
    active: boolean("active").notNull().default(true),
    /** Since when every delivery has failed (null after a success); 3 days of it disables the hook. */
    failingSince: tstz("failing_since"),
    disabledAt: tstz("disabled_at"),
    disabledReason: text("disabled_reason"),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    ...timestamps(),
  },
  (t) => [
    index("webhooks_org_idx").on(t.orgId),
    index("webhooks_user_idx").on(t.userId),
    check("webhooks_one_owner", sql`(${t.orgId} is null) <> (${t.userId} is null)`),
  ],
);

export const WEBHOOK_DELIVERY_STATUSES = [
  "pending",
  "succeeded",
  "failed",
  "permanently_failed",
] as const;

/**
 * One row per delivery attempt. `deliveryId` is the `X-Packr-Delivery` / `webhook-id` a receiver
 * sees, the same on every attempt of one event to one hook; `(deliveryId, attempt)` is unique, so
 * a job run twice records its attempt once. A `pending` row is an attempt not made yet (its
 * `nextAttemptAt` is when); `failed` will be retried (the next attempt's row says when);
 * `permanently_failed` was the last try.
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    deliveryId: text("delivery_id").notNull(),
    webhookId: text("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    /** The event's stable id (the same across every hook it went to). */
    eventId: text("event_id").notNull(),
    event: text("event").notNull(),
    payload: json("payload").$type<Record<string, unknown>>().notNull(),
    attempt: integer("attempt").notNull(),
    status: text("status", { enum: WEBHOOK_DELIVERY_STATUSES }).notNull(),
    /** What was sent, without the secret (signatures are derived values, kept). */
    requestHeaders: json("request_headers").$type<Record<string, string>>(),
    responseStatus: integer("response_status"),
    /** The first 4 KiB of the answer. */
    responseBody: text("response_body"),
    error: text("error"),
    durationMs: integer("duration_ms"),
    nextAttemptAt: tstz("next_attempt_at"),
    attemptedAt: tstz("attempted_at"),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [
    index("webhook_deliveries_webhook_idx").on(t.webhookId, t.createdAt, t.id),
    uniqueIndex("webhook_deliveries_attempt_uq").on(t.deliveryId, t.attempt),
  ],
);

/** Written in the same transaction as the change it records. */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: text("id").primaryKey(),
    /**
     * The org the event belongs to (its chain), kept as a plain id without a foreign key: the
     * table is append-only (a trigger refuses UPDATE and DELETE), so deleting an org must not try
     * to null it out, and the history of a deleted org keeps naming it.
     */
    orgId: text("org_id"),
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
    /**
     * The hash chain, set once by the chainer after commit (audit/audit-chain.ts): the event's
     * place in its org's chain (null org = the platform chain), its predecessor's hash and
     * SHA-256(prev_hash, canonical content). Null until chained; the trigger allows exactly that
     * one update.
     */
    chainSeq: bigint("chain_seq", { mode: "number" }),
    prevHash: text("prev_hash"),
    hash: text("hash"),
  },
  (t) => [
    // Keyset pages, newest first by (created_at, id): one index per filter that needs one.
    index("audit_events_time_idx").on(t.createdAt, t.id),
    index("audit_events_org_time_idx").on(t.orgId, t.createdAt, t.id),
    index("audit_events_actor_time_idx").on(t.actorName, t.createdAt, t.id),
    index("audit_events_actor_id_time_idx").on(t.actorId, t.createdAt, t.id),
    index("audit_events_action_time_idx").on(t.action.op("text_pattern_ops"), t.createdAt, t.id),
    index("audit_events_target_time_idx").on(t.targetType, t.targetId, t.createdAt, t.id),
    uniqueIndex("audit_events_chain_uq").on(sql`coalesce(${t.orgId}, '')`, t.chainSeq),
    index("audit_events_unchained_idx").on(t.createdAt, t.id).where(sql`${t.hash} is null`),
  ],
);

export const PLANS = ["free", "solo", "team", "enterprise"] as const;
export type PlanName = (typeof PLANS)[number];

/**
 * The plan of one billing account: an org (`orgId`), or a user's personal account (`userId`: the
 * packages they created outside any org, and the orgs they created); exactly one is set. No row
 * is the Free plan. Written by the Stripe webhook (billing/stripe-webhook.ts) and, for Enterprise,
 * by a platform admin. `stripeEventAt` is the `created` time of the last Stripe event applied, so
 * an older event arriving late changes nothing; `pastDueSince` starts the grace of a failed
 * payment (billing/plans.ts).
 */
export const subscriptions = pgTable(
  "subscriptions",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .unique()
      .references(() => orgs.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .unique()
      .references(() => users.id, { onDelete: "cascade" }),
    plan: text("plan", { enum: PLANS }).notNull(),
    /** Stripe's subscription status (`active`, `trialing`, `past_due`, `canceled`, …). */
    status: text("status").notNull(),
    stripeCustomerId: text("stripe_customer_id"),
    stripeSubscriptionId: text("stripe_subscription_id").unique(),
    currentPeriodEnd: tstz("current_period_end"),
    /** Enterprise: the limits a platform admin set; null = unlimited. Ignored on other plans. */
    packageLimit: integer("package_limit"),
    scopeLimit: integer("scope_limit"),
    /** When the first unpaid invoice failed; limits stay for the grace after it, then Free. */
    pastDueSince: tstz("past_due_since"),
    stripeEventAt: tstz("stripe_event_at"),
    ...timestamps(),
  },
  (t) => [
    check("subscriptions_one_account", sql`(${t.orgId} is null) <> (${t.userId} is null)`),
    index("subscriptions_customer_idx").on(t.stripeCustomerId),
  ],
);

/**
 * Stripe events already applied, by event id: a redelivered event is acknowledged and changes
 * nothing. Written in the same transaction as the change the event made.
 */
export const stripeEvents = pgTable("stripe_events", {
  id: text("id").primaryKey(),
  type: text("type").notNull(),
  processedAt: tstz("processed_at").notNull().defaultNow(),
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
