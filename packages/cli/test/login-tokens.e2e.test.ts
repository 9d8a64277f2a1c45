/**
 * login through the device flow, completed by the test approving the code the way the dashboard
 * does (internal secret + a session from POST /api/v1/admin/sessions); and the token round trip:
 * create → use with npm → list → revoke → refused.
 */
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  Clients,
  describeRun,
  expectFailure,
  expectSuccess,
  loginToken,
  makeProject,
  npmrc,
  stopRegistry,
} from "@packr/registry/e2e/clients";
import { type RegistryProcess, startRegistryProcess } from "@packr/registry/test/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, CliSandbox, cli, cliEnv, fails, jsonError, ok } from "./cli-harness.ts";

const INTERNAL = "internal-secret-for-cli-tests-0123456789";

let registry: RegistryProcess;
let box: CliSandbox;
let clients: Clients;
let admin: string;
let host: string;

beforeAll(async () => {
  box = await CliSandbox.create("login");
  clients = await Clients.create("cli-login");
  registry = await startRegistryProcess({
    env: {
      INTERNAL_API_SECRET: INTERNAL,
      PACKR_DEVICE_INTERVAL_SECONDS: "1",
      PACKR_DASHBOARD_URL: "http://127.0.0.1:1/dashboard",
      // People sign up through providers here; signup.test.ts tests the policies.
      PACKR_SIGNUP: "open",
    },
  });
  admin = await loginToken(registry.url, "admin", registry.adminPassword);
  host = new URL(registry.url).host;
});

afterAll(async () => {
  await stopRegistry(registry);
  await box?.cleanup();
  await clients?.cleanup();
});

