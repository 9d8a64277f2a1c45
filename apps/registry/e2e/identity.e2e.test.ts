/**
 * Identity with the real npm 11 against a registry process: stock `npm login` through the web
 * flow (the test approves the device code through the admin API, as the dashboard would after the
 * person signs in), `npm token list | create | revoke`, the created token publishing, the revoked
 * one refused at once, `npm logout`, and an RFC 8628 client that is told to slow down and backs off.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RegistryProcess, startRegistryProcess } from "../test/harness.ts";
import {
  Clients,
  clientEnv,
  describeRun,
  expectFailure,
  expectSuccess,
  jwtClaims,
  loginToken,
  makeProject,
  npmrc,
  stopRegistry,
} from "./clients.ts";

vi.setConfig({ testTimeout: 300_000 });

const INTERNAL = "e2e-internal-secret-0123456789abcdef";
let registry: RegistryProcess;
let clients: Clients;

beforeAll(async () => {
  clients = await Clients.create("identity");
  registry = await startRegistryProcess({
    env: {
      INTERNAL_API_SECRET: INTERNAL,
      PACKR_DASHBOARD_URL: "http://127.0.0.1:9/dashboard",
      PACKR_DEVICE_INTERVAL_SECONDS: "1",
      // People sign up through providers here; signup.test.ts tests the policies.
      PACKR_SIGNUP: "open",
    },
  });
});

afterAll(async () => {
  await stopRegistry(registry);
  await clients?.cleanup();
});

async function admin(
  method: string,
  route: string,
  body?: unknown,
  session?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${registry.url}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${INTERNAL}`,
      "content-type": "application/json",
      ...(session ? { "x-packr-session": session } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : {} };
}

async function signIn(subject: string, email: string): Promise<string> {
  const r = await admin("POST", "/api/v1/admin/sessions", {
    provider: "oidc",
    subject,
    email,
    emailVerified: true,
    name: null,
  });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return r.json.session as string;
}

describe("npm login (web flow)", () => {
  it("stock npm login prints the dashboard URL, polls, and stores the token once approved", async () => {
    const sandbox = await clients.sandbox();
    const cwd = await clients.dir("web-login");
    const started = Date.now();
    const child = spawn("npm", ["login", `--registry=${registry.url}/`], {
      cwd,
      env: clientEnv(sandbox.home, { npm_config_cache: sandbox.cache }),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    child.stdout.on("data", (d) => {
      output += String(d);
    });
    child.stderr.on("data", (d) => {
      output += String(d);
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    try {
      let loginUrl: string | undefined;
      while (!loginUrl && Date.now() - started < 60_000) {
        loginUrl = /(http:\/\/127\.0\.0\.1:9\/dashboard\/cli\/auth\?code=[A-Z-]+)/.exec(
          output,
        )?.[1];
        if (!loginUrl) await new Promise((r) => setTimeout(r, 100));
      }
      expect(loginUrl, `npm printed no login URL:\n${output}`).toBeDefined();
      expect(output).toContain("Login at:");
      const code = new URL(loginUrl ?? "").searchParams.get("code");

      // npm keeps polling while nobody has approved.
      await new Promise((r) => setTimeout(r, 2_500));
      expect(child.exitCode).toBeNull();

      const session = await signIn("kc-web", "webby@example.test");
      const view = await admin("GET", `/api/v1/admin/device/${code}`, undefined, session);
      expect(view.json).toMatchObject({ status: "pending", client: "npm" });
      const ok = await admin(
        "POST",
        "/api/v1/admin/device/callback",
        { userCode: code, approve: true },
        session,
      );
      expect(ok.json).toEqual({ status: "approved" });
      const exit = await Promise.race([
        exited,
        new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 60_000)),
      ]);
      expect(exit, output).toBe(0);
      expect(output).toContain(`Logged in on ${registry.url}/`);
    } finally {
      if (child.exitCode === null && child.pid) process.kill(-child.pid, "SIGKILL");
    }
    const userNpmrc = await readFile(path.join(sandbox.home, ".npmrc"), "utf8");
    const token = /:_authToken=(.+)$/m.exec(userNpmrc)?.[1]?.trim() ?? "";
    expect(jwtClaims(token)).toMatchObject({ kind: "login", role: "maintainer" });
    const whoami = expectSuccess(
      await clients.npm(["whoami", `--registry=${registry.url}/`], { cwd, sandbox }),
    );
    expect(whoami.stdout.trim(), describeRun(whoami)).toBe("webby");
  });
});

describe("npm token list | create | revoke, npm logout", () => {
  it("creates a scoped token that publishes, lists it, revokes it (refused at once), logs out", async () => {
    const login = await loginToken(registry.url, "admin", registry.adminPassword);
    const cwd = await makeProject(clients, "tokens", {
      manifest: { name: "@acme/tok", version: "1.0.0" },
      npmrc: npmrc(registry.url, login),
    });
    const created = expectSuccess(
      await clients.npm(
        [
          "token",
          "create",
          `--password=${registry.adminPassword}`,
          "--name=ci-e2e",
          "--scopes=@acme",
          "--packages-and-scopes-permission=read-write",
          "--expires=7",
        ],
        { cwd },
      ),
    );
    const token = /Created token (\S+)/.exec(created.stdout)?.[1] ?? "";
    expect(token.split("."), describeRun(created)).toHaveLength(3);
    expect(created.stdout).toContain("expires:");
    expect(jwtClaims(token)).toMatchObject({ role: "ci-publish", scopes: ["@acme"], kind: "ci" });

    // The new token works with npm: it publishes into its scope, and only there.
    const ciProject = await makeProject(clients, "tokens-ci", {
      manifest: { name: "@acme/tok", version: "1.0.0" },
      npmrc: npmrc(registry.url, token),
    });
    expectSuccess(await clients.npm(["publish"], { cwd: ciProject }));
    const outside = await makeProject(clients, "tokens-outside", {
      manifest: { name: "@other/tok", version: "1.0.0" },
      npmrc: npmrc(registry.url, token),
    });
    expectFailure(await clients.npm(["publish"], { cwd: outside }), "@acme");

    const list = expectSuccess(await clients.npm(["token", "list"], { cwd }));
    expect(list.stdout).toContain("name ci-e2e");
    const id = /Token \S+… with id (\w+) name ci-e2e/.exec(list.stdout)?.[1];
    expect(id, describeRun(list)).toBeDefined();
    const json = JSON.parse(
      expectSuccess(await clients.npm(["token", "list", "--json"], { cwd })).stdout,
    ) as Array<{ key: string; name: string }>;
    expect(json.find((t) => t.name === "ci-e2e")?.key.startsWith(id ?? "?")).toBe(true);

    const revoke = expectSuccess(await clients.npm(["token", "revoke", id ?? ""], { cwd }));
    expect(revoke.stdout).toContain("Removed 1 token");
    expectFailure(await clients.npm(["whoami"], { cwd: ciProject }));
    const after = expectSuccess(await clients.npm(["token", "list"], { cwd }));
    expect(after.stdout).not.toContain("name ci-e2e");

    // Revoking by the raw token value (npm's other form) works too.
    const second = /Created token (\S+)/.exec(
      expectSuccess(
        await clients.npm(["token", "create", `--password=${registry.adminPassword}`], { cwd }),
      ).stdout,
    )?.[1];
    expectSuccess(await clients.npm(["token", "revoke", second ?? ""], { cwd }));
    const check = await fetch(`${registry.url}/-/whoami`, {
      headers: { authorization: `Bearer ${second}` },
    });
    expect(check.status).toBe(401);

    // A wrong password is refused.
    expectFailure(await clients.npm(["token", "create", "--password=not-the-password"], { cwd }));

    // npm logout revokes the login token itself.
    expectSuccess(await clients.npm(["logout"], { cwd }));
    const gone = await fetch(`${registry.url}/-/whoami`, {
      headers: { authorization: `Bearer ${login}` },
    });
    expect(gone.status).toBe(401);
  });
});

describe("an RFC 8628 client", () => {
  it("is told to slow down when it polls too fast, backs off, and gets its token", async () => {
    const post = async (route: string, body: Record<string, string>) => {
      const res = await fetch(`${registry.url}${route}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(body).toString(),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    const a = (await post("/-/v1/device/authorize", { client: "packr-cli" })).json;
    expect(a.interval).toBe(1);
    const grant = {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code: String(a.device_code),
    };
    const session = await signIn("kc-dev", "cli@example.test");
    let interval = Number(a.interval);
    const seen: string[] = [];
    let token: string | undefined;
    // A client that first polls without waiting (a bug RFC 8628 guards against), then obeys.
    let wait = 0;
    for (let i = 0; i < 20 && !token; i++) {
      await new Promise((r) => setTimeout(r, wait));
      const r = await post("/-/v1/device/token", grant);
      if (r.status === 200) {
        token = String(r.json.access_token);
        break;
      }
      const error = String(r.json.error);
      seen.push(error);
      if (error === "slow_down") interval += 5;
      else expect(error).toBe("authorization_pending");
      if (seen.length === 2) {
        await admin(
          "POST",
          "/api/v1/admin/device/callback",
          { userCode: a.user_code, approve: true },
          session,
        );
      }
      wait = seen.length === 1 ? 0 : interval * 1000 + 100;
    }
    expect(seen).toEqual(["authorization_pending", "slow_down"]);
    expect(interval).toBe(6);
    expect(token).toBeDefined();
    const who = await fetch(`${registry.url}/-/whoami`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await who.json()).toEqual({ username: "cli" });
    const reused = await post("/-/v1/device/token", grant);
    expect(reused.json.error).toBe("invalid_grant");
  });
});
