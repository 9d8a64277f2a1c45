/**
 * `pnpm start` (scripts/start-all.ts) as a person runs it, on random ports: two Packrs side by
 * side, each dashboard signing in against its own registry; the printed first-start admin signs in
 * with a password and has admin powers, a wrong password is refused with a clear sentence; a second
 * start on a data dir in use, and a start on a taken port, exit non-zero saying why while the first
 * keeps serving; after kill -9 of the first, a start on the same data dir succeeds. And the
 * registry alone (`pnpm --filter @packr/registry start`) on PACKR_PORT.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, freePort, screenshot } from "./stack.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const START_ALL = path.resolve(here, "../scripts/start-all.ts");
const REPO = path.resolve(here, "../../..");

type Started = {
  registryUrl: string;
  dashboardUrl: string;
  dataDir: string;
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
};

const running: Started[] = [];
const dirs: string[] = [];
let browser: Browser;

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
});
afterAll(async () => {
  await browser?.close().catch(() => {});
  for (const s of running) await stopGroup(s, "SIGTERM");
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function newDataDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), "packr-start-"));
  dirs.push(d);
  return d;
}

/** Only PATH and HOME from outside, as on a fresh machine with no configuration. */
function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? os.homedir(),
    PACKR_UPLINK_URL: "",
    ...extra,
  } as unknown as NodeJS.ProcessEnv;
}

