/**
 * The sign-in page and everything sign-in must refuse: no or forged session cookies, callbacks
 * whose state does not match (CSRF), callbacks with no flow at all, a declined consent at the
 * provider, unknown providers and open redirects.
 */
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, screenshot, signInWithOidc, startStack } from "./stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

describe("the sign-in page", () => {
  it("offers every enabled provider and email", async () => {
    const ctx = await stack.newContext();
    const page = await ctx.newPage();
    await page.goto("/");
    expect(new URL(page.url()).pathname).toBe("/login");
    for (const label of ["GitHub", "Google", "GitLab", "Test SSO", "Forge SSO"]) {
      await expect(
        page.getByRole("link", { name: `Continue with ${label}` }).count(),
      ).resolves.toBe(1);
    }
    await expect(
      page.getByRole("button", { name: "Email me a sign-in link" }).count(),
    ).resolves.toBe(1);
    await screenshot(page, "login");
    await ctx.close();
  });

  it("shows only the providers that are configured", async () => {
    const only = await startStack({
      dashboardEnv: {
        GITHUB_CLIENT_ID: "",
        GITLAB_CLIENT_ID: "",
        GOOGLE_CLIENT_ID: "",
        FORGE_AUTH_CLIENT_ID: "",
        SMTP_URL: "",
      },
    });
    try {
      const ctx = await only.newContext();
      const page = await ctx.newPage();
      await page.goto("/login");
      const links = await page.locator(".providers a").allTextContents();
      expect(links).toEqual(["Continue with Test SSO"]);
      await expect(page.locator("#email").count()).resolves.toBe(0);
      const res = await page.goto("/api/auth/signin/github");
      expect(new URL(page.url()).searchParams.get("error")).toBe("unknown_provider");
      expect(res?.status()).toBe(200);
      await ctx.close();
    } finally {
      await only.close();
    }
  });
});

