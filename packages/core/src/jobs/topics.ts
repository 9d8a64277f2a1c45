/** Job topics, in one place so producers (core verbs) need not import the handlers. */
export const ANALYZE_VERSION = "version.analyze";
export const GENERATE_DOCS = "docs.generate";
