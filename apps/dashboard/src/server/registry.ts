import { getSettings } from "./config.ts";

export type AdminUser = { id: string; name: string | null; email: string | null; isAdmin: boolean };

export type RegistryError = { status: number; code: string; message: string };

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
  try {
    res = await fetch(`${settings.registryUrl}${path}`, {
      method: init.method ?? "GET",
      headers,
      body: init.body === undefined ? null : JSON.stringify(init.body),
      cache: "no-store",
    });
  } catch {
    return {
      ok: false,
      status: 503,
      code: "UNAVAILABLE",
      message: `The registry at ${settings.registryUrl} cannot be reached.`,
    };
  }
  const text = await res.text();
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
