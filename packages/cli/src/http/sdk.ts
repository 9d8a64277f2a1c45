import {
  createPackrClient,
  PackrApiError,
  type PackrClient,
  PackrNetworkError,
} from "@packr/agent";
import type { Settings } from "../config/settings.ts";
import { CliError, kindOfStatus, usageError } from "../errors.ts";
import { CLI_VERSION } from "./client.ts";

/** `@packr/agent` for one registry and token, as packr-cli sends it (its user agent, 30 s). */
export function sdkClient(settings: Settings): PackrClient {
  return createPackrClient({
    registry: settings.registry,
    token: settings.token,
    retries: 1,
    timeoutMs: 30_000,
    userAgent: `packr-cli/${CLI_VERSION}`,
  });
}

/**
 * An SDK failure as the CLI's error: the registry's sentence and code, the exit code of its
 * status, and on a 401 the way to a working token (as every other command ends it).
 */
export function fromSdkError(err: unknown, settings?: Settings): unknown {
  if (err instanceof PackrApiError) {
    let message = err.message;
    if (err.status === 401 && settings) {
      message += settings.token
        ? ` (token from ${settings.tokenFrom ?? "the command line"}) Run packr-cli login --registry ${settings.registry} for a new one.`
        : ` Run packr-cli login --registry ${settings.registry}, or set PACKR_TOKEN.`;
    }
    return new CliError(kindOfStatus(err.status), message, { code: err.code, status: err.status });
  }
  if (err instanceof PackrNetworkError) {
    return new CliError("network", err.message, { code: err.code, cause: err });
  }
  if (err instanceof TypeError && /name is required|package name|registry must/.test(err.message)) {
    return usageError(err.message);
  }
  return err;
}
