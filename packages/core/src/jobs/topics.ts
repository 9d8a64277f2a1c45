/** Job topics, in one place so producers (core verbs) need not import the handlers. */
export const ANALYZE_VERSION = "version.analyze";
export const GENERATE_DOCS = "docs.generate";
/** Analyse a proxied (uplink) package's version for the agent API (committed on first question). */
export const ANALYZE_UPLINK_VERSION = "uplink.analyze";