async function api(
  method: string,
  pathname: string,
  headers: Record<string, string>,
  body?: unknown,
) {
  const res = await fetch(`${registry.url}${pathname}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** A dashboard session for a person signing in with GitHub (what the dashboard's callback makes). */
async function signIn(username: string): Promise<string> {
  const r = await api(
    "POST",
    "/api/v1/admin/sessions",
    { authorization: `Bearer ${INTERNAL}` },
    {
      provider: "github",
      subject: `gh-${username}`,
      email: `${username}@example.test`,
      emailVerified: true,
      name: username,
      username,
    },
  );
  expect(r.status, r.text).toBe(201);
  return String(r.json.session);
}

/** What the dashboard's /cli/auth page does when the person clicks approve (or deny). */
async function decide(userCode: string, session: string, approve: boolean) {
  const headers = { authorization: `Bearer ${INTERNAL}`, "x-packr-session": session };
  const view = await api("GET", `/api/v1/admin/device/${userCode}`, headers);
  expect(view.status, view.text).toBe(200);
  expect(view.json).toMatchObject({ userCode, status: "pending", client: "packr-cli" });
  const r = await api("POST", "/api/v1/admin/device/callback", headers, { userCode, approve });
  expect(r.status, r.text).toBe(200);
  expect(r.json).toEqual({ status: approve ? "approved" : "denied" });
}

/**
 * Start `packr-cli login` (no TTY, as in CI), wait for it to print the code, hand the code to
 * `onCode`, and resolve with the finished run.
 */
function loginRun(
  args: string[],
  home: string,
  onCode: (userCode: string, output: string) => Promise<void>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "login", ...args], {
      cwd: home,
      env: cliEnv(home),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let handed = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`login did not finish:\n${stdout}\n${stderr}`));
    }, 60_000);
    const look = () => {
      const m = /one-time code: (\S+)/.exec(stdout + stderr);
      if (m?.[1] && !handed && /\n {2}http\S+\n/.test(stdout + stderr)) {
        handed = true;
        onCode(m[1], stdout + stderr).catch((err) => {
          child.kill("SIGKILL");
          reject(err);
        });
      }
    };
    child.stdout.on("data", (d) => {
      stdout += String(d);
      look();
    });
    child.stderr.on("data", (d) => {
      stderr += String(d);
      look();
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("login (device flow)", () => {
  it("prints code and URL, waits for approval, writes the token to ~/.npmrc beside the other lines", async () => {
    const home = await box.home();
    await writeFile(
      path.join(home, ".npmrc"),
      "; keep me\nfund=false\n//other.example/:_authToken=other\n",
    );
    const session = await signIn("dana");
    const r = await loginRun(["--registry", registry.url], home, async (userCode, output) => {
      expect(userCode).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
      expect(output).toContain("http://127.0.0.1:1/dashboard/cli/auth");
      expect(output).toContain(`http://127.0.0.1:1/dashboard/cli/auth?code=${userCode}`);
      // Nothing is approved yet: the CLI keeps polling (interval 1 s) until the person decides.
      await new Promise((res) => setTimeout(res, 2500));
      await decide(userCode, session, true);
    });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain(`Logged in as dana on ${registry.url}/.`);
    expect(r.stdout).not.toContain("Opened your browser"); // no TTY, no display: never
    // The wait longer than a second is shown on stderr (one line off a terminal).
    expect(r.stderr).toContain("Waiting for the code to be approved…");
    const rc = await readFile(path.join(home, ".npmrc"), "utf8");
    const lines = rc.trimEnd().split("\n");
    expect(lines.slice(0, 3)).toEqual([
      "; keep me",
      "fund=false",
      "//other.example/:_authToken=other",
    ]);
    expect(lines[3]).toMatch(
      new RegExp(`^//${host.replace(/\./g, "\\.")}/:_authToken=ey[\\w-]+\\.[\\w-]+\\.[\\w-]+$`),
    );
    expect(lines).toHaveLength(4);

    // Logged in: whoami needs no flag for the token (the registry still needs naming).
    expect(ok(await cli(["whoami", "--registry", registry.url], { home })).stdout.trim()).toBe(
      "dana",
    );
    // npm itself uses the same line.
    const sb = await clients.sandbox();
    const { run } = await import("@packr/registry/e2e/clients");
    const who = await run(
      "npm",
      ["whoami", "--registry", `${registry.url}/`, "--userconfig", path.join(home, ".npmrc")],
      {
        cwd: home,
        env: cliEnv(sb.home, { npm_config_cache: sb.cache }),
      },
    );
    expect(who.stdout.trim(), describeRun(who)).toBe("dana");

    // Logging in again replaces the line, it does not add a second one.
    const again = await loginRun(["--registry", registry.url, "--json"], home, async (userCode) => {
      await decide(userCode, session, true);
    });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({
      registry: `${registry.url}/`,
      username: "dana",
      npmrc: path.join(home, ".npmrc"),
    });
    expect(again.stderr).toContain("one-time code:"); // instructions stay off stdout with --json
    const rc2 = await readFile(path.join(home, ".npmrc"), "utf8");
    expect(rc2.trimEnd().split("\n")).toHaveLength(4);
    expect(rc2).not.toBe(rc);
  });

  it("a denied code ends the login with an auth error (3) and writes nothing", async () => {
    const home = await box.home();
    const session = await signIn("erin");
    const r = await loginRun(
      ["--registry", registry.url, "--provider", "github"],
      home,
      async (userCode) => {
        await decide(userCode, session, false);
      },
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("The login was denied in the browser.");
    await expect(readFile(path.join(home, ".npmrc"), "utf8")).rejects.toThrow();
  });
});

