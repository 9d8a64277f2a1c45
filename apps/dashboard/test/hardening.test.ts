/**
 * The dashboard's defences against its own visitors and a slow registry: security headers (and the
 * app still working under its CSP), limits on sign-in mails, and a deadline on every registry call.
 */
import net from "node:net";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Proc, type Stack, screenshot, startDashboardProcess, startStack } from "./stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

/** Collect every CSP violation the page reports (a blocked Next script would show up here). */
async function watchViolations(page: Page): Promise<string[]> {
  const violations: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  await page.exposeFunction("__cspViolation", (v: string) => violations.push(v));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      (window as unknown as { __cspViolation: (v: string) => void }).__cspViolation(
        `${e.violatedDirective} ${e.blockedURI}`,
      );
    });
  });
  return violations;
}

describe("security headers", () => {
  it("sends CSP (nonce, frame-ancestors 'none'), nosniff, Referrer-Policy and X-Frame-Options on /login", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${stack.dashboard.url}/login`);
      expect(res.status).toBe(200);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]{20,}' 'strict-dynamic'(;|$)/);
      expect(csp).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
      // http dashboard: no HSTS, no upgrade of its own http subresources.
      expect(csp).not.toContain("upgrade-insecure-requests");
      expect(res.headers.get("strict-transport-security")).toBeNull();
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      // The page's own inline scripts carry this response's nonce, and only it.
      const nonce = /'nonce-([^']+)'/.exec(csp)?.[1] ?? "";
      const html = await res.text();
      const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
      expect(scripts.length).toBeGreaterThan(0);
      for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
      seen.add(nonce);
    }
    expect(seen.size).toBe(2); // a fresh nonce per response
  });

  it("sends the fixed headers on static assets too", async () => {
    const html = await (await fetch(`${stack.dashboard.url}/login`)).text();
    const asset = /src="(\/_next\/static\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeTruthy();
    const res = await fetch(`${stack.dashboard.url}${asset}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
  });

  it("still works under its CSP: scripts run, sign-in and the tokens page load, nothing is blocked", async () => {
    const ctx = await stack.newContext();
    const page = await ctx.newPage();
    const violations = await watchViolations(page);
    await page.goto("/login");
    // Hydrated: React attached to the page (only scripts allowed by the CSP could do that).
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll("button")).some((b) =>
        Object.keys(b).some((k) => k.startsWith("__reactFiber")),
      ),
    );
    await page.getByLabel("Username").fill("admin");
    await page.locator("#password").fill("admin-password-1");
    await page.getByRole("button", { name: "Sign in with password" }).click();
    // Signed in, the home page sends an account to its tokens.
    await page.waitForURL("**/tokens");
    await expect(page.locator("h1").textContent()).resolves.toBe("Tokens");
    // A client-side navigation (Next's router, a script loaded under 'strict-dynamic').
    await page.getByRole("link", { name: "Packr" }).click();
    await page.waitForURL("**/tokens");
    await expect(page.locator("h1").textContent()).resolves.toBe("Tokens");
    await screenshot(page, "hardening-tokens-under-csp");
    expect(violations).toEqual([]);
    await ctx.close();
  });
});

describe("sign-in mail limits", () => {
  it("refuses the 4th link for one address within 15 minutes, with a message, and sends no mail", async () => {
    const ctx = await stack.newContext();
    const page = await ctx.newPage();
    const to = "flooded@example.test";
    const ask = async () => {
      await page.goto("/login");
      await page.getByLabel("Email address").fill(to);
      await page.getByRole("button", { name: "Email me a sign-in link" }).click();
    };
    for (let i = 0; i < 3; i++) {
      await ask();
      await page.waitForURL("**/login/check-email");
      await stack.smtp.nextMailTo(to);
    }
    await ask();
    await page.waitForURL((u) => u.searchParams.get("error") === "too_many_links");
    const alert = await page.locator(".alert.error").textContent();
    expect(alert).toMatch(/Too many sign-in links were asked for/);
    expect(alert).toMatch(/3 for one email address in 15 minutes/);
    await screenshot(page, "hardening-too-many-links");
    // Give a mail that should not exist time to arrive, then count.
    await new Promise((r) => setTimeout(r, 1500));
    expect(stack.smtp.mails.filter((m) => m.to.includes(to))).toHaveLength(3);
    // Another address from the same browser is still served.
    await page.goto("/login");
    await page.getByLabel("Email address").fill("someone-else@example.test");
    await page.getByRole("button", { name: "Email me a sign-in link" }).click();
    await page.waitForURL("**/login/check-email");
    await stack.smtp.nextMailTo("someone-else@example.test");
    await ctx.close();
  });
});

describe("a registry that never answers", () => {
  let silent: net.Server;
  let sockets: net.Socket[];
  let dashboard: Proc;
  const TIMEOUT_MS = 1500;

  beforeAll(async () => {
    sockets = [];
    // Accepts every connection and reads the request, then says nothing, ever.
    silent = net.createServer((s) => {
      sockets.push(s);
      s.on("data", () => {});
      s.on("error", () => {});
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const { port } = silent.address() as net.AddressInfo;
    dashboard = await startDashboardProcess({
      PACKR_REGISTRY_URL: `http://127.0.0.1:${port}`,
      PACKR_REGISTRY_TIMEOUT: `${TIMEOUT_MS}ms`,
      SMTP_URL: stack.smtp.url,
    });
  });
  afterAll(async () => {
    await dashboard?.stop();
    for (const s of sockets ?? []) s.destroy();
    await new Promise((r) => silent?.close(r));
  });

  const expectTimedOut = async (page: Page, started: number) => {
    await page.waitForURL((u) => u.searchParams.get("error") === "registry_timeout", {
      timeout: 15_000,
    });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
    // Well inside the 10 s default: the configured deadline is the one applied.
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 6000);
    const alert = await page.locator(".alert.error").textContent();
    expect(alert).toMatch(/registry cannot be reached: it did not answer in time/);
  };

  it("answers a password sign-in with 'did not answer in time' within the timeout", async () => {
    const ctx = await stack.browser.newContext({ baseURL: dashboard.url });
    const page = await ctx.newPage();
    await page.goto("/login");
    await page.getByLabel("Username").fill("admin");
    await page.locator("#password").fill("whatever-password");
    const started = Date.now();
    await page.getByRole("button", { name: "Sign in with password" }).click();
    await expectTimedOut(page, started);
    expect(sockets.length).toBeGreaterThan(0); // the call did reach the silent server
    await screenshot(page, "hardening-registry-timeout");
    await ctx.close();
  });

  it("answers a sign-in mail request the same way, and sends no mail", async () => {
    const ctx = await stack.browser.newContext({ baseURL: dashboard.url });
    const page = await ctx.newPage();
    await page.goto("/login");
    await page.getByLabel("Email address").fill("slow@example.test");
    const started = Date.now();
    await page.getByRole("button", { name: "Email me a sign-in link" }).click();
    await expectTimedOut(page, started);
    expect(stack.smtp.mails.filter((m) => m.to.includes("slow@example.test"))).toHaveLength(0);
    await ctx.close();
  });
});
