/**
 * No secret reaches a registry process's output: not the generated admin password (it goes to a
 * 0600 file when stdout is no terminal), not a token (npm logout puts one in the URL), not a
 * password, not a session. A real process with JSON request logs, driven over HTTP the way npm and
 * the dashboard drive it; then its whole stdout and stderr are searched for every secret it saw.
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { publishBody } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RegistryProcess, startRegistryProcess } from "./harness.ts";

let registry: RegistryProcess;

beforeAll(async () => {
  registry = await startRegistryProcess({
    // Empty: no configured password, so the first start generates one.
    env: { PACKR_ADMIN_PASSWORD: "", PACKR_LOG_FORMAT: "json", PACKR_LOG_LEVEL: "info" },
  });
}, 120_000);
afterAll(async () => registry?.stop());

async function call(
  method: string,
  pathname: string,
  opts: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${registry.url}${pathname}`, {
    method,
    headers: { "content-type": "application/json", ...opts.headers },
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe("secrets in a registry's output", () => {
  it("the generated admin password is in a 0600 file whose path is printed, never the password", async () => {
    const out = registry.output();
    const m = /Created user "admin"; its password is in (\S+) /.exec(out);
    expect(m?.[1]).toBe(path.join(registry.dataDir, "admin-password"));
    const file = m?.[1] as string;
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const password = (await readFile(file, "utf8")).trim();
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(out).not.toContain(password);
    const login = await call("POST", "/-/v1/login", { body: { name: "admin", password } });
    expect(login.status).toBe(201);
  });

  it("login, publish, token create, sessions and logout leave no token, password or session in the logs", async () => {
    const password = (await readFile(path.join(registry.dataDir, "admin-password"), "utf8")).trim();
    const secrets: string[] = [password];
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

    // npm login (web-less), and the legacy couch login with Basic credentials.
    const login = await call("POST", "/-/v1/login", { body: { name: "admin", password } });
    const token = login.json.token as string;
    secrets.push(token);
    const basic = Buffer.from(`admin:${password}`).toString("base64");
    const couch = await call("PUT", "/-/user/org.couchdb.user:admin", {
      body: { name: "admin", password },
      headers: { authorization: `Basic ${basic}` },
    });
    expect(couch.status).toBe(201);
    const couchToken = couch.json.token as string;
    secrets.push(couchToken);
    // Wrong passwords are not logged either.
    const wrong = "wrong-password-for-the-log-test";
    secrets.push(wrong);
    expect(
      (await call("POST", "/-/v1/login", { body: { name: "admin", password: wrong } })).status,
    ).toBe(401);

    // Publish, and npm token create (npm 10's body, with the password).
    const put = await call("PUT", "/log-test", {
      body: publishBody("log-test", "1.0.0"),
      headers: bearer(token),
    });
    expect(put.status).toBe(201);
    const created = await call("POST", "/-/npm/v1/tokens", {
      body: { password, readonly: false },
      headers: bearer(token),
    });
    expect(created.status).toBe(201);
    const ciToken = created.json.token as string;
    secrets.push(ciToken);

    // The dashboard's password sign-in and a session in both forms the registry takes.
    const secretsFile = JSON.parse(
      await readFile(path.join(registry.dataDir, "secrets.json"), "utf8"),
    ) as { internalApi: string };
    secrets.push(secretsFile.internalApi);
    const signIn = await call("POST", "/api/v1/admin/sessions/password", {
      body: { name: "admin", password, ip: "203.0.113.1" },
      headers: bearer(secretsFile.internalApi),
    });
    expect(signIn.status).toBe(201);
    const session = signIn.json.session as string;
    secrets.push(session);
    const me = await call("GET", "/api/v1/admin/me", {
      headers: { ...bearer(secretsFile.internalApi), "x-packr-session": session },
    });
    expect(me.status).toBe(200);
    await call("GET", "/api/v1/admin/me", { headers: { cookie: `packr_session=${session}` } });

    // npm logout: the token in the URL, with and without the header; the token in a revoke path;
    // a token in the query; and logout of a value that is no token.
    expect(
      (await call("DELETE", `/-/user/token/${couchToken}`, { headers: bearer(couchToken) })).status,
    ).toBe(200);
    expect((await call("DELETE", `/-/user/token/${ciToken}`)).json).toEqual({
      ok: true,
      revoked: true,
    });
    await call("DELETE", `/-/npm/v1/tokens/token/${token}`, { headers: bearer(token) });
    await call("GET", `/-/whoami?token=${token}`, { headers: bearer(token) });
    expect((await call("DELETE", "/-/user/token/not-a-token")).status).toBe(400);
    for (const t of [couchToken, ciToken]) {
      expect((await call("GET", "/-/whoami", { headers: bearer(t) })).status).toBe(401);
    }

    // Every request above was logged (one JSON line each), and not one line holds a secret.
    await new Promise((r) => setTimeout(r, 300));
    const out = registry.output();
    const lines = out.split("\n").filter((l) => l.startsWith("{"));
    const logged = lines.map((l) => JSON.parse(l) as { path?: string; method?: string });
    expect(logged.some((l) => l.method === "DELETE" && l.path === "/-/user/token/[redacted]")).toBe(
      true,
    );
    expect(
      logged.filter((l) => l.path?.startsWith("/-/user/token/")).length,
    ).toBeGreaterThanOrEqual(3);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThanOrEqual(16);
      if (out.includes(secret)) throw new Error(`a secret is in the output: …${secret.slice(-6)}`);
      // A token's signature alone is as good as the token for matching a leak.
      const signature = secret.split(".").pop() as string;
      if (signature.length >= 16 && out.includes(signature))
        throw new Error(`a secret's signature is in the output: …${signature.slice(-6)}`);
    }
  }, 120_000);
});
