import { PackrApiError, PackrNetworkError } from "./errors.ts";
import type {
  AgentPackage,
  AuditEvent,
  AuditFilters,
  AuditPage,
  AuditVerifyReport,
  CompareResponse,
  CompatibleVersion,
  CreateOrgBody,
  CreateTeamBody,
  CreateWebhookBody,
  DeliveryList,
  DeliveryResponse,
  DependencyGraph,
  DocsResponse,
  DownloadPoint,
  Ok,
  OrgDetailsResponse,
  OrgList,
  OrgMemberList,
  OrgMemberResponse,
  OrgPackages,
  OrgResponse,
  OrgRole,
  PreviousVersion,
  RecommendationsResponse,
  Redelivery,
  SearchResponse,
  TeamList,
  TeamMemberList,
  TeamMemberResponse,
  TeamPackageList,
  TeamPackageResponse,
  TeamPermission,
  TeamResponse,
  UpdateOrgBody,
  UpdateWebhookBody,
  WebhookCreated,
  WebhookList,
  WebhookPing,
  WebhookResponse,
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
  /** Organizations, their members, teams and team package grants (admin API; needs a token). */
  orgs: OrgsClient;
  /** Webhooks: the caller's or an org's hooks, test pings, deliveries and redelivery (admin API). */
  webhooks: WebhooksClient;
  /** Plans and limits (admin API; needs a token; 404 when the registry has billing off). */
  billing: BillingClient;
  /** The audit log (admin API; a session or a maintainer/admin token). */
  audit: AuditClient;
};

/**
 * The webhook admin API (`/api/v1/admin/webhooks…`). A hook is named by its id (`whk_…`). Reads
 * are retried like the agent calls; writes (create, update, delete, test, redeliver) are sent once.
 */
export type WebhooksClient = {
  /** Create a hook: the caller's own, or with `orgSlug` an org's. The answer holds the secret, once. */
  create(body: CreateWebhookBody): Promise<WebhookCreated>;
  /** The caller's hooks, or with `org` that org's (org admins). */
  list(opts?: { org?: string }): Promise<WebhookList>;
  get(id: string): Promise<WebhookResponse>;
  /** Change url, events, scope or active (`active: true` also clears its failures). */
  update(id: string, body: UpdateWebhookBody): Promise<WebhookResponse>;
  delete(id: string): Promise<void>;
  /** Queue a `ping` delivery (sent by a job, never in the request); poll `deliveries` for it. */
  test(id: string): Promise<WebhookPing>;
  /** Delivery attempts, newest first; pass `nextCursor` back as `cursor` for the next page. */
  deliveries(id: string, opts?: { cursor?: string; limit?: number }): Promise<DeliveryList>;
  /** One attempt with its request headers, payload and the first 4 KiB of the answer. */
  delivery(id: string, deliveryRowId: string): Promise<DeliveryResponse>;
  /** Send a delivery again: the same delivery id, a new attempt. */
  redeliver(id: string, deliveryId: string): Promise<Redelivery>;
};

/** An account's plan, as `GET /api/v1/admin/billing` answers it. Limits: null = unlimited. */
export type Billing = {
  account: { type: "org" | "user"; name: string };
  plan: "free" | "solo" | "team" | "enterprise";
  planTitle: string;
  status: string;
  state: "free" | "active" | "grace" | "lapsed" | "inactive";
  limits: { packages: number | null; scopes: number | null };
  usage: { packages: number; scopes: number };
  currentPeriodEnd: string | null;
  graceEndsAt: string | null;
  upgradeUrl: string;
  hasCustomer: boolean;
};

export type BillingClient = {
  /** The plan, status, limits, usage and period end of an org (`org`) or your own account. */
  get(opts?: { org?: string }): Promise<Billing>;
  /** A Stripe Checkout URL buying `plan` (`solo` | `team`) for an org you administer or yourself. */
  checkout(body: { plan: "solo" | "team"; org?: string }): Promise<{ url: string }>;
  /** A Stripe Customer Portal URL (change plan, card, cancel). */
  portal(opts?: { org?: string }): Promise<{ url: string }>;
};

/**
 * The audit log: what the caller may see (a platform admin everything, an org admin the org's,
 * anyone else their own actions and their packages' events), newest first.
 */
export type AuditClient = {
  /** One page (`limit` 1–500, default 100); pass the page's `nextCursor` as `cursor` for the next. */
  list(filters?: AuditFilters & { cursor?: string; limit?: number }): Promise<AuditPage>;
  /**
   * Every matching event, streamed from `GET /api/v1/admin/audit/export` (NDJSON) and yielded one
   * at a time as it arrives: memory stays flat however long the log. Not retried once started.
   */
  export(filters?: AuditFilters): AsyncIterable<AuditEvent>;
  /** Recompute the hash chain of `org` (its admins) or every chain (platform admins). */
  verify(opts?: { org?: string }): Promise<AuditVerifyReport>;
};