describe("sessions", () => {
  it("sends a visitor without a session to /login and back afterwards", async () => {
    const ctx = await stack.newContext();
    const page = await ctx.newPage();
    await page.goto("/tokens");
    const url = new URL(page.url());
    expect(url.pathname).toBe("/login");
    expect(url.searchParams.get("next")).toBe("/tokens");
    await ctx.close();
  });

  it("treats a forged session cookie as nobody", async () => {
    const ctx = await stack.newContext();
    const dashboard = new URL(stack.dashboard.url);
    for (const value of [
      "forged",
      "ses_0000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ]) {
      await ctx.addCookies([
        { name: "packr_session", value, domain: dashboard.hostname, path: "/", httpOnly: true },
      ]);
      const page = await ctx.newPage();
      await page.goto("/tokens");
      expect(new URL(page.url()).pathname).toBe("/login");
      await expect(page.getByRole("button", { name: "Sign out" }).count()).resolves.toBe(0);
      await page.close();
    }
    await ctx.close();
  });
});

describe("provider callbacks", () => {
  it("refuses a callback whose state differs from the one the browser started with", async () => {
    const ctx = await stack.newContext();
    const page = await ctx.newPage();
    // Start the flow (the browser context gets the sealed flow cookie), then come back with a
    // code and a state that an attacker chose instead of the provider's answer.
    const authorize = await startFlow(ctx, "github");
    const back = new URL(authorize.searchParams.get("redirect_uri") ?? "");
    back.searchParams.set("code", "attacker-code");
    back.searchParams.set("state", "forged-state");
    await page.goto(back.href);
    expect(new URL(page.url()).searchParams.get("reason")).toBe("state_mismatch");
    await expect(page.locator(".alert").textContent()).resolves.toContain("could not be verified");
    await expect(page.getByRole("button", { name: "Sign out" }).count()).resolves.toBe(0);
    await screenshot(page, "sign-in-error");
    // No code was redeemed at the provider.
    expect(stack.oauth.tokenRequests.filter((r) => r.params.code === "attacker-code")).toEqual([]);
    await ctx.close();
  });

  it("refuses a callback the browser never started (login CSRF)", async () => {
    const ctx = await stack.newContext();
    const page = await ctx.newPage();
    await page.goto("/api/auth/callback/gitlab?code=abc&state=whatever");
    expect(new URL(page.url()).searchParams.get("reason")).toBe("state_mismatch");
    await page.goto("/api/auth/callback/oidc?code=abc&state=whatever");
    expect(new URL(page.url()).searchParams.get("reason")).toBe("state_mismatch");
    await ctx.close();
  });

  it("refuses a flow cookie that was tampered with", async () => {
    const ctx = await stack.newContext();
    const page = await ctx.newPage();
    await startFlow(ctx, "gitlab");
    const [flow] = await ctx.cookies(`${stack.dashboard.url}/api/auth/callback/gitlab`);
    expect(flow?.name).toBe("packr_oauth");
    expect(flow?.httpOnly).toBe(true);
    const [body, mac] = (flow?.value ?? "").split(".");
    const payload = JSON.parse(Buffer.from(body ?? "", "base64url").toString());
    payload.state = "chosen-by-attacker";
    await ctx.addCookies([
      {
        ...(flow as NonNullable<typeof flow>),
        value: `${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${mac}`,
      },
    ]);
    await page.goto("/api/auth/callback/gitlab?code=x&state=chosen-by-attacker");
    expect(new URL(page.url()).searchParams.get("reason")).toBe("state_mismatch");
    await ctx.close();
  });

  it("says so when the person declines at the provider", async () => {
    const ctx = await stack.newContext();
    const page = await ctx.newPage();
    await page.goto("/login");
    await page.getByRole("link", { name: "Continue with Test SSO" }).click();
    await page.locator('input[name="login"]').waitFor();
    await page.getByRole("link", { name: "[ Cancel ]" }).click();
    await page.waitForURL("**/auth/error**");
    expect(new URL(page.url()).searchParams.get("reason")).toBe("access_denied");
    await expect(page.locator(".alert").textContent()).resolves.toContain("declined");
    await ctx.close();
  });

  it.each([
    "//evil.example/steal",
    "/\t/evil.example",
    "/\r\n/evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "https://evil.example",
    "/ /evil.example",
    "/%2F%2Fevil.example/../",
    "/.//evil.example",
    "/a/..//evil.example",
  ])("never redirects off the dashboard after sign-in (next=%j)", async (next) => {
    const ctx = await stack.newContext();
    await startFlow(ctx, "github", next);
    const [flow] = await ctx.cookies(`${stack.dashboard.url}/api/auth/callback/github`);
    const payload = JSON.parse(
      Buffer.from((flow?.value ?? "").split(".")[0] ?? "", "base64url").toString(),
    );
    const landing = new URL(payload.next, stack.dashboard.url);
    expect(landing.origin).toBe(new URL(stack.dashboard.url).origin);
    expect(payload.next).toMatch(/^\/(?!\/)/);
    await ctx.close();
  });

  it("keeps a same-origin destination with its query", async () => {
    const ctx = await stack.newContext();
    await startFlow(ctx, "github", "/cli/auth?code=BCDF-GHJK");
    const [flow] = await ctx.cookies(`${stack.dashboard.url}/api/auth/callback/github`);
    const payload = JSON.parse(
      Buffer.from((flow?.value ?? "").split(".")[0] ?? "", "base64url").toString(),
    );
    expect(payload.next).toBe("/cli/auth?code=BCDF-GHJK");
    await ctx.close();
  });

  it("asks the provider for PKCE S256 and a state, and a nonce where it is OpenID Connect", async () => {
    const ctx = await stack.newContext();
    const github = await startFlow(ctx, "github");
    expect(github.searchParams.get("code_challenge_method")).toBe("S256");
    expect(github.searchParams.get("code_challenge")).toMatch(/^[\w-]{43}$/);
    expect(github.searchParams.get("state")).toMatch(/^[\w-]{20,}$/);
    expect(github.searchParams.get("redirect_uri")).toBe(
      `${stack.dashboard.url}/api/auth/callback/github`,
    );
    const oidc = await startFlow(ctx, "oidc");
    expect(oidc.origin).toBe(stack.oidc.issuer);
    expect(oidc.searchParams.get("nonce")).toMatch(/^[\w-]{20,}$/);
    expect(oidc.searchParams.get("scope")).toBe("openid email profile");
    await ctx.close();
  });
});

describe("the sign-up policy", () => {
  it("shows the registry's refusal outside the allow-list, and lets members in by GitHub org, GitLab group and OIDC claim", async () => {
    const policy = {
      PACKR_SIGNUP: "allowlist",
      PACKR_SIGNUP_GITHUB_ORGS: "acme-corp",
      PACKR_SIGNUP_GITLAB_GROUPS: "acme/platform",
      PACKR_SIGNUP_OIDC_CLAIMS: "groups:platform",
    };
    const closed = await startStack({
      registryEnv: policy,
      dashboardEnv: { ...policy, OIDC_SCOPES: "openid email profile groups" },
    });
    try {
      const ctx = await closed.newContext();
      // The allow-list names GitHub organizations, so GitHub is asked for read:org.
      const authorize = await startFlow(ctx, "github");
      expect(authorize.searchParams.get("scope")).toBe("read:user user:email read:org");
      const page = await ctx.newPage();
      await page.goto("/login");
      await page.getByRole("link", { name: "Continue with GitHub" }).click();
      await page.waitForURL("**/auth/error**");
      expect(new URL(page.url()).searchParams.get("reason")).toBe("signup_refused");
      await expect(page.locator(".alert").textContent()).resolves.toContain(
        "You have no account on this registry",
      );
      const detail = await page.locator(".detail").textContent();
      expect(detail).toContain("octo@example.test is not on this registry's sign-up allow-list");
      expect(detail).toContain("PACKR_SIGNUP_GITHUB_ORGS");
      expect(detail).toContain("Ask an administrator of this registry to invite you");
      await screenshot(page, "sign-up-refused");
      expect((await ctx.cookies()).find((c) => c.name === "packr_session")).toBeUndefined();
      // The page shows only sentences the dashboard sealed, never text from a crafted link.
      await page.goto("/auth/error?reason=signup_refused&detail=Call%20evil%20support");
      await expect(page.locator(".detail").count()).resolves.toBe(0);
      // Once GitHub reports the membership, the same person gets an account.
      closed.oauth.people.github.groups = ["other-org", "Acme-Corp"];
      await page.goto("/login");
      await page.getByRole("link", { name: "Continue with GitHub" }).click();
      await page.waitForURL("**/tokens");
      await expect(page.locator("header .who").textContent()).resolves.toBe(
        closed.oauth.people.github.email,
      );
      await ctx.close();

      // GitLab: the groups of its userinfo (asked for with `openid`), an exact group path.
      const gl = await closed.newContext();
      const glAuthorize = await startFlow(gl, "gitlab");
      expect(glAuthorize.searchParams.get("scope")).toBe("read_user openid");
      const glPage = await gl.newPage();
      closed.oauth.people.gitlab.groups = ["acme"];
      await glPage.goto("/login");
      await glPage.getByRole("link", { name: "Continue with GitLab" }).click();
      await glPage.waitForURL("**/auth/error**");
      expect(new URL(glPage.url()).searchParams.get("reason")).toBe("signup_refused");
      closed.oauth.people.gitlab.groups = ["acme", "acme/platform"];
      await glPage.goto("/login");
      await glPage.getByRole("link", { name: "Continue with GitLab" }).click();
      await glPage.waitForURL("**/tokens");
      await gl.close();

      // Generic OIDC: the configured claim, from the real provider's userinfo.
      const oidc = await closed.newContext();
      const oidcPage = await oidc.newPage();
      await oidcPage.goto("/login");
      await signInWithOidc(oidcPage, "outsider");
      await oidcPage.waitForURL("**/auth/error**");
      await expect(oidcPage.locator(".detail").textContent()).resolves.toContain(
        "PACKR_SIGNUP_OIDC_CLAIMS",
      );
      await oidc.close();
      // A fresh browser: the provider remembers who signed in there.
      const member = await closed.newContext();
      const memberPage = await member.newPage();
      await memberPage.goto("/login");
      await signInWithOidc(memberPage, "plat-member");
      await memberPage.waitForURL("**/tokens");
      await member.close();
    } finally {
      await closed.close();
    }
  });
});

/** GET /api/auth/signin/:provider in the context (so its cookie lands there); the provider URL. */
async function startFlow(ctx: BrowserContext, provider: string, next?: string): Promise<URL> {
  const q = next ? `?next=${encodeURIComponent(next)}` : "";
  const res = await ctx.request.get(`/api/auth/signin/${provider}${q}`, { maxRedirects: 0 });
  expect(res.status()).toBe(302);
  return new URL(res.headers().location ?? "");
}
