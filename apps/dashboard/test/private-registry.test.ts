/**
 * The dashboard in front of a private registry (PACKR_READ_REQUIRES_AUTH=true), in Chromium: its
 * calls to the registry (the internal secret plus X-Packr-Session) are not strangers' reads, so
 * sign-in, the tokens page and the device-flow page work as on an open registry, and what they
 * hand out reads the registry that refuses a caller without a token.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authorizeDevice,
  pollDeviceToken,
  type Stack,
  signInWithOidc,
  startStack,
} from "./stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ registryEnv: { PACKR_READ_REQUIRES_AUTH: "true" } });
});
afterAll(async () => {
  await stack?.close();
});

async function ping(token?: string): Promise<number> {
  const res = await fetch(`${stack.registry.url}/-/ping`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  await res.body?.cancel();
  return res.status;
}

describe("the dashboard with a private registry", () => {
  it("signs in, creates a read token on /tokens and approves a device code on /cli/auth", async () => {
    expect(await ping()).toBe(401);

    const ctx = await stack.newContext();
    const page = await ctx.newPage();
    await page.goto("/tokens");
    await signInWithOidc(page, "priya");
    await page.waitForURL("**/tokens");
    await page.locator("#name").fill("reader");
    await page.locator("#role").selectOption("ci-readonly");
    await page.getByRole("button", { name: "Create token" }).click();
    const token = (await page.getByTestId("token-value").textContent())?.trim() ?? "";
    expect(token.length).toBeGreaterThan(20);
    expect(await ping(token)).toBe(200);
    await page.getByTestId("token-row-reader").waitFor();

    const device = await authorizeDevice(stack.registry.url);
    await page.goto(device.verification_uri_complete);
    await expect(page.getByTestId("user-code").textContent()).resolves.toBe(device.user_code);
    await page.getByRole("button", { name: "Approve" }).click();
    await page.waitForURL("**/cli/auth/done?status=approved");
    // Approved: the client's next poll (after the interval the registry asked for) gets a token.
    await new Promise((r) => setTimeout(r, device.interval * 1000));
    const done = await pollDeviceToken(stack.registry.url, device.device_code);
    expect(done.status).toBe(200);
    expect(await ping(String(done.body.access_token))).toBe(200);
    await ctx.close();
  });
});
