/**
 * A Packr error the registry answered with: `code` is the machine code of the flat error body
 * (`NOT_FOUND`, `UNAUTHORIZED`, `VALIDATION`, …), `status` the HTTP status, `requestId` what to
 * quote when asking an operator about it.
 */
export class PackrApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly requestId: string | undefined;
  readonly body: Record<string, unknown> | undefined;

  constructor(
    message: string,
    init: { code: string; status: number; requestId?: string; body?: Record<string, unknown> },
  ) {
    super(message);
    this.name = "PackrApiError";
    this.code = init.code;
    this.status = init.status;
    this.requestId = init.requestId;
    this.body = init.body;
  }
}

/** The registry could not be reached, or did not answer in time (after the retries). */
export class PackrNetworkError extends Error {
  readonly code: "NETWORK" | "TIMEOUT";

  constructor(message: string, code: "NETWORK" | "TIMEOUT", options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PackrNetworkError";
    this.code = code;
  }
}
