import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Small HMAC-SHA256 envelopes for state the dashboard hands to the browser and must get back
 * untouched: the OAuth state/PKCE/nonce cookie and magic-link tokens. `purpose` is mixed into the
 * MAC so a value minted for one use is never accepted for another.
 */
export function seal(secret: string, purpose: string, payload: object): string {
  const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
  return `${body}.${mac(secret, purpose, body)}`;
}

export function unseal<T>(secret: string, purpose: string, value: string | undefined): T | null {
  if (!value) return null;
  const dot = value.lastIndexOf(".");
  if (dot <= 0) return null;
  const body = value.slice(0, dot);
  const given = Buffer.from(value.slice(dot + 1), "base64url");
  const want = Buffer.from(mac(secret, purpose, body), "base64url");
  if (given.length !== want.length || !timingSafeEqual(given, want)) return null;
  try {
    const payload = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as T & {
      exp?: number;
    };
    if (typeof payload.exp === "number" && payload.exp < Date.now()) return null;
    return payload;
  } catch {
    return null;
  }
}

function mac(secret: string, purpose: string, body: string): string {
  return createHmac("sha256", secret).update(`${purpose}\n${body}`).digest("base64url");
}

/** Only same-site paths may be a post-sign-in destination (no open redirects). */
export function safeNext(next: string | null | undefined, fallback = "/tokens"): string {
  if (!next?.startsWith("/") || next.startsWith("//") || next.includes("\\")) {
    return fallback;
  }
  return next;
}
