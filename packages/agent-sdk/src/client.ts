import { PackrApiError, PackrNetworkError } from "./errors.ts";
import type {
  AgentPackage,
  CompareResponse,
  CompatibleVersion,
  DependencyGraph,
  DocsResponse,
  DownloadPoint,
  PreviousVersion,
  RecommendationsResponse,
  SearchResponse,
} from "./schemas.ts";

export type PackrClientOptions = {
  /** Base URL of the registry, e.g. `https://npm.example.com` (a trailing slash is fine). */
  registry: string;
  /** A Packr token (JWT); needed for restricted packages. */
  token?: string | undefined;
  /** Per attempt, in milliseconds (default 10,000). */
  timeoutMs?: number;
  /** Retries after a 5xx, a 429 or a network error (default 2); backoff 250 ms, 500 ms, … */
  retries?: number;
  /** Another fetch (tests, proxies); defaults to the global one. */
  fetch?: typeof fetch;
  /** Sent as User-Agent (default `@packr/agent`). */
  userAgent?: string;
};

export type PackrClient = {
  /** Latest version's info: quality score and breakdown, downloads, capabilities, trust signals. */
  getPackage(name: string): Promise<AgentPackage>;
  /** Capability search ranked by relevance and quality, with the reason each result matched. */
  search(query: string, opts?: { limit?: number }): Promise<SearchResponse>;
  /** Side by side, with a recommended pick and the reason. */
  compare(names: string[]): Promise<CompareResponse>;
  /** Direct dependencies, or transitive to `depth` (1–5), resolved against the registry. */
  getDependencies(name: string, opts?: { depth?: number }): Promise<DependencyGraph>;
  /** Packages most often depended on together with this one. */
  getRecommendations(name: string): Promise<RecommendationsResponse>;
  /** API documentation: Claude-written (`ai`) or extracted from `.d.ts` (`typed`). */
  getDocs(name: string): Promise<DocsResponse>;
  /** The newest version whose `engines.node` accepts this Node version. */
  getLatestForNode(name: string, node: string): Promise<CompatibleVersion>;
  /** The release before a given version. */
  getPreviousVersion(name: string, version: string): Promise<PreviousVersion>;
  /** Downloads over an npm-style period (`last-week`, `2026-01-01:2026-01-31`, …). */
  getDownloads(name: string, period?: string): Promise<DownloadPoint>;
};

const RETRYABLE = (status: number) => status === 429 || status >= 500;

/** A typed client for the Packr agent API. */
export function createPackrClient(options: PackrClientOptions): PackrClient {
  const base = options.registry.replace(/\/+$/, "");
  let parsedBase: URL;
  try {
    parsedBase = new URL(base);
  } catch {
    throw new TypeError(`registry must be an absolute URL; got "${options.registry}".`);
  }
  if (parsedBase.protocol !== "http:" && parsedBase.protocol !== "https:") {
    throw new TypeError(`registry must be an http(s) URL; got "${options.registry}".`);
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = options.retries ?? 2;
  const doFetch = options.fetch ?? fetch;

  async function get<T>(
    path: string,
    query: Record<string, string | number | undefined> = {},
  ): Promise<T> {
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(query))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": options.userAgent ?? "@packr/agent",
    };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let lastError: unknown;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await sleep(250 * 2 ** (attempt - 1));
      let res: Response;
      try {
        res = await doFetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
      } catch (err) {
        const timedOut =
          err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
        lastError = new PackrNetworkError(
          timedOut
            ? `The registry did not answer ${url.pathname} within ${timeoutMs} ms.`
            : `Could not reach the registry at ${base}: ${err instanceof Error ? err.message : String(err)}`,
          timedOut ? "TIMEOUT" : "NETWORK",
          { cause: err },
        );
        continue;
      }
      if (res.ok) return (await res.json()) as T;
      const error = await toApiError(res);
      if (!RETRYABLE(res.status) || attempt === retries) throw error;
      lastError = error;
      const retryAfter = Number(res.headers.get("retry-after"));
      if (res.status === 429 && Number.isFinite(retryAfter) && retryAfter > 0) {
        await sleep(Math.min(retryAfter, 30) * 1000);
      }
    }
    throw lastError;
  }

  const pkg = (name: string) => `/agent/${encodeName(name)}`;
  return {
    getPackage: (name) => get(pkg(name)),
    search: (query, opts = {}) => get("/agent/search", { q: query, limit: opts.limit }),
    compare: (names) => get("/agent/compare", { packages: names.join(",") }),
    getDependencies: (name, opts = {}) => get(`${pkg(name)}/deps`, { depth: opts.depth }),
    getRecommendations: (name) => get(`${pkg(name)}/recommendations`),
    getDocs: (name) => get(`${pkg(name)}/docs`),
    getLatestForNode: (name, node) => get(`${pkg(name)}/latest`, { node }),
    getPreviousVersion: (name, version) => get(`${pkg(name)}/previous`, { version }),
    getDownloads: (name, period = "last-week") =>
      get(`/-/downloads/point/${encodeURIComponent(period)}/${encodeName(name)}`),
  };
}

/** `@scope/name` → `@scope%2Fname`, as npm sends it; everything else percent-encoded. */
function encodeName(name: string): string {
  if (name.length === 0) throw new TypeError("A package name is required.");
  return encodeURIComponent(name).replace(/^%40/, "@");
}

async function toApiError(res: Response): Promise<PackrApiError> {
  let body: Record<string, unknown> | undefined;
  try {
    body = (await res.json()) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  const message =
    typeof body?.error === "string"
      ? body.error
      : `The registry answered ${res.status} ${res.statusText}.`;
  return new PackrApiError(message, {
    code:
      typeof body?.code === "string"
        ? body.code
        : res.status === 429
          ? "LIMIT_EXCEEDED"
          : "HTTP_ERROR",
    status: res.status,
    ...(typeof body?.requestId === "string" ? { requestId: body.requestId } : {}),
    ...(body ? { body } : {}),
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
