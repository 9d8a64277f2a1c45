import type { RegistryApp } from "../src/app.ts";

/** Small helpers over `app.request()` so tests read as the requests npm sends. */
export function client(app: RegistryApp, token?: string) {
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return {
    get: (path: string, headers: Record<string, string> = {}) =>
      app.request(path, { headers: { ...auth, ...headers } }),
    head: (path: string) => app.request(path, { method: "HEAD", headers: auth }),
    put: (path: string, body: unknown, headers: Record<string, string> = {}) =>
      app.request(path, {
        method: "PUT",
        headers: { "content-type": "application/json", ...auth, ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    delete: (path: string, headers: Record<string, string> = {}) =>
      app.request(path, { method: "DELETE", headers: { ...auth, ...headers } }),
    post: (path: string, body: unknown, headers: Record<string, string> = {}) =>
      app.request(path, {
        method: "POST",
        headers: { "content-type": "application/json", ...auth, ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
  };
}

/** Every error answers the one flat body of DESIGN.md §6. */
export async function expectError(
  res: Response,
  status: number,
  code: string,
): Promise<{ error: string }> {
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== status || body.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${res.status} ${JSON.stringify(body)}`);
  }
  for (const key of ["error", "message", "requestId"]) {
    if (typeof body[key] !== "string" || (body[key] as string).length === 0)
      throw new Error(`error body lacks ${key}: ${JSON.stringify(body)}`);
  }
  if (body.status !== status || body.error !== body.message)
    throw new Error(`inconsistent error body: ${JSON.stringify(body)}`);
  return body as { error: string };
}

/** The payload of a JWT, unverified: tests read claims the registry signed. */
export function decodeJwt(token: string): Record<string, unknown> & { exp?: number; iat?: number } {
  const payload = token.split(".")[1];
  if (!payload) throw new Error("not a JWT");
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
}
