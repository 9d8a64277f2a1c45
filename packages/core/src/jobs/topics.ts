/** Job topics, in one place so producers (core verbs) need not import the handlers. */
export const ANALYZE_VERSION = "version.analyze";
export const GENERATE_DOCS = "docs.generate";
/** Analyse a proxied (uplink) package's version for the agent API (committed on first question). */
export const ANALYZE_UPLINK_VERSION = "uplink.analyze";
/**
 * A domain event (`package.published`, `org.member.added`, …) committed with its change, for
 * delivery to webhooks. Until hooks exist to receive it, the handler has nothing to do.
 */
export const DELIVER_EVENT = "event.deliver";