/** Run start-all in its own process group (so kill -9 can take the whole Packr, as a closed terminal does). */
function launch(opts: {
  registryPort: number;
  dashboardPort: number;
  dataDir: string;
  adminPassword?: string;
  adminEmail?: string;
}): Started {
  const child = spawn(process.execPath, ["--import", "tsx", START_ALL, "--no-build"], {
    cwd: REPO,
    env: env({
      PACKR_PORT: String(opts.registryPort),
      PACKR_DASHBOARD_PORT: String(opts.dashboardPort),
      PACKR_DATA_DIR: opts.dataDir,
      ...(opts.adminPassword ? { PACKR_ADMIN_PASSWORD: opts.adminPassword } : {}),
      ...(opts.adminEmail ? { PACKR_ADMIN_EMAIL: opts.adminEmail } : {}),
    }),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  child.stdout?.on("data", (d) => {
    out += String(d);
  });
  child.stderr?.on("data", (d) => {
    out += String(d);
  });
  const exit = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return {
    registryUrl: `http://localhost:${opts.registryPort}`,
    dashboardUrl: `http://localhost:${opts.dashboardPort}`,
    dataDir: opts.dataDir,
    child,
    output: () => out,
    exit,
  };
}

/** Wait for start-all's "Packr is running." (or its exit, which fails the test with its output). */
async function untilRunning(s: Started): Promise<Started> {
  const deadline = Date.now() + 170_000;
  while (!s.output().includes("Packr is running.")) {
    if (s.child.exitCode !== null)
      throw new Error(`start exited ${s.child.exitCode}:\n${s.output()}`);
    if (Date.now() > deadline) throw new Error(`start did not finish:\n${s.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  running.push(s);
  return s;
}

async function stopGroup(s: Started, signal: NodeJS.Signals): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  try {
    process.kill(-(s.child.pid as number), signal);
  } catch {
    return;
  }
  await s.exit;
}

async function health(url: string): Promise<number> {
  try {
    const res = await fetch(`${url}/health`);
    await res.body?.cancel();
    return res.status;
  } catch {
    return 0;
  }
}

/**
 * The admin password of a first start. Not on a terminal, the registry prints only the path of
 * the 0600 file that holds it (never the password itself, which would land in collected logs).
 */
function printedPassword(s: Started): string {
  return adminPasswordFrom(s.output());
}

function adminPasswordFrom(out: string): string {
  const m = /Created user "admin"; its password is in (\S+) /.exec(out);
  if (!m?.[1]) throw new Error(`no admin password file printed:\n${out}`);
  const password = readFileSync(m[1], "utf8").trim();
  if (out.includes(password)) throw new Error("the admin password was printed");
  return password;
}

/** Make an admin-role token on /tokens: the registry refuses it to anyone who is not an admin. */
async function createAdminToken(page: Page, name: string): Promise<string> {
  await page.locator("#name").fill(name);
  await page.locator("#role").selectOption("admin");
  await page.getByRole("button", { name: "Create token" }).click();
  await page.getByTestId("token-value").waitFor();
  return (await page.getByTestId("token-value").textContent())?.trim() ?? "";
}

async function passwordSignIn(page: Page, name: string, password: string): Promise<void> {
  await page.locator("#username").fill(name);
  await page.locator("#password").fill(password);
  await page.getByRole("button", { name: "Sign in with password" }).click();
}

describe("pnpm start", () => {
  let alpha: Started;
  let bravo: Started;

  it("runs two Packrs side by side on other ports, each dashboard signing in at its own registry", async () => {
    const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
    const [a1, a2, b1, b2] = ports as [number, number, number, number];
    // Started one after the other: two cold starts at once are slow on two shared cores.
    alpha = await untilRunning(
      launch({ registryPort: a1, dashboardPort: a2, dataDir: await newDataDir() }),
    );
    bravo = await untilRunning(
      launch({
        registryPort: b1,
        dashboardPort: b2,
        dataDir: await newDataDir(),
        adminPassword: "bravo-password-1",
        adminEmail: "ops@example.test",
      }),
    );
    expect(await health(alpha.registryUrl)).toBe(200);
    expect(await health(bravo.registryUrl)).toBe(200);
    expect(alpha.output()).toContain(`Dashboard  ${alpha.dashboardUrl}`);
    expect(alpha.output()).toContain(`Registry   ${alpha.registryUrl}`);
    expect(alpha.output()).toContain(
      `sign in at ${alpha.dashboardUrl}/login with username "admin"`,
    );
    // No turbo or Next.js chatter in what a person reads.
    expect(alpha.output()).not.toMatch(/telemetry|▲ Next\.js/i);

    // Each dashboard asks its own registry: bravo's password is wrong at alpha, alpha's is right.
    const ctx = await browser.newContext({ baseURL: alpha.dashboardUrl });
    const page = await ctx.newPage();
    await page.goto("/login");
    await passwordSignIn(page, "admin", "bravo-password-1");
    await page.locator(".alert.error").waitFor();
    expect(await page.locator(".alert.error").textContent()).toBe(
      "Incorrect username or password.",
    );
    await screenshot(page, "start-wrong-password");
    await passwordSignIn(page, "admin", printedPassword(alpha));
    await page.waitForURL("**/tokens");

    // Admin powers: the admin role is offered and an admin token is made and works.
    const token = await createAdminToken(page, "ops");
    const who = await fetch(`${alpha.registryUrl}/-/whoami`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await who.json()).toEqual({ username: "admin" });
    await screenshot(page, "start-admin-token");
    await ctx.close();

    // And bravo's dashboard signs in with bravo's password.
    const ctx2 = await browser.newContext({ baseURL: bravo.dashboardUrl });
    const page2 = await ctx2.newPage();
    await page2.goto("/login");
    await passwordSignIn(page2, "admin", "bravo-password-1");
    await page2.waitForURL("**/tokens");
    await ctx2.close();

    // PACKR_ADMIN_EMAIL: the printed link for that address signs in as the admin, not a new account.
    const ctx3 = await browser.newContext({ baseURL: bravo.dashboardUrl });
    const page3 = await ctx3.newPage();
    await page3.goto("/login");
    await page3.locator("#email").fill("ops@example.test");
    await page3.getByRole("button", { name: "Email me a sign-in link" }).click();
    await page3.getByTestId("link-in-terminal").waitFor();
    const link = /Sign-in link for ops@example\.test .*\n\s+(\S+)/.exec(bravo.output())?.[1];
    expect(link).toMatch(/\/api\/auth\/callback\/email\?token=/);
    await page3.goto(link as string);
    await page3.waitForURL("**/tokens");
    expect(await createAdminToken(page3, "via-email")).not.toBe("");
    await ctx3.close();

    // kill -9 of `pnpm start` alone (not its children): the registry and the dashboard stop too,
    // freeing the data dir and both ports.
    process.kill(bravo.child.pid as number, "SIGKILL");
    await bravo.exit;
    const freed = Date.now() + 30_000;
    while ((await health(bravo.registryUrl)) !== 0 || (await health(bravo.dashboardUrl)) !== 0) {
      if (Date.now() > freed) throw new Error("bravo's children outlived it");
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 400_000);

  it("says where the sign-in link is when no mail server is configured", async () => {
    const ctx = await browser.newContext({ baseURL: alpha.dashboardUrl });
    const page = await ctx.newPage();
    await page.goto("/login");
    await page.locator("#email").fill("newcomer@example.test");
    await page.getByRole("button", { name: "Email me a sign-in link" }).click();
    await page.getByTestId("link-in-terminal").waitFor();
    expect(await page.getByTestId("link-in-terminal").textContent()).toMatch(
      /printed in the terminal where Packr runs/,
    );
    await screenshot(page, "start-link-in-terminal");
    expect(alpha.output()).toMatch(
      /Sign-in link for newcomer@example\.test .*\n\s+http:\/\/localhost:\d+\/api\/auth\/callback\/email\?token=/,
    );
    await ctx.close();
  }, 120_000);

  it("refuses a second start on a data dir in use, and one on a taken port, while the first serves", async () => {
    const second = launch({
      registryPort: await freePort(),
      dashboardPort: await freePort(),
      dataDir: alpha.dataDir,
    });
    expect(await second.exit).not.toBe(0);
    expect(second.output()).toMatch(
      /Another Packr \(pid \d+\) is already using the embedded database in .*PACKR_DATA_DIR/,
    );
    const portTaken = launch({
      registryPort: Number(new URL(alpha.registryUrl).port),
      dashboardPort: await freePort(),
      dataDir: await newDataDir(),
    });
    expect(await portTaken.exit).not.toBe(0);
    expect(portTaken.output()).toMatch(
      /Port \d+ on 127\.0\.0\.1 is already in use.*set PACKR_PORT/,
    );
    const dashTaken = launch({
      registryPort: await freePort(),
      dashboardPort: Number(new URL(alpha.dashboardUrl).port),
      dataDir: await newDataDir(),
    });
    expect(await dashTaken.exit).not.toBe(0);
    expect(dashTaken.output()).toMatch(/already in use.*set PACKR_DASHBOARD_PORT/);
    expect(await health(alpha.registryUrl)).toBe(200);
  }, 200_000);

  it("starts again on the same data dir after kill -9 of the first", async () => {
    const ports = {
      registryPort: Number(new URL(alpha.registryUrl).port),
      dashboardPort: Number(new URL(alpha.dashboardUrl).port),
    };
    const password = printedPassword(alpha);
    await stopGroup(alpha, "SIGKILL");
    const again = await untilRunning(launch({ ...ports, dataDir: alpha.dataDir }));
    expect(await health(again.registryUrl)).toBe(200);
    // The same data: the admin's password from the first start still signs in.
    const login = await fetch(`${again.registryUrl}/-/v1/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "admin", password }),
    });
    expect(login.status).toBe(201);
  }, 200_000);
});

