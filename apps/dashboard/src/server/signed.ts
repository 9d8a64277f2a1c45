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

/**
 * Only same-origin paths may be a post-sign-in destination (no open redirects). Browsers strip
 * tab, CR and LF from URLs and read `\\` as `/`, so `/\t/evil.com` and `/\\evil.com` would become
 * `//evil.com`: anything with a control character, whitespace or backslash is refused, and what is
 * left must resolve to this origin.
 */
export function safeNext(next: string | null | undefined, fallback = "/tokens"): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (!next?.startsWith("/") || next.startsWith("//") || /[\x00-\x20\x7f\\]/.test(next)) {
    return fallback;
  }
  const origin = "http://packr.invalid";
  try {
    const url = new URL(next, origin);
    const path = `${url.pathname}${url.search}${url.hash}`;
    // Dot segments can fold into `//` (`/.//evil.com`): check what it resolved to, again.
    return url.origin === origin && !path.startsWith("//") ? path : fallback;
  } catch {
    return fallback;
  }
}
