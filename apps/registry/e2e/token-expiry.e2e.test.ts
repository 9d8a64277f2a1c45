/**
 * Short-lived tokens with the real npm 11 against a registry process started with
 * PACKR_TOKEN_MIN_TTL=1s: `npm token create --expires 1` (npm sends days) makes a one-day token,
 * a lifetime above PACKR_TOKEN_MAX_TTL is refused with the range, and a 6-second token made through
 * the admin API works for `npm whoami` and is then refused with a sentence saying when it expired.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RegistryProcess, startRegistryProcess } from "../test/harness.ts";
import {
  Clients,
  describeRun,
  expectFailure,
  expectSuccess,
  jwtClaims,
  loginToken,
  makeProject,
  npmrc,
  stopRegistry,
} from "./clients.ts";

vi.setConfig({ testTimeout: 180_000 });

let registry: RegistryProcess;
let clients: Clients;
let login: string;

beforeAll(async () => {
  clients = await Clients.create("token-expiry");
  registry = await startRegistryProcess({ env: { PACKR_TOKEN_MIN_TTL: "1s" } });
  login = await loginToken(registry.url, "admin", registry.adminPassword);
});

afterAll(async () => {
  await stopRegistry(registry);
  await clients?.cleanup();
});

describe("npm token create --expires <days>", () => {
  it("--expires 1 makes a token that lives one day and works with npm", async () => {
    const cwd = await makeProject(clients, "npm-create", {
      manifest: { name: "npm-create", version: "1.0.0" },
      npmrc: npmrc(registry.url, login),
    });
    const before = Math.floor(Date.now() / 1000);
    const created = expectSuccess(
      await clients.npm(
        [
          "token",
          "create",
          `--password=${registry.adminPassword}`,
          "--name=one-day",
          "--expires=1",
        ],
        { cwd },
      ),
    );
    const token = /Created token (\S+)/.exec(created.stdout)?.[1] ?? "";
    expect(token.split("."), describeRun(created)).toHaveLength(3);
    const expires = /expires: (\S+)/.exec(created.stdout)?.[1] ?? "";
    const claims = jwtClaims(token) as { exp: number; iat: number };
    expect(claims.exp - claims.iat).toBe(86_400);
    expect(claims.iat).toBeGreaterThanOrEqual(before - 1);
    expect(Math.floor(Date.parse(expires) / 1000)).toBe(claims.exp);

    const ci = await makeProject(clients, "npm-create-ci", {
      manifest: { name: "npm-create-ci", version: "1.0.0" },
      npmrc: npmrc(registry.url, token),
    });
    const whoami = expectSuccess(await clients.npm(["whoami"], { cwd: ci }));
    expect(whoami.stdout.trim()).toBe("admin");

    expectFailure(
      await clients.npm(
        ["token", "create", `--password=${registry.adminPassword}`, "--expires=365"],
        { cwd },
      ),
      "A token may live from 1 second to 90 days; --expires 365 days is too long.",
    );
  });
});

describe("a token that lives 6 seconds", () => {
  it("works, then npm whoami is refused with when it expired", async () => {
    const res = await fetch(`${registry.url}/api/v1/admin/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${login}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "two-seconds", role: "ci-readonly", expiresIn: "6s" }),
    });
    expect(res.status).toBe(201);
    const { token } = (await res.json()) as { token: string };
    const cwd = await makeProject(clients, "short", {
      manifest: { name: "short", version: "1.0.0" },
      npmrc: npmrc(registry.url, token),
    });
    const exp = (jwtClaims(token) as { exp: number }).exp;
    const first = expectSuccess(await clients.npm(["whoami"], { cwd }));
    expect(first.stdout.trim()).toBe("admin");

    await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 500));
    expectFailure(
      await clients.npm(["whoami"], { cwd }),
      "401",
      `Your token expired on ${new Date(exp * 1000).toISOString()}.`,
    );
  });
});