describe("token", () => {
  it("create → use with npm → list → revoke → refused", async () => {
    const home = await box.home();
    await writeFile(path.join(home, ".npmrc"), npmrc(registry.url, admin));
    const created = ok(
      await cli(
        [
          "token",
          "create",
          "ci-publish",
          "--role",
          "ci-publish",
          "--scope",
          "@acme",
          "--expires",
          "30d",
          "--kind",
          "ci",
          "--json",
        ],
        { home },
      ),
    ).json() as {
      token: string;
      id: string;
      role: string;
      scopes: string[];
      npmrcLine: string;
      expiresAt: string;
    };
    expect(created).toMatchObject({ role: "ci-publish", scopes: ["@acme"], name: "ci-publish" });
    expect(created.npmrcLine).toBe(`//${host}/:_authToken=${created.token}`);
    const days = (Date.parse(created.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29);
    expect(days).toBeLessThan(31);

    // The human form prints the token once and the line.
    const human = ok(await cli(["token", "create", "shown", "--role", "ci-readonly"], { home }));
    expect(human.stdout).toMatch(/It is shown only this once:\n\n {2}ey/);
    expect(human.stdout).toContain(`//${host}/:_authToken=ey`);

    // npm publishes and installs with the new token.
    const pkg = await makeProject(clients, "acme-pkg", {
      manifest: { name: "@acme/from-ci", version: "1.0.0", main: "index.js", license: "MIT" },
      files: { "index.js": "module.exports = 'ci';\n" },
      npmrc: npmrc(registry.url, created.token),
    });
    expectSuccess(await clients.npm(["publish"], { cwd: pkg }));
    // …but only into its scope.
    const outside = await makeProject(clients, "other-pkg", {
      manifest: { name: "@other/nope", version: "1.0.0", license: "MIT" },
      npmrc: npmrc(registry.url, created.token),
    });
    expectFailure(await clients.npm(["publish"], { cwd: outside }), "403");

    const list = ok(await cli(["token", "list", "--json"], { home })).json() as {
      tokens: { id: string; name: string; revokedAt: string | null }[];
    };
    expect(list.tokens.find((t) => t.id === created.id)).toMatchObject({
      name: "ci-publish",
      revokedAt: null,
    });
    const table = ok(await cli(["token", "list"], { home }));
    expect(table.stdout).toMatch(/^ID\s+NAME\s+ROLE\s+SCOPES/);
    expect(table.stdout).toContain(created.id);
    expect(table.stdout).toMatch(
      new RegExp(`${created.id}\\s+ci-publish\\s+ci-publish\\s+@acme\\s+ci\\s+.*active`),
    );

    ok(await cli(["token", "revoke", created.id], { home }));
    const after = ok(await cli(["token", "list", "--json"], { home })).json() as {
      tokens: { id: string; revokedAt: string | null }[];
    };
    expect(after.tokens.find((t) => t.id === created.id)?.revokedAt ?? "revoked").toBeTruthy();

    // Revocation reaches the token check within its 2-second cache.
    await new Promise((r) => setTimeout(r, 2500));
    const again = await makeProject(clients, "acme-pkg2", {
      manifest: { name: "@acme/from-ci", version: "1.0.1", license: "MIT" },
      npmrc: npmrc(registry.url, created.token),
    });
    expectFailure(await clients.npm(["publish"], { cwd: again }), "401");
    fails(
      await cli(["whoami", "--registry", registry.url, "--token", created.token], { home }),
      3,
      "revoked",
    );
  });

  it("refusals: unknown id is not-found (4); a role above the caller's is auth (3); no token is auth (3)", async () => {
    const home = await box.home();
    await writeFile(path.join(home, ".npmrc"), npmrc(registry.url, admin));
    const missing = await cli(["token", "revoke", "tok_doesnotexist", "--json"], { home });
    expect(missing.code, describeRun(missing)).toBe(4);
    expect(jsonError(missing)).toMatchObject({ status: 404, exitCode: 4 });

    // A read-only token may not mint a publishing one.
    const ro = ok(
      await cli(["token", "create", "ro", "--role", "ci-readonly", "--json"], { home }),
    ).json() as { token: string };
    const above = await cli(
      ["token", "create", "up", "--role", "admin", "--token", ro.token, "--json"],
      { home },
    );
    expect(above.code, describeRun(above)).toBe(3);
    expect(jsonError(above).status).toBe(403);
    expect(jsonError(above).error.length).toBeGreaterThan(10);

    const anon = await box.home();
    fails(
      await cli(["token", "list", "--registry", registry.url], { home: anon }),
      3,
      "Not logged in",
    );
  });
});
