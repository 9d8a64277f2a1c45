import { randomBytes } from "node:crypto";
import * as oidc from "openid-client";
import type { DashboardSettings } from "./config.ts";
import { findOAuthProvider, type Identity } from "./providers.ts";
import { type AdminUser, callRegistry } from "./registry.ts";
import { safeNext, seal, unseal } from "./signed.ts";

export const FLOW_COOKIE = "packr_oauth";
const FLOW_TTL_MS = 10 * 60 * 1000;
const MAGIC_LINK_TTL_MS = 15 * 60 * 1000;

/** What the browser carries between the redirect to the provider and the callback. */
type Flow = {
  p: string;
  state: string;
  verifier: string;
  nonce?: string;
  next: string;
  exp: number;
};

export function callbackUrl(s: DashboardSettings, provider: string): string {
  return `${s.dashboardUrl}/api/auth/callback/${provider}`;
}

/**
 * Start an authorization-code flow with PKCE (S256), a random state and, for OpenID Connect, a
 * nonce. They travel in a sealed, httpOnly cookie scoped to the callback path.
 */
export async function startOAuth(
  s: DashboardSettings,
  providerId: string,
  next: string | null,
): Promise<{ url: string; cookie: string } | null> {
  const provider = findOAuthProvider(s, providerId);
  if (!provider) return null;
  const config = await provider.configuration();
  const verifier = oidc.randomPKCECodeVerifier();
  const flow: Flow = {
    p: provider.id,
    state: oidc.randomState(),
    verifier,
    next: safeNext(next),
    exp: Date.now() + FLOW_TTL_MS,
  };
  const params: Record<string, string> = {
    redirect_uri: callbackUrl(s, provider.id),
    scope: provider.scope,
    state: flow.state,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
  };
  if (provider.isOidc) {
    flow.nonce = oidc.randomNonce();
    params.nonce = flow.nonce;
  }
  const url = oidc.buildAuthorizationUrl(config, params).href;
  return { url, cookie: seal(s.sessionSecret, FLOW_COOKIE, flow) };
}

export type SignInFailure =
  | "unknown_provider"
  | "state_mismatch"
  | "access_denied"
  | "provider_error"
  | "invalid_link"
  | "registry_refused"
  | "signup_refused";

export type SignInResult =
  | { ok: true; session: string; expiresAt: string; user: AdminUser; next: string }
  | {
      ok: false;
      reason: SignInFailure;
      /** The registry's own sentence (who to ask, which setting), sealed for the error page. */
      detail?: string;
    };

const DETAIL_TTL_MS = 10 * 60 * 1000;

/**
 * The registry's refusal travels to the error page sealed (HMAC with the session secret), so the
 * page shows only sentences the registry wrote, never text someone put in a link.
 */
export function sealDetail(s: DashboardSettings, message: string): string {
  return seal(s.sessionSecret, "sign-in-detail", {
    message: message.slice(0, 1000),
    exp: Date.now() + DETAIL_TTL_MS,
  });
}

export function unsealDetail(s: DashboardSettings, value: string | undefined): string | null {
  return unseal<{ message: string }>(s.sessionSecret, "sign-in-detail", value)?.message ?? null;
}

/** Finish a provider's callback: check state, PKCE and nonce, read the person, open a session. */
export async function finishOAuth(
  s: DashboardSettings,
  providerId: string,
  currentUrl: URL,
  flowCookie: string | undefined,
): Promise<SignInResult> {
  const provider = findOAuthProvider(s, providerId);
  if (!provider) return { ok: false, reason: "unknown_provider" };
  const error = currentUrl.searchParams.get("error");
  if (error)
    return { ok: false, reason: error === "access_denied" ? "access_denied" : "provider_error" };
  const flow = unseal<Flow>(s.sessionSecret, FLOW_COOKIE, flowCookie);
  // No flow cookie, another provider's, or a state that differs: a forged or replayed callback.
  if (!flow || flow.p !== provider.id || currentUrl.searchParams.get("state") !== flow.state) {
    return { ok: false, reason: "state_mismatch" };
  }
  let identity: Identity;
  try {
    const config = await provider.configuration();
    const tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      ...(flow.nonce ? { expectedNonce: flow.nonce, idTokenExpected: true } : {}),
    });
    identity = await provider.identify(tokens);
  } catch (err) {
    console.error(`sign-in with ${provider.id} failed:`, err instanceof Error ? err.message : err);
    return { ok: false, reason: "provider_error" };
  }
  return openSession(s, identity, flow.next);
}

async function openSession(
  s: DashboardSettings,
  identity: Identity,
  next: string,
): Promise<SignInResult> {
  const created = await callRegistry<{ session: string; expiresAt: string; user: AdminUser }>(
    "/api/v1/admin/sessions",
    { method: "POST", body: identity },
  );
  if (!created.ok) {
    // The sign-up policy said no: a sentence for the person, not an incident.
    if (created.status === 403 && created.code === "FORBIDDEN") {
      return { ok: false, reason: "signup_refused", detail: sealDetail(s, created.message) };
    }
    console.error(`the registry refused a session: ${created.status} ${created.message}`);
    return { ok: false, reason: "registry_refused" };
  }
  return { ok: true, ...created.data, next };
}

type MagicLink = { email: string; jti: string; next: string; exp: number };

/** One-time-use bookkeeping for magic links: a link's id is remembered until it expires. */
const usedLinks = new Map<string, number>();

export function magicLinkUrl(s: DashboardSettings, email: string, next: string | null): string {
  const link: MagicLink = {
    email: email.trim().toLowerCase(),
    jti: randomBytes(16).toString("base64url"),
    next: safeNext(next),
    exp: Date.now() + MAGIC_LINK_TTL_MS,
  };
  const token = seal(s.sessionSecret, "magic-link", link);
  return `${callbackUrl(s, "email")}?token=${encodeURIComponent(token)}`;
}

/** A magic link signs its address in once, within 15 minutes; the address counts as verified. */
export async function finishMagicLink(
  s: DashboardSettings,
  token: string | null,
): Promise<SignInResult> {
  if (!s.email) return { ok: false, reason: "unknown_provider" };
  const link = unseal<MagicLink>(s.sessionSecret, "magic-link", token ?? undefined);
  const now = Date.now();
  for (const [id, exp] of usedLinks) if (exp < now) usedLinks.delete(id);
  if (!link || usedLinks.has(link.jti)) return { ok: false, reason: "invalid_link" };
  usedLinks.set(link.jti, link.exp);
  return openSession(
    s,
    {
      provider: "email",
      subject: link.email,
      email: link.email,
      emailVerified: true,
      name: null,
    },
    link.next,
  );
}
