/**
 * The device flow end to end in Chromium: a client starts RFC 8628 at the registry and polls
 * POST /-/v1/device/token while a person opens /cli/auth, signs in at a real OpenID Connect
 * provider (oidc-provider) and approves; and stock `npm login` through the same page. Plus what
 * the page must refuse: wrong, expired and already-decided codes, denied consent.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authorizeDevice,
  pollDeviceToken,
  type Stack,
  screenshot,
  signInWithOidc,
  startStack,
} from "./stack.ts";

let stack: Stack;
let alice: BrowserContext;

beforeAll(async () => {
  // Codes live 60 s here (the shortest the registry allows), so expiry is testable in the file.
  stack = await startStack({ registryEnv: { PACKR_DEVICE_CODE_TTL_SECONDS: "60" } });
});
afterAll(async () => {
  await alice?.close();
  await stack?.close();
});

/** Poll as an RFC 8628 client does: wait `interval`, back off by 5 s on slow_down. */
async function pollUntilDone(deviceCode: string, interval: number) {
  const seen: string[] = [];
  let wait = interval;
  for (let i = 0; i < 60; i++) {
    await new Promise((r) => setTimeout(r, wait * 1000));
    const res = await pollDeviceToken(stack.registry.url, deviceCode);
    if (res.status === 200) return { ...res, seen };
    const error = String(res.body.error);
    seen.push(error);
    if (error === "slow_down") wait += 5;
    else if (error !== "authorization_pending") return { ...res, seen };
  }
  throw new Error("the device flow did not finish");
}

