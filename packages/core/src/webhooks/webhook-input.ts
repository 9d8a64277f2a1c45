import { randomBytes } from "node:crypto";
import type { WebhookConfig } from "../config/config.ts";
import { PackrError } from "../errors.ts";
import { checkWebhookUrl } from "./url-guard.ts";

/** Longest webhook URL accepted (browsers' and proxies' common limit). */
export const MAX_WEBHOOK_URL = 2048;
/** Hooks one user or one org may have. */
export const MAX_WEBHOOKS_PER_OWNER = 50;
export const MIN_WEBHOOK_SECRET = 16;
export const MAX_WEBHOOK_SECRET = 256;

/**
 * A webhook URL from a caller, checked as deliveries will check it (scheme, no credentials, every
 * address its host resolves to public unless PACKR_WEBHOOK_ALLOW_PRIVATE): the normalised form to
 * store (`http://2130706433/` is kept as `http://127.0.0.1/`, what it is).
 */
export async function parseWebhookUrl(
  config: Pick<WebhookConfig, "allowHttp" | "allowPrivate">,
  raw: string,
): Promise<string> {
  const url = raw.trim();
  if (url.length === 0) throw new PackrError("VALIDATION", "A webhook needs a URL (https://…).");
  if (url.length > MAX_WEBHOOK_URL) {
    throw new PackrError(
      "VALIDATION",
      `The webhook URL is ${url.length} characters long; at most ${MAX_WEBHOOK_URL} are accepted.`,
    );
  }
  const checked = await checkWebhookUrl(config, url);
  return checked.url.href;
}

/**
 * A hook's signing secret: the caller's (at least 16 visible ASCII characters; one that starts with
 * `whsec_` must be Standard Webhooks' form, base64 after the prefix) or a new
 * `whsec_<base64 of 32 random bytes>`.
 */
export function webhookSecret(raw: string | undefined): string {
  if (raw === undefined) return `whsec_${randomBytes(32).toString("base64")}`;
  if (raw.length < MIN_WEBHOOK_SECRET || raw.length > MAX_WEBHOOK_SECRET) {
    throw new PackrError(
      "VALIDATION",
      `A webhook secret must be ${MIN_WEBHOOK_SECRET} to ${MAX_WEBHOOK_SECRET} characters long; leave it out to have one generated.`,
    );
  }
  if (!/^[\x21-\x7e]+$/.test(raw)) {
    throw new PackrError(
      "VALIDATION",
      "A webhook secret may hold only visible ASCII characters (no spaces or control characters); leave it out to have one generated.",
    );
  }
  if (raw.startsWith("whsec_")) {
    const b64 = raw.slice("whsec_".length);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0 || b64.length < 16) {
      throw new PackrError(
        "VALIDATION",
        "A secret starting with whsec_ must be base64 after the prefix (Standard Webhooks' form, at least 12 bytes); drop the prefix to use the text as it is.",
      );
    }
  }
  return raw;
}
