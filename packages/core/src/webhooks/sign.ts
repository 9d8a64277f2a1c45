import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";

export const WEBHOOK_USER_AGENT = "Packr-Hookshot/1";

/**
 * The Standard Webhooks key of a hook's secret: a `whsec_…` secret is that standard's own form
 * (base64 after the prefix, decoded by the package itself); any other secret is keyed by its UTF-8
 * bytes, which a receiver passes to `new Webhook()` as `"whsec_" + base64(secret)`.
 */
function standardWebhook(secret: string): Webhook {
  if (secret.startsWith("whsec_")) {
    try {
      return new Webhook(secret);
    } catch {
      // Not base64 after the prefix: keyed by the whole string's bytes, like any other secret.
    }
  }
  return new Webhook(Buffer.from(secret, "utf8"), { format: "raw" });
}

/** GitHub's format: `sha256=<hex HMAC-SHA256 keyed with the secret string's UTF-8 bytes>`. */
export const packrSignature = (secret: string, body: string): string =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

/**
 * Every header of one attempt. Both signatures cover the exact body bytes sent; the Standard
 * Webhooks one also covers the delivery id and this attempt's timestamp (so a receiver can refuse
 * replays). None of them carries the secret, so the set is stored as the attempt's request headers.
 */
export function deliveryHeaders(input: {
  secret: string;
  deliveryId: string;
  event: string;
  body: string;
  at: Date;
}): Record<string, string> {
  const { secret, deliveryId, event, body, at } = input;
  return {
    "content-type": "application/json",
    "user-agent": WEBHOOK_USER_AGENT,
    "x-packr-event": event,
    "x-packr-delivery": deliveryId,
    "x-packr-signature": packrSignature(secret, body),
    "webhook-id": deliveryId,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": standardWebhook(secret).sign(deliveryId, at, body),
  };
}
