import { getSettings } from "./config.ts";

export type AdminUser = { id: string; name: string | null; email: string | null; isAdmin: boolean };

export type RegistryError = {
  status: number;
  code: string;
  message: string;
  /** Set when the registry accepted the call but gave no answer within PACKR_REGISTRY_TIMEOUT. */
  timedOut?: boolean;
};

export type RegistryResult<T> =
  | { ok: true; status: number; data: T }
  | ({ ok: false } & RegistryError);

/**
 * The dashboard's only way to the registry: its admin API, authenticated with the internal secret
 * and, when acting for a signed-in person, their session (identity contract). The browser never
 * sees either.
 */
export async function callRegistry<T>(
  path: string,
  init: { method?: string; body?: unknown; session?: string | undefined } = {},
): Promise<RegistryResult<T>> {
  const settings = await getSettings();
  const headers: Record<string, string> = {
    authorization: `Bearer ${settings.internalApiSecret}`,
    accept: "application/json",
  };
  if (init.session) headers["x-packr-session"] = init.session;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  let text: string;
  // One deadline for the answer and its body: a registry that accepts the connection and then
  // stalls would otherwise hold this request (and the person's page) open forever.
  const signal = AbortSignal.timeout(settings.registryTimeoutMs);
  try {
    res = await fetch(`${settings.registryUrl}${path}`, {
      method: init.method ?? "GET",
      headers,
      body: init.body === undefined ? null : JSON.stringify(init.body),
      cache: "no-store",
      signal,
    });
    text = await res.text();
  } catch (err) {
    const timedOut = signal.aborted || (err instanceof Error && err.name === "TimeoutError");
    return {
      ok: false,
      status: 503,
      code: "UNAVAILABLE",
      message: timedOut
        ? `The registry at ${settings.registryUrl} cannot be reached: it did not answer within ${describeMs(settings.registryTimeoutMs)} (PACKR_REGISTRY_TIMEOUT).`
        : `The registry at ${settings.registryUrl} cannot be reached.`,
      ...(timedOut ? { timedOut: true } : {}),
    };
  }
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (res.ok) return { ok: true, status: res.status, data: body as T };
  const err = (body ?? {}) as { code?: string; error?: string; message?: string };
  return {
    ok: false,
    status: res.status,
    code: err.code ?? `HTTP_${res.status}`,
    message: err.error ?? err.message ?? `The registry answered ${res.status}.`,
  };
}

const describeMs = (ms: number): string =>
  ms % 1000 === 0 ? `${ms / 1000} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`;
