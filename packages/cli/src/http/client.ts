import { CliError, kindOfStatus } from "../errors.ts";

declare const PACKR_CLI_VERSION: string;
/** Replaced at build time (tsdown `define`); "dev" when run from source. */
export const CLI_VERSION = typeof PACKR_CLI_VERSION === "string" ? PACKR_CLI_VERSION : "dev";

export type Answer = { status: number; headers: Headers; json: unknown; text: string };

export type RequestOptions = {
  body?: unknown;
  /** Send the token (default true). */
  auth?: boolean;
  headers?: Record<string, string>;
  /** Statuses answered to the caller instead of thrown (the device-token poll's 400s). */
  accept?: number[];
  timeoutMs?: number;
};

/**
 * A small fetch client for one registry. Paths are joined onto the registry URL the way npm joins
 * them (a registry under a path prefix works). A non-2xx answer becomes a CliError carrying the
 * registry's `error` sentence; a registry that cannot be reached becomes a `network` error.
 */
export class RegistryClient {
  constructor(
    readonly registry: string,
    readonly token: string | undefined,
    /** Where the token came from, for the hint on a 401. */
    readonly tokenFrom: string | undefined,
  ) {}

  url(pathname: string): string {
    return new URL(pathname.replace(/^\//, ""), this.registry).href;
  }

  async request(method: string, pathname: string, opts: RequestOptions = {}): Promise<Answer> {
    const url = this.url(pathname);
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": `packr-cli/${CLI_VERSION} node/${process.version} ${process.platform} ${process.arch}`,
      ...opts.headers,
    };
    if (opts.auth !== false && this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        redirect: "follow",
        signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
      });
    } catch (err) {
      throw networkError(this.registry, err);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw networkError(this.registry, err);
    }
    let json: unknown;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    const answer = { status: res.status, headers: res.headers, json, text };
    if (res.ok || opts.accept?.includes(res.status)) return answer;
    throw this.errorOf(method, url, answer);
  }

  private errorOf(method: string, url: string, a: Answer): CliError {
    const body = isRecord(a.json) ? a.json : {};
    const sentence =
      typeof body.error === "string" && body.error.trim() !== ""
        ? body.error
        : `${a.status} ${statusText(a.status)} - ${method} ${url}`;
    const code = typeof body.code === "string" ? body.code : `HTTP_${a.status}`;
    let message = sentence;
    if (a.status === 401) {
      // The way out of a 401 is always a fresh login, whether a token was sent or not.
      message += this.token
        ? ` (token from ${this.tokenFrom ?? "the command line"}) Run packr-cli login --registry ${this.registry} for a new one.`
        : ` Run packr-cli login --registry ${this.registry}, or set PACKR_TOKEN.`;
    }
    return new CliError(kindOfStatus(a.status), message, { code, status: a.status });
  }
}

function networkError(registry: string, err: unknown): CliError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const name = (err as { name?: string }).name;
  const reason =
    name === "TimeoutError"
      ? "timed out"
      : (cause?.code ?? cause?.message ?? (err as Error).message ?? String(err));
  return new CliError(
    "network",
    `Could not reach the registry at ${registry} (${reason}). Check --registry, PACKR_REGISTRY or your .npmrc, and that the registry is running.`,
    { code: "NETWORK", cause: err },
  );
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  413: "Payload Too Large",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};
const statusText = (s: number): string => STATUS_TEXT[s] ?? "Error";

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