/**
 * The organization admin API. An org is named by its slug, the npm scope without `@` (`"acme"`;
 * `"@acme"` is accepted too). Each call answers the API's document as it is (`{orgs}`, `{org}`,
 * `{members}`, …). Reads are retried like the agent calls; writes are sent once, never retried.
 */
export type OrgsClient = {
  /** The caller's orgs with the caller's role in each (`GET /api/v1/admin/users/me/orgs`). */
  mine(): Promise<OrgList>;
  /** Every org the caller may see, with the caller's role or null (`GET /api/v1/admin/orgs`). */
  list(): Promise<OrgList>;
  /** Create an org; the caller becomes its first admin. */
  create(body: CreateOrgBody): Promise<OrgResponse>;
  /** One org with its member, team and package counts. */
  get(org: string): Promise<OrgDetailsResponse>;
  /** Change the display name (null clears it). */
  update(org: string, body: UpdateOrgBody): Promise<OrgResponse>;
  delete(org: string): Promise<Ok>;
  /** The org's packages: public ones for anyone, restricted ones too for its members. */
  packages(org: string): Promise<OrgPackages>;
  members: {
    list(org: string): Promise<OrgMemberList>;
    add(org: string, user: string, role: OrgRole): Promise<OrgMemberResponse>;
    setRole(org: string, user: string, role: OrgRole): Promise<OrgMemberResponse>;
    remove(org: string, user: string): Promise<Ok>;
  };
  teams: {
    list(org: string): Promise<TeamList>;
    create(org: string, body: CreateTeamBody): Promise<TeamResponse>;
    delete(org: string, team: string): Promise<Ok>;
    members: {
      list(org: string, team: string): Promise<TeamMemberList>;
      add(org: string, team: string, user: string): Promise<TeamMemberResponse>;
      remove(org: string, team: string, user: string): Promise<Ok>;
    };
    packages: {
      list(org: string, team: string): Promise<TeamPackageList>;
      /** Grant (or change) the team's permission on one package of the org's scope. */
      grant(
        org: string,
        team: string,
        pkg: string,
        permission: TeamPermission,
      ): Promise<TeamPackageResponse>;
      revoke(org: string, team: string, pkg: string): Promise<Ok>;
    };
  };
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

  /**
   * One call. A read (GET) is retried after a 5xx, a 429 or a network error; a write is sent once,
   * since a lost answer to it says nothing about whether the registry acted on it.
   */
  async function request<T>(
    method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
    path: string,
    opts: { query?: Record<string, string | number | undefined>; body?: unknown } = {},
  ): Promise<T> {
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": options.userAgent ?? "@packr/agent",
    };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    const attempts = method === "GET" ? retries : 0;
    let lastError: unknown;
    for (let attempt = 0; attempt <= attempts; attempt++) {
      if (attempt > 0) await sleep(250 * 2 ** (attempt - 1));
      let res: Response;
      try {
        res = await doFetch(url, {
          method,
          headers,
          ...(body === undefined ? {} : { body }),
          signal: AbortSignal.timeout(timeoutMs),
        });
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
      if (res.status === 204) return undefined as T;
      if (res.ok) return (await res.json()) as T;
      const error = await toApiError(res);
      if (!RETRYABLE(res.status) || attempt === attempts) throw error;
      lastError = error;
      const retryAfter = Number(res.headers.get("retry-after"));
      if (res.status === 429 && Number.isFinite(retryAfter) && retryAfter > 0) {
        await sleep(Math.min(retryAfter, 30) * 1000);
      }
    }
    throw lastError;
  }

  const get = <T>(path: string, query: Record<string, string | number | undefined> = {}) =>
    request<T>("GET", path, { query });

  const pkg = (name: string) => `/agent/${encodeName(name)}`;
  const orgPath = (org: string) => `/api/v1/admin/orgs/${segment(orgSlug(org), "org")}`;
  const teamPath = (org: string, team: string) => `${orgPath(org)}/teams/${segment(team, "team")}`;
  const orgs: OrgsClient = {
    mine: async () => get("/api/v1/admin/users/me/orgs"),
    list: async () => get("/api/v1/admin/orgs"),
    create: async (body) =>
      request("POST", "/api/v1/admin/orgs", { body: { ...body, name: orgSlug(body.name) } }),
    get: async (org) => get(orgPath(org)),
    update: async (org, body) => request("PATCH", orgPath(org), { body }),
    delete: async (org) => request("DELETE", orgPath(org)),
    packages: async (org) => get(`/api/v1/orgs/${segment(orgSlug(org), "org")}/packages`),
    members: {
      list: async (org) => get(`${orgPath(org)}/members`),
      add: async (org, user, role) =>
        request("POST", `${orgPath(org)}/members`, { body: { user, role } }),
      setRole: async (org, user, role) =>
        request("PATCH", `${orgPath(org)}/members/${segment(user, "user")}`, { body: { role } }),
      remove: async (org, user) =>
        request("DELETE", `${orgPath(org)}/members/${segment(user, "user")}`),
    },
    teams: {
      list: async (org) => get(`${orgPath(org)}/teams`),
      create: async (org, body) => request("POST", `${orgPath(org)}/teams`, { body }),
      delete: async (org, team) => request("DELETE", teamPath(org, team)),
      members: {
        list: async (org, team) => get(`${teamPath(org, team)}/members`),
        add: async (org, team, user) =>
          request("POST", `${teamPath(org, team)}/members`, { body: { user } }),
        remove: async (org, team, user) =>
          request("DELETE", `${teamPath(org, team)}/members/${segment(user, "user")}`),
      },
      packages: {
        list: async (org, team) => get(`${teamPath(org, team)}/packages`),
        grant: async (org, team, name, permission) =>
          request("PUT", `${teamPath(org, team)}/packages/${segment(name, "package")}`, {
            body: { permission },
          }),
        revoke: async (org, team, name) =>
          request("DELETE", `${teamPath(org, team)}/packages/${segment(name, "package")}`),
      },
    },
  };

  const hookPath = (id: string) => `/api/v1/admin/webhooks/${segment(id, "webhook id")}`;
  const webhooks: WebhooksClient = {
    create: async (body) => request("POST", "/api/v1/admin/webhooks", { body }),
    list: async (opts = {}) =>
      get("/api/v1/admin/webhooks", {
        org: opts.org === undefined ? undefined : orgSlug(opts.org),
      }),
    get: async (id) => get(hookPath(id)),
    update: async (id, body) => request("PATCH", hookPath(id), { body }),
    delete: async (id) => request("DELETE", hookPath(id)),
    test: async (id) => request("POST", `${hookPath(id)}/test`),
    deliveries: async (id, opts = {}) =>
      get(`${hookPath(id)}/deliveries`, { cursor: opts.cursor, limit: opts.limit }),
    delivery: async (id, rowId) =>
      get(`${hookPath(id)}/deliveries/${segment(rowId, "delivery id")}`),
    redeliver: async (id, deliveryId) =>
      request("POST", `${hookPath(id)}/deliveries/${segment(deliveryId, "delivery id")}/redeliver`),
  };

  const billing: BillingClient = {
    get: async (opts = {}) =>
      get("/api/v1/admin/billing", { org: opts.org === undefined ? undefined : orgSlug(opts.org) }),
    checkout: async (body) =>
      request("POST", "/api/v1/admin/billing/checkout", {
        body: body.org === undefined ? body : { ...body, org: orgSlug(body.org) },
      }),
    portal: async (opts = {}) =>
      request("POST", "/api/v1/admin/billing/portal", {
        body: opts.org === undefined ? {} : { org: orgSlug(opts.org) },
      }),
  };

  const audit: AuditClient = {
    list: async (filters = {}) => get("/api/v1/admin/audit", { ...filters }),
    verify: async (opts = {}) =>
      get("/api/v1/admin/audit/verify", {
        org: opts.org === undefined ? undefined : orgSlug(opts.org),
      }),
    export: (filters = {}) => ({
      async *[Symbol.asyncIterator]() {
        const url = new URL(`${base}/api/v1/admin/audit/export`);
        for (const [k, v] of Object.entries(filters))
          if (v !== undefined) url.searchParams.set(k, String(v));
        const headers: Record<string, string> = {
          accept: "application/x-ndjson",
          "user-agent": options.userAgent ?? "@packr/agent",
        };
        if (options.token) headers.authorization = `Bearer ${options.token}`;
        let res: Response;
        try {
          res = await doFetch(url, { headers });
        } catch (err) {
          throw new PackrNetworkError(
            `Could not reach the registry at ${base}: ${err instanceof Error ? err.message : String(err)}`,
            "NETWORK",
            { cause: err },
          );
        }
        if (!res.ok || !res.body) throw await toApiError(res);
        const decoder = new TextDecoder();
        let buffered = "";
        for await (const bytes of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffered += decoder.decode(bytes, { stream: true });
          let nl = buffered.indexOf("\n");
          while (nl >= 0) {
            const line = buffered.slice(0, nl);
            buffered = buffered.slice(nl + 1);
            if (line.trim() !== "") yield JSON.parse(line) as AuditEvent;
            nl = buffered.indexOf("\n");
          }
        }
        buffered += decoder.decode();
        if (buffered.trim() !== "") yield JSON.parse(buffered) as AuditEvent;
      },
    }),
  };

  return {
    orgs,
    webhooks,
    billing,
    audit,
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

/** `@acme` or `acme` → `acme`: an org is named by its scope without the `@`. */
function orgSlug(org: string): string {
  return org.startsWith("@") ? org.slice(1) : org;
}

/**
 * One path segment, percent-encoded whole (a package name's `/` too: `@acme%2Fui`), so that no
 * name can reach another route. An empty name, `.` or `..` is refused before any request.
 */
function segment(value: string, what: string): string {
  if (value === "" || value === "." || value === "..") {
    throw new TypeError(`A ${what} name is required; got "${value}".`);
  }
  return encodeURIComponent(value);
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
          ? "RATE_LIMITED"
          : "HTTP_ERROR",
    status: res.status,
    ...(typeof body?.requestId === "string" ? { requestId: body.requestId } : {}),
    ...(body ? { body } : {}),
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
