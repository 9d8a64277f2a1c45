/**
 * Each sign-in adapter end to end in Chromium: GitHub, GitLab, Google and forge-auth against
 * local stand-ins of their endpoints (which check client secret, redirect URI and PKCE), and the
 * email magic link through a local SMTP server. Accounts link by verified email.
 */
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, screenshot, startStack } from "./stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

/** Who the context's session cookie belongs to, asked of the registry as the dashboard asks. */
async function me(ctx: BrowserContext) {
  const cookie = (await ctx.cookies()).find((c) => c.name === "packr_session");
  expect(cookie, "a packr_session cookie").toBeDefined();
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe("Lax");
  const res = await fetch(`${stack.registry.url}/api/v1/admin/me`, {
    headers: {
      authorization: `Bearer ${stack.secrets.internalApi}`,
      "x-packr-session": cookie?.value ?? "",
    },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { user: { id: string; name: string; email: string | null } }).user;
}

const adapters = [
  { label: "GitHub", provider: "github", person: "github" },
  { label: "GitLab", provider: "gitlab", person: "gitlab" },
  { label: "Google", provider: "google", person: "google" },
  { label: "Forge SSO", provider: "forge", person: "forge" },
] as const;

describe("OAuth adapters against local stand-ins", () => {
  for (const a of adapters) {
    it(`signs in with ${a.label}`, async () => {
      const ctx = await stack.newContext();
      const page = await ctx.newPage();
      const before = stack.oauth.tokenRequests.length;
      await page.goto("/login");
      await page.getByRole("link", { name: `Continue with ${a.label}` }).click();
      await page.waitForURL("**/tokens");
      const person = stack.oauth.people[a.person];
      await expect(page.locator("header .who").textContent()).resolves.toBe(person.email);
      const user = await me(ctx);
      expect(user.email).toBe(person.email);
      // One code redeemed, with the PKCE verifier and the client secret (the stand-in checks both).
      const redeemed = stack.oauth.tokenRequests.slice(before);
      expect(redeemed).toHaveLength(1);
      expect(redeemed[0]?.provider).toBe(a.provider);
      expect(redeemed[0]?.params.code_verifier).toMatch(/^[\w-]{43,128}$/);
      // The flow cookie is gone once used.
      const flow = (await ctx.cookies()).find((c) => c.name === "packr_oauth");
      expect(flow).toBeUndefined();
      await ctx.close();
    });
  }

  it("signs the same person in to the same account the second time", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const ctx = await stack.newContext();
      const page = await ctx.newPage();
      await page.goto("/login");
      await page.getByRole("link", { name: "Continue with GitLab" }).click();
      await page.waitForURL("**/tokens");
      ids.push((await me(ctx)).id);
      await ctx.close();
    }
    expect(ids[0]).toBe(ids[1]);
  });

  it("returns to the page that asked for sign-in", async () => {
    const ctx = await stack.newContext();
    const page = await ctx.newPage();
    await page.goto("/cli/auth?code=BCDF-GHJK");
    expect(new URL(page.url()).searchParams.get("next")).toBe("/cli/auth?code=BCDF-GHJK");
    await page.getByRole("link", { name: "Continue with GitHub" }).click();
    await page.waitForURL("**/cli/auth/done?status=invalid");
    await ctx.close();
  });
});

describe("email magic link over SMTP", () => {
  it("mails a one-time link that signs the address in", async () => {
    const ctx = await stack.newContext();
    const page = await ctx.newPage();
    await page.goto("/login");
    await page.locator("#email").fill("Mia@Example.Test");
    await page.getByRole("button", { name: "Email me a sign-in link" }).click();
    await page.waitForURL("**/login/check-email");
    await screenshot(page, "login-check-email");
    const mail = await stack.smtp.nextMailTo("mia@example.test");
    expect(mail.from).toBe("packr@example.test");
    const link = /(http:\/\/\S+\/api\/auth\/callback\/email\?token=\S+)/.exec(mail.text)?.[1];
    expect(link, mail.text).toBeDefined();
    await page.goto(link ?? "");
    await page.waitForURL("**/tokens");
    expect((await me(ctx)).email).toBe("mia@example.test");
    await ctx.close();

    // Once: the same link in another browser is refused.
    const other = await stack.newContext();
    const again = await other.newPage();
    await again.goto(link ?? "");
    expect(new URL(again.url()).searchParams.get("reason")).toBe("invalid_link");
    await expect(again.locator(".alert").textContent()).resolves.toContain("already used");
    // A link whose token was altered is refused too.
    const tampered = (link ?? "").replace(/token=([^.]+)/, (_m, body: string) => {
      const payload = JSON.parse(Buffer.from(decodeURIComponent(body), "base64url").toString());
      payload.email = "admin@example.test";
      return `token=${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
    });
    await again.goto(tampered);
    expect(new URL(again.url()).searchParams.get("reason")).toBe("invalid_link");
    expect((await other.cookies()).find((c) => c.name === "packr_session")).toBeUndefined();
    await other.close();
  });

  it("links a verified email to the account that already has it", async () => {
    const gh = await stack.newContext();
    const p1 = await gh.newPage();
    await p1.goto("/login");
    await p1.getByRole("link", { name: "Continue with GitHub" }).click();
    await p1.waitForURL("**/tokens");
    const viaGithub = await me(gh);
    await gh.close();

    const ctx = await stack.newContext();
    const page = await ctx.newPage();
    await page.goto("/login");
    await page.locator("#email").fill(stack.oauth.people.github.email);
    await page.getByRole("button", { name: "Email me a sign-in link" }).click();
    await page.waitForURL("**/login/check-email");
    const mail = await stack.smtp.nextMailTo(stack.oauth.people.github.email);
    const link = /(http:\/\/\S+\/api\/auth\/callback\/email\?token=\S+)/.exec(mail.text)?.[1];
    await page.goto(link ?? "");
    await page.waitForURL("**/tokens");
    expect((await me(ctx)).id).toBe(viaGithub.id);
    await ctx.close();
  });

  it("refuses a malformed address without sending mail", async () => {
    const ctx = await stack.newContext();
    const page = await ctx.newPage();
    const sent = stack.smtp.mails.length;
    await page.goto("/login");
    // Past the browser's own check, as a script posting the form would be.
    await page.locator("form:has(#email)").evaluate((el) => el.setAttribute("novalidate", ""));
    await page.locator("#email").fill("not an address");
    await page.getByRole("button", { name: "Email me a sign-in link" }).click();
    await page.waitForURL((u) => u.searchParams.get("error") === "invalid_email");
    await expect(page.locator(".alert").textContent()).resolves.toContain("valid email");
    expect(stack.smtp.mails.length).toBe(sent);
    await ctx.close();
  });
});
