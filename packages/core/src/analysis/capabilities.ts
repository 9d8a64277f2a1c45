import { isRecord } from "../packages/manifest.ts";
import { readmeHeadings, stem, stems } from "./text-terms.ts";

/** Where a capability or a term was found, strongest first. */
export type TermSource = "name" | "keywords" | "description" | "readme";
export const TERM_SOURCES: readonly TermSource[] = ["name", "keywords", "description", "readme"];
const PREFIX: Record<TermSource, string> = {
  name: "n",
  keywords: "k",
  description: "d",
  readme: "h",
};

export type Capability = { id: string; label: string; triggers: string[] };

/**
 * The capabilities Packr recognises, each with the words and phrases that reveal it. A trigger is
 * matched on stems, word by word, so "JWT tokens" reveals authentication and "formats dates"
 * date formatting.
 */
export const CAPABILITIES: readonly Capability[] = [
  {
    id: "authentication",
    label: "authentication",
    triggers: [
      "authentication",
      "auth",
      "login",
      "oauth",
      "oauth2",
      "openid",
      "oidc",
      "jwt",
      "sso",
      "passport",
      "session",
      "sign in",
      "password",
    ],
  },
  {
    id: "authorization",
    label: "authorization",
    triggers: ["authorization", "rbac", "acl", "permissions", "access control", "policy"],
  },
  {
    id: "http-server",
    label: "HTTP server",
    triggers: [
      "http server",
      "web server",
      "web framework",
      "server",
      "router",
      "routing",
      "middleware",
      "rest api",
      "express",
      "koa",
      "fastify",
      "hono",
    ],
  },
  {
    id: "http-client",
    label: "HTTP client",
    triggers: ["http client", "fetch", "request", "requests", "axios", "rest client", "got"],
  },
  {
    id: "date-formatting",
    label: "date formatting",
    triggers: [
      "date",
      "dates",
      "datetime",
      "timezone",
      "date formatting",
      "format date",
      "calendar",
      "duration",
      "moment",
      "dayjs",
    ],
  },
  {
    id: "logging",
    label: "logging",
    triggers: ["logging", "logger", "log", "logs", "pino", "winston"],
  },
  {
    id: "testing",
    label: "testing",
    triggers: ["testing", "test runner", "assertion", "assert", "mock", "mocking", "fixture"],
  },
  {
    id: "cli",
    label: "command-line interface",
    triggers: [
      "cli",
      "command line",
      "command-line",
      "terminal",
      "argv",
      "arguments parser",
      "prompt",
    ],
  },
  {
    id: "validation",
    label: "validation",
    triggers: ["validation", "validate", "validator", "schema", "json schema", "zod"],
  },
  {
    id: "database",
    label: "database access",
    triggers: [
      "database",
      "sql",
      "postgres",
      "postgresql",
      "mysql",
      "sqlite",
      "mongodb",
      "orm",
      "query builder",
      "redis",
    ],
  },
  {
    id: "caching",
    label: "caching",
    triggers: ["cache", "caching", "memoize", "memoization", "lru"],
  },
  {
    id: "queue",
    label: "job queue",
    triggers: ["queue", "job queue", "jobs", "worker", "background jobs", "bullmq"],
  },
  { id: "email", label: "email", triggers: ["email", "mail", "smtp", "mailer", "newsletter"] },
  {
    id: "cryptography",
    label: "cryptography",
    triggers: [
      "crypto",
      "cryptography",
      "encryption",
      "encrypt",
      "decrypt",
      "hash",
      "hashing",
      "hmac",
      "signature",
      "bcrypt",
      "argon2",
    ],
  },
  {
    id: "filesystem",
    label: "file system",
    triggers: ["file system", "filesystem", "fs", "files", "glob", "directory"],
  },
  {
    id: "parsing",
    label: "parsing",
    triggers: ["parser", "parse", "parsing", "lexer", "tokenizer", "ast"],
  },
  { id: "markdown", label: "Markdown", triggers: ["markdown", "md", "commonmark", "mdx"] },
  {
    id: "ui-components",
    label: "UI components",
    triggers: [
      "ui",
      "component",
      "components",
      "design system",
      "button",
      "modal",
      "widget",
      "widgets",
    ],
  },
  { id: "react", label: "React", triggers: ["react", "hooks", "jsx", "next.js", "nextjs"] },
  {
    id: "state-management",
    label: "state management",
    triggers: ["state management", "redux", "zustand", "signals", "observable"],
  },
  {
    id: "websocket",
    label: "WebSocket / realtime",
    triggers: ["websocket", "websockets", "realtime", "real-time", "socket", "pubsub", "sse"],
  },
  { id: "graphql", label: "GraphQL", triggers: ["graphql", "apollo", "gql"] },
  {
    id: "image-processing",
    label: "image processing",
    triggers: ["image", "images", "resize", "thumbnail", "png", "jpeg", "svg"],
  },
  {
    id: "compression",
    label: "compression",
    triggers: ["compression", "compress", "gzip", "zip", "brotli", "deflate", "tar"],
  },
  {
    id: "configuration",
    label: "configuration",
    triggers: ["config", "configuration", "env", "environment variables", "dotenv", "settings"],
  },
  {
    id: "i18n",
    label: "internationalization",
    triggers: ["i18n", "internationalization", "localization", "l10n", "translation", "locale"],
  },
  {
    id: "payments",
    label: "payments",
    triggers: ["payment", "payments", "billing", "stripe", "checkout", "invoice"],
  },
  { id: "pdf", label: "PDF", triggers: ["pdf"] },
  { id: "csv", label: "CSV", triggers: ["csv", "tsv", "spreadsheet", "excel", "xlsx"] },
  { id: "yaml", label: "YAML / TOML", triggers: ["yaml", "yml", "toml"] },
  {
    id: "rate-limiting",
    label: "rate limiting",
    triggers: ["rate limit", "rate limiting", "rate limiter", "throttle", "throttling", "debounce"],
  },
  {
    id: "scheduling",
    label: "scheduling",
    triggers: ["cron", "schedule", "scheduler", "scheduling", "timer"],
  },
  {
    id: "id-generation",
    label: "ID generation",
    triggers: ["uuid", "nanoid", "ulid", "id generator", "unique id"],
  },
  {
    id: "colors",
    label: "terminal colors",
    triggers: ["color", "colors", "colour", "ansi", "chalk"],
  },
  {
    id: "utilities",
    label: "general utilities",
    triggers: ["utility", "utilities", "utils", "helpers", "lodash"],
  },
  {
    id: "types",
    label: "TypeScript types",
    triggers: ["typescript", "types", "typings", "type definitions"],
  },
  {
    id: "build-tooling",
    label: "build tooling",
    triggers: [
      "bundler",
      "bundle",
      "build tool",
      "transpiler",
      "compiler",
      "webpack",
      "rollup",
      "vite",
      "esbuild",
      "babel",
    ],
  },
  {
    id: "linting",
    label: "linting / formatting code",
    triggers: ["lint", "linter", "eslint", "prettier", "formatter code"],
  },
  {
    id: "monitoring",
    label: "metrics and monitoring",
    triggers: [
      "metrics",
      "monitoring",
      "tracing",
      "telemetry",
      "opentelemetry",
      "prometheus",
      "observability",
    ],
  },
  {
    id: "storage",
    label: "object storage",
    triggers: ["s3", "object storage", "blob storage", "bucket", "upload", "uploads"],
  },
];