describe("the registry alone", () => {
  it("starts on PACKR_PORT, links to the dashboard on PACKR_DASHBOARD_PORT, and refuses a second on its data dir", async () => {
    const [port, dashPort] = [await freePort(), await freePort()];
    const dataDir = await newDataDir();
    const run = () =>
      spawn("pnpm", ["--filter", "@packr/registry", "start"], {
        cwd: REPO,
        env: env({
          PACKR_PORT: String(port),
          PACKR_DASHBOARD_PORT: String(dashPort),
          PACKR_DATA_DIR: dataDir,
          PACKR_ADMIN_EMAIL: "Ops@Example.test",
        }),
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
    const child = run();
    let out = "";
    child.stdout?.on("data", (d) => {
      out += String(d);
    });
    child.stderr?.on("data", (d) => {
      out += String(d);
    });
    const started: Started = {
      registryUrl: `http://localhost:${port}`,
      dashboardUrl: "",
      dataDir,
      child,
      output: () => out,
      exit: new Promise((r) => child.once("exit", r)),
    };
    running.push(started);
    const deadline = Date.now() + 120_000;
    while ((await health(started.registryUrl)) !== 200) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(out);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(out).toContain(`sign in at http://localhost:${dashPort}/login with username "admin"`);
    expect(out).toContain("or with ops@example.test (PACKR_ADMIN_EMAIL)");
    // Device-flow links point at the dashboard on PACKR_DASHBOARD_PORT.
    const device = await fetch(`${started.registryUrl}/-/v1/device/authorize`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client: "packr-cli" }),
    });
    expect(((await device.json()) as { verification_uri: string }).verification_uri).toMatch(
      new RegExp(`^http://localhost:${dashPort}/`),
    );

    const second = spawn(process.execPath, ["--import", "tsx", "apps/registry/src/server.ts"], {
      cwd: REPO,
      env: env({ PACKR_PORT: String(await freePort()), PACKR_DATA_DIR: dataDir }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    second.stderr?.on("data", (d) => {
      err += String(d);
    });
    const code = await new Promise((r) => second.once("exit", r));
    expect(code).toBe(1);
    expect(err).toMatch(/Another Packr \(pid \d+\) is already using the embedded database/);
    expect(await health(started.registryUrl)).toBe(200);

    // The dashboard alone on PACKR_DASHBOARD_PORT finds this registry from PACKR_PORT alone.
    const dash = spawn("pnpm", ["--filter", "@packr/dashboard", "start"], {
      cwd: REPO,
      env: env({
        PACKR_PORT: String(port),
        PACKR_DASHBOARD_PORT: String(dashPort),
        PACKR_DATA_DIR: dataDir,
      }),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let dashOut = "";
    dash.stdout?.on("data", (d) => {
      dashOut += String(d);
    });
    dash.stderr?.on("data", (d) => {
      dashOut += String(d);
    });
    const dashboard: Started = {
      registryUrl: "",
      dashboardUrl: `http://localhost:${dashPort}`,
      dataDir,
      child: dash,
      output: () => dashOut,
      exit: new Promise((r) => dash.once("exit", r)),
    };
    running.push(dashboard);
    const ctx = await browser.newContext({ baseURL: dashboard.dashboardUrl });
    const page = await ctx.newPage();
    for (let tries = 0; ; tries++) {
      try {
        await page.goto("/login");
        break;
      } catch (e) {
        if (dash.exitCode !== null || tries > 200) throw new Error(`${e}\n${dashOut}`);
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    const password = adminPasswordFrom(out);
    await passwordSignIn(page, "admin", password);
    await page.waitForURL("**/tokens");
    await ctx.close();
  }, 200_000);
});
