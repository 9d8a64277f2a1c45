/**
 * The /tokens page in Chromium: a token made there works with the registry at once and stops
 * working when revoked there; the registry's refusal of a token with more than the person holds
 * reaches the page; signing out ends the session at the registry; and a session that has expired
 * is nobody, whatever the cookie says.
 */
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, screenshot, signInWithOidc, startStack } from "./stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

async function whoami(token: string): Promise<number> {
  const res = await fetch(`${stack.registry.url}/-/whoami`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await res.body?.cancel();
  return res.status;
}

async function signedInOnTokens(page: Page, login: string): Promise<void> {
  await page.goto("/tokens");
  await signInWithOidc(page, login);
  await page.waitForURL("**/tokens");
}

async function createToken(
  page: Page,
  form: { name: string; role: string; scopes?: string; kind?: string; expiresIn?: string },
): Promise<void> {
  await page.locator("#name").fill(form.name);
  if (form.expiresIn) await page.locator("#expiresIn").selectOption(form.expiresIn);
  await page.locator("#role").selectOption(form.role);
  if (form.kind) await page.locator("#kind").selectOption(form.kind);
  if (form.scopes) await page.locator("#scopes").fill(form.scopes);
  await page.getByRole("button", { name: "Create token" }).click();
}

describe("the tokens page", () => {
  it("creates a scoped CI token that works at once, lists it without its secret, and revokes it", async () => {
    const ctx = await stack.newContext();
    const page = await ctx.newPage();
    await signedInOnTokens(page, "tina");
    await expect(page.getByText("No tokens yet.").count()).resolves.toBe(1);

    await createToken(page, { name: "release-job", role: "ci-publish", scopes: "@acme" });
    const token = (await page.getByTestId("token-value").textContent())?.trim() ?? "";
    expect(token.length).toBeGreaterThan(20);
    const registry = new URL(stack.registry.url);
    await expect(page.getByTestId("npmrc-line").textContent()).resolves.toBe(
      `//${registry.host}/:_authToken=${token}`,
    );
    expect(await whoami(token)).toBe(200);

    const row = page.getByTestId("token-row-release-job");
    await row.waitFor();
    const cells = await row.locator("td").allTextContents();
    expect(cells.slice(0, 3)).toEqual(["release-jobci", "ci-publish", "@acme"]);
    // The list never shows the secret again.
    expect(await page.locator("table").textContent()).not.toContain(token);
    await screenshot(page, "tokens-created");

    // A reload forgets the one-time secret.
    await page.reload();
    expect(await page.content()).not.toContain(token);

    await row.getByRole("button", { name: "Revoke" }).click();
    await row.getByRole("button", { name: "Yes, revoke" }).click();
    await row.getByText(/^revoked /).waitFor();
    expect(await whoami(token)).toBe(401);
    await ctx.close();
  });

  it("creates a 15-minute token for one CI job: it works, lives 15 minutes, and the list says until when", async () => {
    const ctx = await stack.newContext();
    const page = await ctx.newPage();
    await signedInOnTokens(page, "yara");
    // The choices start with short ones (default range 5m..90d); 30 days is preselected.
    await expect(page.locator("#expiresIn option").allTextContents()).resolves.toEqual([
      "in 15 minutes",
      "in 1 hour",
      "in 1 day",
      "in 7 days",
      "in 30 days",
      "in 90 days",
    ]);
    await expect(page.locator("#expiresIn").inputValue()).resolves.toBe("30d");

    await createToken(page, { name: "job-15m", role: "ci-readonly", expiresIn: "15m" });
    const token = (await page.getByTestId("token-value").textContent())?.trim() ?? "";
    expect(token.split(".")).toHaveLength(3);
    expect(await whoami(token)).toBe(200);
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as {
      exp: number;
      iat: number;
    };
    expect(claims.exp - claims.iat).toBe(15 * 60);

    const row = page.getByTestId("token-row-job-15m");
    await row.waitFor();
    const cells = await row.locator("td").allTextContents();
    const until = new Date(claims.exp * 1000).toISOString().slice(0, 16).replace("T", " ");
    expect(cells[5]).toBe(`${until} UTC`);
    await screenshot(page, "tokens-15-minutes");
    await ctx.close();
  });

  it("shows the registry's refusal of a token with more than the person holds", async () => {
    const ctx = await stack.newContext();
    const page = await ctx.newPage();
    await signedInOnTokens(page, "uma");
    await createToken(page, { name: "too-much", role: "admin" });
    const alert = page.locator(".alert.error");
    await alert.waitFor();
    await expect(alert.textContent()).resolves.toMatch(/admin/i);
    await expect(page.getByTestId("new-token").count()).resolves.toBe(0);
    await expect(page.getByTestId("token-row-too-much").count()).resolves.toBe(0);
    await ctx.close();
  });

  it("refuses a form without a name before it reaches the registry", async () => {
    const ctx = await stack.newContext();
    const page = await ctx.newPage();
    await signedInOnTokens(page, "victor");
    // Past the browser's own `required` check: the server action validates too.
    await page.locator("#name").evaluate((el) => el.removeAttribute("required"));
    await page.locator("#name").fill("   ");
    await page.getByRole("button", { name: "Create token" }).click();
    await expect(page.locator(".alert.error").textContent()).resolves.toContain(
      "Give the token a name.",
    );
    await ctx.close();
  });
});

describe("signing out", () => {
  it("ends the session at the registry, not just the cookie", async () => {
    const ctx = await stack.newContext();
    const page = await ctx.newPage();
    await signedInOnTokens(page, "xena");
    const cookie = (await ctx.cookies()).find((c) => c.name === "packr_session");
    expect(cookie?.value).toBeTruthy();
    const me = async () => {
      const res = await fetch(`${stack.registry.url}/api/v1/admin/me`, {
        headers: {
          authorization: `Bearer ${stack.secrets.internalApi}`,
          "x-packr-session": cookie?.value ?? "",
        },
      });
      await res.body?.cancel();
      return res.status;
    };
    expect(await me()).toBe(200);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL("**/login**");
    expect((await ctx.cookies()).find((c) => c.name === "packr_session")).toBeUndefined();
    // The old value is dead everywhere: replaying it is nobody.
    expect(await me()).toBe(401);
    await screenshot(page, "signed-out");
    await ctx.close();
  });
});

describe("an expired session", () => {
  it("is nobody: the page sends the person to sign in again", async () => {
    const ctx = await stack.newContext();
    const page = await ctx.newPage();
    await signedInOnTokens(page, "walt");
    await expect(page.getByRole("button", { name: "Sign out" }).count()).resolves.toBe(1);

    // Age the session row while the registry is stopped (PGlite has one writer at a time).
    await stack.restartRegistry(async () => {
      const db = await PGlite.create(stack.registryDbDir, { extensions: { pg_trgm } });
      try {
        const aged = await db.query(
          `update sessions set expires_at = now() - interval '1 minute'
             where user_id = (select id from users where email = $1) and revoked_at is null`,
          [stack.oidc.emailOf("walt")],
        );
        expect(aged.affectedRows).toBe(1);
      } finally {
        await db.close();
      }
    });

    await page.goto("/tokens");
    const url = new URL(page.url());
    expect(url.pathname).toBe("/login");
    expect(url.searchParams.get("next")).toBe("/tokens");
    await expect(page.getByRole("button", { name: "Sign out" }).count()).resolves.toBe(0);
    await ctx.close();
  });
});