const TRIGGER_STEMS = CAPABILITIES.map((c) => ({
  capability: c,
  phrases: c.triggers.map((t) => stems(t)).filter((p) => p.length > 0),
}));

export type CapabilityMatch = {
  id: string;
  label: string;
  /** Per source, the triggers that matched there. */
  evidence: Partial<Record<TermSource, string[]>>;
};

export type Extracted = {
  capabilities: CapabilityMatch[];
  /** Searchable form: source-prefixed stems (`n:auth`, `k:jwt`, `d:token`, `h:usag`). */
  terms: string[];
};

/** The texts capability extraction reads, per source. */
export function capabilitySources(
  manifest: Record<string, unknown>,
  readme: string | null,
): Record<TermSource, string> {
  const keywords = Array.isArray(manifest.keywords)
    ? manifest.keywords.filter((k): k is string => typeof k === "string")
    : [];
  return {
    name: typeof manifest.name === "string" ? manifest.name.replace(/^@[^/]+\//, "") : "",
    keywords: keywords.join(" , "),
    description: typeof manifest.description === "string" ? manifest.description : "",
    readme: readme ? readmeHeadings(readme).join(" , ") : "",
  };
}

/**
 * Capabilities and search terms of a package, from its name, description, keywords and README
 * headings. Pure and deterministic.
 */
export function extractCapabilities(sources: Record<TermSource, string>): Extracted {
  const tokens = Object.fromEntries(
    TERM_SOURCES.map((s) => [s, stems(sources[s] ?? "").slice(0, 2000)]),
  ) as Record<TermSource, string[]>;
  const capabilities: CapabilityMatch[] = [];
  for (const { capability, phrases } of TRIGGER_STEMS) {
    const evidence: CapabilityMatch["evidence"] = {};
    for (const source of TERM_SOURCES) {
      const hits = capability.triggers.filter((_, i) => {
        const phrase = phrases[i];
        return phrase !== undefined && containsPhrase(tokens[source], phrase);
      });
      if (hits.length > 0) evidence[source] = hits;
    }
    if (Object.keys(evidence).length > 0) {
      capabilities.push({ id: capability.id, label: capability.label, evidence });
    }
  }
  const terms = new Set<string>();
  for (const source of TERM_SOURCES) {
    for (const t of tokens[source]) {
      if (terms.size >= 600) break;
      terms.add(`${PREFIX[source]}:${t}`);
    }
  }
  return { capabilities, terms: [...terms] };
}

/** The capabilities a search query names ("auth", "date formatting", "HTTP server"). */
export function capabilitiesForQuery(query: string): Capability[] {
  const q = stems(query);
  if (q.length === 0) return [];
  return TRIGGER_STEMS.filter(
    ({ capability, phrases }) =>
      containsPhrase(q, stems(capability.id.replace(/-/g, " "))) ||
      containsPhrase(q, stems(capability.label)) ||
      phrases.some((p) => containsPhrase(q, p)),
  ).map((t) => t.capability);
}

/** The stored terms a query word can match, one per source. */
export function termsForQuery(query: string): { stem: string; source: TermSource; term: string }[] {
  const out: { stem: string; source: TermSource; term: string }[] = [];
  for (const s of new Set(stems(query)).values()) {
    for (const source of TERM_SOURCES)
      out.push({ stem: s, source, term: `${PREFIX[source]}:${s}` });
  }
  return out;
}

function containsPhrase(tokens: readonly string[], phrase: readonly string[]): boolean {
  if (phrase.length === 0) return false;
  outer: for (let i = 0; i + phrase.length <= tokens.length; i++) {
    for (let j = 0; j < phrase.length; j++) if (tokens[i + j] !== phrase[j]) continue outer;
    return true;
  }
  return false;
}

export const keywordsOf = (manifest: Record<string, unknown>): string[] =>
  isRecord(manifest) && Array.isArray(manifest.keywords)
    ? manifest.keywords.filter((k): k is string => typeof k === "string")
    : [];

export { stem };
