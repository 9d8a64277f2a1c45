/**
 * The whole sign-in stack as real processes on loopback: the registry (embedded PGlite), the
 * dashboard (`next start` of the production build), a real OpenID Connect provider, stand-ins of
 * GitHub/GitLab/Google/forge-auth, an SMTP server — and the machine's Chromium through
 * playwright-core. One stack per test file; the build is made once per run (global setup).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { type OAuthStandins, startOAuthStandins } from "./standins/oauth-standins.ts";
import { type OidcServer, startOidcProvider } from "./standins/oidc.ts";
import { type SmtpSink, startSmtpSink } from "./standins/smtp.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
export const DASHBOARD_DIR = path.resolve(here, "..");
const REPO = path.resolve(DASHBOARD_DIR, "../..");
export const ARTIFACTS = path.join(DASHBOARD_DIR, "test-results");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export type Proc = { url: string; output: () => string; stop: () => Promise<void> };

export type Stack = {
  registry: Proc;
  /** The registry's embedded database directory (PGlite), for tests that age rows while it is stopped. */
  registryDbDir: string;
  /** Stop the registry, run `between` (it may open the database), start it again on the same port. */
  restartRegistry: (between: () => Promise<void>) => Promise<void>;
  dashboard: Proc;
  oidc: OidcServer;
  oauth: OAuthStandins;
  smtp: SmtpSink;
  secrets: { internalApi: string; session: string; jwt: string };
  browser: Browser;
  /** A fresh browser profile (no cookies) on the dashboard. */
  newContext: () => Promise<BrowserContext>;
  close: () => Promise<void>;
};

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function startProcess(
  name: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string>; url: string; probe: string },
): Promise<Proc> {
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: opts.cwd,
    // Next's types make NODE_ENV required; each caller sets what the process needs.
    env: opts.env as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => {
    out += String(d);
  });
  child.stderr?.on("data", (d) => {
    out += String(d);
  });
  const proc: Proc = {
    url: opts.url,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return (async () => {
    const started = Date.now();
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`${name} exited with ${child.exitCode}:\n${out}`);
      try {
        const res = await fetch(`${opts.url}${opts.probe}`, { redirect: "manual" });
        if (res.status < 500) return proc;
      } catch {
        // not listening yet
      }
      if (Date.now() - started > 90_000) {
        await proc.stop();
        throw new Error(`${name} did not start within 90 s:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
}

/** Only PATH and HOME from outside: no DATABASE_URL, provider settings or secrets leak in. */
function baseEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? os.homedir(),
    NEXT_TELEMETRY_DISABLED: "1",
  };
}

export async function startStack(
  opts: { dashboardEnv?: Record<string, string>; registryEnv?: Record<string, string> } = {},
): Promise<Stack> {
  const [registryPort, dashboardPort] = [await freePort(), await freePort()];
  const registryUrl = `http://127.0.0.1:${registryPort}`;
  const dashboardUrl = `http://127.0.0.1:${dashboardPort}`;
  const secrets = {
    internalApi: randomBytes(24).toString("base64url"),
    session: randomBytes(24).toString("base64url"),
    jwt: randomBytes(24).toString("base64url"),
  };
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-dash-"));
  const oidc = await startOidcProvider(dashboardUrl);
  const oauth = await startOAuthStandins();
  const smtp = await startSmtpSink();
  const shared = {
    INTERNAL_API_SECRET: secrets.internalApi,
    SESSION_SECRET: secrets.session,
    JWT_SECRET: secrets.jwt,
    PACKR_DASHBOARD_URL: dashboardUrl,
  };
  const started: Proc[] = [];
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close().catch(() => {});
    for (const p of started.reverse()) await p.stop();
    await Promise.all([oidc.close(), oauth.close(), smtp.close()]);
    await rm(dataDir, { recursive: true, force: true });
  };
  const startRegistry = () =>
    startProcess("registry", ["--import", "tsx", path.join(REPO, "apps/registry/src/server.ts")], {
      cwd: REPO,
      url: registryUrl,
      probe: "/-/ping",
      env: {
        ...baseEnv(),
        ...shared,
        PORT: String(registryPort),
        HOST: "127.0.0.1",
        PACKR_PUBLIC_URL: registryUrl,
        PACKR_DATA_DIR: path.join(dataDir, "registry"),
        PACKR_ADMIN_PASSWORD: "admin-password-1",
        PACKR_LOG_LEVEL: "warn",
        // Never the internet: no uplink.
        PACKR_UPLINK_URL: "",
        // Only the packages a test publishes: Packr's own clients are not published at start.
        PACKR_CLIENTS_DIR: path.join(dataDir, "no-clients"),
        // The suites sign new people up through every provider; a suite about the sign-up
        // policy passes its own PACKR_SIGNUP settings (to both processes).
        PACKR_SIGNUP: "open",
        ...opts.registryEnv,
      },
    });
  try {
    started.push(await startRegistry());
    started.push(
      await startProcess(
        "dashboard",
        [
          path.join(DASHBOARD_DIR, "node_modules/next/dist/bin/next"),
          "start",
          "-p",
          String(dashboardPort),
          "-H",
          "127.0.0.1",
        ],
        {
          cwd: DASHBOARD_DIR,
          url: dashboardUrl,
          probe: "/login",
          env: {
            ...baseEnv(),
            ...shared,
            NODE_ENV: "production",
            PACKR_REGISTRY_URL: registryUrl,
            PACKR_DATA_DIR: path.join(dataDir, "dashboard"),
            ...oauth.env(dashboardUrl),
            OIDC_ISSUER: oidc.issuer,
            OIDC_CLIENT_ID: oidc.clientId,
            OIDC_CLIENT_SECRET: oidc.clientSecret,
            OIDC_NAME: "Test SSO",
            SMTP_URL: smtp.url,
            MAIL_FROM: "Packr <packr@example.test>",
            ...opts.dashboardEnv,
          },
        },
      ),
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  } catch (err) {
    await close();
    throw err;
  }
  const launched = browser;
  await mkdir(ARTIFACTS, { recursive: true });
  const stack: Stack = {
    registry: started[0] as Proc,
    registryDbDir: path.join(dataDir, "registry", "db"),
    async restartRegistry(between) {
      await stack.registry.stop();
      await between();
      stack.registry = await startRegistry();
      started[0] = stack.registry;
    },
    dashboard: started[1] as Proc,
    oidc,
    oauth,
    smtp,
    secrets,
    browser: launched,
    newContext: () =>
      launched.newContext({ baseURL: dashboardUrl, viewport: { width: 1100, height: 800 } }),
    close,
  };
  return stack;
}

/**
 * A dashboard alone (`next start`), for tests that point it at something other than a registry
 * (one that never answers). Secrets are generated into its own data dir.
 */
export async function startDashboardProcess(env: Record<string, string>): Promise<Proc> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-dash-only-"));
  const proc = await startProcess(
    "dashboard",
    [
      path.join(DASHBOARD_DIR, "node_modules/next/dist/bin/next"),
      "start",
      "-p",
      String(port),
      "-H",
      "127.0.0.1",
    ],
    {
      cwd: DASHBOARD_DIR,
      url,
      probe: "/login",
      env: {
        ...baseEnv(),
        NODE_ENV: "production",
        PACKR_DASHBOARD_URL: url,
        PACKR_DATA_DIR: dataDir,
        ...env,
      },
    },
  );
  return {
    ...proc,
    async stop() {
      await proc.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A full-page screenshot kept as a test artifact (apps/dashboard/test-results/<name>.png). */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Sign in through the real OIDC provider's login and consent pages; ends wherever `next` was. */
export async function signInWithOidc(page: Page, login: string, shots?: string): Promise<void> {
  await page.getByRole("link", { name: "Continue with Test SSO" }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any-password");
  if (shots) await screenshot(page, `${shots}-provider-login`);
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
}

/** RFC 8628 device authorization, as a CLI starts it. */
export async function authorizeDevice(
  registryUrl: string,
  body: Record<string, unknown> = { client: "packr-cli" },
) {
  const res = await fetch(`${registryUrl}/-/v1/device/authorize`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status !== 200)
    throw new Error(`device/authorize answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as {
    device_code: string;
    user_code: string;
    verification_uri: string;
    verification_uri_complete: string;
    expires_in: number;
    interval: number;
  };
}

export async function pollDeviceToken(registryUrl: string, deviceCode: string) {
  const res = await fetch(`${registryUrl}/-/v1/device/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      device_code: deviceCode,
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
