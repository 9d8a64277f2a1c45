import Stripe from "stripe";
import type { BillingConfig } from "../config/config.ts";

/** Billing as the verbs use it: the settings and a Stripe client. Absent from Deps = billing off. */
export type Billing = { config: BillingConfig; stripe: Stripe };

/**
 * A Stripe client for these settings. STRIPE_API_URL (a loopback stand-in in tests) becomes the
 * client's host, port and protocol; unset, it talks to api.stripe.com.
 */
export function createBilling(config: BillingConfig): Billing {
  const url = config.apiUrl ? new URL(config.apiUrl) : undefined;
  const protocol = url?.protocol === "http:" ? "http" : "https";
  const stripe = new Stripe(config.secretKey, {
    ...(url
      ? {
          host: url.hostname,
          port: url.port === "" ? (protocol === "http" ? 80 : 443) : Number(url.port),
          protocol,
        }
      : {}),
    maxNetworkRetries: 1,
    timeout: 10_000,
    telemetry: false,
    appInfo: { name: "Packr" },
  });
  return { config, stripe };
}
