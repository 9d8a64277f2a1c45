import type { z } from "zod";

/**
 * The one error type of Packr's domain. Core throws it; every transport maps it (HTTP status and
 * the flat body of DESIGN.md §6, CLI exit codes, MCP error results). Core never imports HTTP.
 */
export const ERROR_CODES = {
  VALIDATION: 400,
  INVALID_PACKAGE_NAME: 400,
  INTEGRITY_MISMATCH: 400,
  UNAUTHORIZED: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_REVOKED: 401,
  FORBIDDEN: 403,
  SCOPE_FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  VERSION_EXISTS: 409,
  /** A plan limit (billing): creating one more package or scope needs a bigger plan. */
  LIMIT_EXCEEDED: 402,
  PAYLOAD_TOO_LARGE: 413,
  /** Too many attempts (sign-in, mail, uplink misses); the body says when to retry. */
  RATE_LIMITED: 429,
  INTERNAL: 500,
  /** The uplink answered something Packr must not pass on (e.g. a tarball failing its integrity). */
  BAD_GATEWAY: 502,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class PackrError extends Error {
  readonly code: ErrorCode;
  /** Extra machine-readable facts (e.g. the allowed scopes), merged into the error body. */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PackrError";
    this.code = code;
    this.details = options?.details;
  }

  get status(): number {
    return ERROR_CODES[this.code];
  }
}

export const isPackrError = (err: unknown): err is PackrError => err instanceof PackrError;

/** The flat error body every HTTP route answers with; npm and yarn print `error`. */
export type ErrorBody = {
  error: string;
  code: ErrorCode;
  message: string;
  status: number;
  requestId: string;
} & Record<string, unknown>;

export function toErrorBody(err: PackrError, requestId: string): ErrorBody {
  return {
    ...err.details,
    error: err.message,
    code: err.code,
    message: err.message,
    status: err.status,
    requestId,
  };
}

/** The first few problems zod found, as one line for a VALIDATION message (`path: problem; …`). */
export const describeIssues = (err: z.ZodError): string =>
  err.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join(".") : "body"}: ${i.message}`)
    .join("; ");