describe("packr's device flow through /cli/auth", () => {
  it("signs in at the OIDC provider, approves, and the polling client gets a working token", async () => {
    const device = await authorizeDevice(stack.registry.url, {
      client: "packr-cli",
      provider: "oidc",
    });
    expect(device.user_code).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    expect(device.verification_uri).toBe(`${stack.dashboard.url}/cli/auth`);
    expect(device.verification_uri_complete).toBe(
      `${stack.dashboard.url}/cli/auth?code=${device.user_code}`,
    );
    const first = await pollDeviceToken(stack.registry.url, device.device_code);
    expect(first).toEqual({
      status: 400,
      body: expect.objectContaining({ error: "authorization_pending" }),
    });
    const polling = pollUntilDone(device.device_code, device.interval);

    alice = await stack.newContext();
    const page = await alice.newPage();
    await page.goto(device.verification_uri_complete);
    expect(new URL(page.url()).pathname).toBe("/login");
    await screenshot(page, "cli-auth-sign-in");
    await signInWithOidc(page, "alice", "cli-auth");
    await page.waitForURL("**/cli/auth?code=*");
    await expect(page.getByTestId("user-code").textContent()).resolves.toBe(device.user_code);
    await expect(page.locator("main").textContent()).resolves.toContain("packr CLI");
    await expect(page.locator("main").textContent()).resolves.toContain(
      stack.oidc.emailOf("alice"),
    );
    await screenshot(page, "cli-auth-approve");
    await page.getByRole("button", { name: "Approve" }).click();
    await page.waitForURL("**/cli/auth/done?status=approved");
    await expect(page.locator("h1").textContent()).resolves.toBe("You are signed in");
    await screenshot(page, "cli-auth-approved");

    const done = await polling;
    expect(done.status).toBe(200);
    expect(done.body.token_type).toBe("Bearer");
    const token = String(done.body.access_token);
    const whoami = await fetch(`${stack.registry.url}/-/whoami`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(whoami.status).toBe(200);
    expect(((await whoami.json()) as { username: string }).username).toBe("alice");

    // A device code is single-use: polling it again never hands out a second token.
    const again = await pollDeviceToken(stack.registry.url, device.device_code);
    expect(again.status).toBe(400);
    expect(again.body.access_token).toBeUndefined();
  });

  it("takes a code typed by hand, in any case and without the dash", async () => {
    const device = await authorizeDevice(stack.registry.url);
    const page = await alice.newPage();
    await page.goto("/cli/auth");
    await screenshot(page, "cli-auth-enter-code");
    await page.locator("#code").fill(device.user_code.replace("-", "").toLowerCase());
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL("**/cli/auth?code=*");
    await expect(page.getByTestId("user-code").textContent()).resolves.toBe(device.user_code);
    await page.close();
  });

  it("denies: the page says so and the client gets access_denied", async () => {
    const device = await authorizeDevice(stack.registry.url);
    const page = await alice.newPage();
    await page.goto(device.verification_uri_complete);
    await page.getByRole("button", { name: "Deny" }).click();
    await page.waitForURL("**/cli/auth/done?status=denied");
    await expect(page.locator("h1").textContent()).resolves.toBe("Sign-in denied");
    await screenshot(page, "cli-auth-denied");
    const res = await pollDeviceToken(stack.registry.url, device.device_code);
    expect(res).toEqual({ status: 400, body: expect.objectContaining({ error: "access_denied" }) });
    // The decision is final: the page does not offer to approve it afterwards.
    await page.goto(device.verification_uri_complete);
    await expect(page.getByRole("button", { name: "Approve" }).count()).resolves.toBe(0);
    await page.close();
  });

  it("answers a wrong code the same way as an expired one", async () => {
    const page = await alice.newPage();
    await page.goto("/cli/auth?code=BCDF-GHJK");
    await page.waitForURL("**/cli/auth/done?status=invalid");
    await expect(page.locator("h1").textContent()).resolves.toBe("Code not valid");
    await screenshot(page, "cli-auth-invalid");
    await page.goto("/cli/auth?code=%3Cscript%3E");
    await page.waitForURL("**/cli/auth/done?status=invalid");
    await page.close();
  });

  it("tells a polling client to slow down when it polls faster than the interval", async () => {
    const device = await authorizeDevice(stack.registry.url);
    const a = await pollDeviceToken(stack.registry.url, device.device_code);
    const b = await pollDeviceToken(stack.registry.url, device.device_code);
    expect(a.body.error).toBe("authorization_pending");
    expect(b.body.error).toBe("slow_down");
  });
});

describe("stock npm login through the browser", () => {
  it("npm login --registry … prints a URL, the person approves it, npm is logged in", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), "packr-npm-login-"));
    try {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH ?? "",
        HOME: home,
        npm_config_cache: path.join(home, ".npm"),
        npm_config_update_notifier: "false",
        CI: "true",
      } as unknown as NodeJS.ProcessEnv;
      const npm = spawn("npm", ["login", "--registry", `${stack.registry.url}/`], {
        env,
        cwd: home,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      npm.stdout.on("data", (d) => {
        out += String(d);
      });
      npm.stderr.on("data", (d) => {
        out += String(d);
      });
      const exited = new Promise<number | null>((r) => npm.once("exit", r));
      const deadline = Date.now() + 30_000;
      let loginUrl: string | undefined;
      while (!loginUrl) {
        loginUrl = /(http:\/\/\S+\/cli\/auth\?code=[A-Z0-9-]+)/.exec(out)?.[1];
        if (Date.now() > deadline || npm.exitCode !== null)
          throw new Error(`no login URL:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const page = await alice.newPage();
      await page.goto(loginUrl);
      await expect(page.locator("main").textContent()).resolves.toContain("npm login");
      await screenshot(page, "cli-auth-npm-login");
      await page.getByRole("button", { name: "Approve" }).click();
      await page.waitForURL("**/cli/auth/done?status=approved");
      await page.close();

      expect(await exited, out).toBe(0);
      expect(out).toContain(`Logged in on ${stack.registry.url}/`);
      const npmrc = await readFile(path.join(home, ".npmrc"), "utf8");
      const host = new URL(stack.registry.url).host;
      expect(npmrc).toMatch(new RegExp(`//${host.replace(/\./g, "\\.")}/:_authToken=\\S+`));
      const whoami = spawn("npm", ["whoami", "--registry", `${stack.registry.url}/`], {
        env,
        cwd: home,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let who = "";
      whoami.stdout.on("data", (d) => {
        who += String(d);
      });
      expect(await new Promise((r) => whoami.once("exit", r))).toBe(0);
      expect(who.trim()).toBe("alice");
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe("expiry", () => {
  it("an expired code is refused on the page and to the client", async () => {
    const device = await authorizeDevice(stack.registry.url);
    expect(device.expires_in).toBeLessThanOrEqual(60);
    await new Promise((r) => setTimeout(r, (device.expires_in + 2) * 1000));
    const page = await alice.newPage();
    await page.goto(device.verification_uri_complete);
    await page.waitForURL("**/cli/auth/done?status=invalid");
    await page.close();
    const res = await pollDeviceToken(stack.registry.url, device.device_code);
    expect(res).toEqual({ status: 400, body: expect.objectContaining({ error: "expired_token" }) });
  }, 120_000);
});
