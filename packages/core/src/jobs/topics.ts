/** Job topics, in one place so producers (core verbs) need not import the handlers. */
export const ANALYZE_VERSION = "version.analyze";
export const GENERATE_DOCS = "docs.generate";
/** Analyse a proxied (uplink) package's version for the agent API (committed on first question). */
export const ANALYZE_UPLINK_VERSION = "uplink.analyze";
/**
 * A domain event (`package.published`, `org.member.added`, …) committed with its change. Its
 * handler fans it out: one pending `webhook_deliveries` row and one DELIVER_WEBHOOK job per hook
 * that receives it (webhooks/fan-out.ts).
 */
export const DELIVER_EVENT = "event.deliver";
/** One attempt of one delivery (payload `{deliveryId, attempt}`): webhooks/deliver.ts. */
export const DELIVER_WEBHOOK = "webhook.deliver";
