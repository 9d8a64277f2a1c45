/**
 * What went wrong, as a kind a script can branch on. Each kind has its own exit code, so a CI step
 * can tell "log in again" (auth) from "that does not exist" (not-found), "you typed it wrong"
 * (usage) and "the registry is unreachable, retry" (network).
 */
export const EXIT_CODES = {
  ok: 0,
  failure: 1,
  usage: 2,
  auth: 3,
  "not-found": 4,
  network: 5,
} as const;

export type ErrorKind = Exclude<keyof typeof EXIT_CODES, "ok">;

export class CliError extends Error {
  readonly kind: ErrorKind;
  /** The registry's machine code (`SCOPE_FORBIDDEN`, …) or the CLI's own (`USAGE`, `NETWORK`). */
  readonly code: string;
  /** HTTP status of the registry answer this came from, when it came from one. */
  readonly status: number | undefined;

  constructor(
    kind: ErrorKind,
    message: string,
    opts: { code?: string; status?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "CliError";
    this.kind = kind;
    this.code = opts.code ?? kind.toUpperCase().replace("-", "_");
    this.status = opts.status;
  }

  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }
}

export const usageError = (message: string): CliError => new CliError("usage", message);

/** The error kind an HTTP status belongs to. */
export function kindOfStatus(status: number): ErrorKind {
  if (status === 401 || status === 403) return "auth";
  if (status === 404 || status === 410) return "not-found";
  if (status === 502 || status === 503 || status === 504) return "network";
  return "failure";
}
