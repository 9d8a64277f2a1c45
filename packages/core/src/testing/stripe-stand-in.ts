import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import type { BillingConfig } from "../config/config.ts";

/** One call the stand-in answered: method, path, and the form body Stripe's client sent (flat keys). */
export type StripeCall = { method: string; path: string; form: Record<string, string> };

/**
 * A loopback stand-in for the few Stripe API calls Packr makes (Checkout and portal sessions,
 * reading a subscription), recording what it was asked. The Stripe client reaches it through
 * STRIPE_API_URL (host, port, protocol). Subscriptions a test wants Stripe to "have" go in
 * `subscriptions`.
 */
export type StripeStandIn = {
  url: string;
  calls: StripeCall[];
  subscriptions: Map<string, Record<string, unknown>>;
  close(): Promise<void>;
};

export async function startStripeStandIn(): Promise<StripeStandIn> {
  const calls: StripeCall[] = [];
  const subscriptions = new Map<string, Record<string, unknown>>();
  let n = 0;
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const form = Object.fromEntries(new URLSearchParams(body));
    calls.push({ method: req.method ?? "GET", path, form });
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { "content-type": "application/json", "request-id": `req_${++n}` });
      res.end(JSON.stringify(json));
    };
    if (!req.headers.authorization?.startsWith("Bearer sk_test_")) {
      return send(401, { error: { type: "invalid_request_error", message: "No API key" } });
    }
    if (req.method === "POST" && path === "/v1/checkout/sessions") {
      const id = `cs_test_${++n}`;
      return send(200, {
        id,
        object: "checkout.session",
        mode: form.mode,
        url: `https://checkout.stripe.test/c/pay/${id}`,
        client_reference_id: form.client_reference_id ?? null,
      });
    }
    if (req.method === "POST" && path === "/v1/billing_portal/sessions") {
      const id = `bps_test_${++n}`;
      return send(200, {
        id,
        object: "billing_portal.session",
        customer: form.customer,
        return_url: form.return_url,
        url: `https://billing.stripe.test/p/session/${id}`,
      });
    }
    const sub = /^\/v1\/subscriptions\/([^/]+)$/.exec(path);
    if (req.method === "GET" && sub?.[1]) {
      const found = subscriptions.get(decodeURIComponent(sub[1]));
      if (found) return send(200, found);
      return send(404, {
        error: {
          type: "invalid_request_error",
          code: "resource_missing",
          message: "No such subscription",
        },
      });
    }
    send(404, {
      error: { type: "invalid_request_error", message: `Unrecognized request URL (${path})` },
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    subscriptions,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export const TEST_WEBHOOK_SECRET = "whsec_test_packr_billing";

/** Billing settings for tests: the stand-in as STRIPE_API_URL, fixed price ids. */
export const testBillingConfig = (apiUrl: string, graceMs = 7 * 86_400_000): BillingConfig => ({
  secretKey: "sk_test_packr",
  webhookSecret: TEST_WEBHOOK_SECRET,
  apiUrl,
  prices: { solo: "price_solo", team: "price_team" },
  billingUrl: "http://dashboard.test/billing",
  graceMs,
});

/**
 * A Stripe event as Stripe sends it, with its `Stripe-Signature` made by Stripe's own helper.
 * `timestamp` (seconds) signs it at another time (a stale signature); `secret` signs it wrongly.
 */
export function signedStripeEvent(
  event: { id: string; type: string; created: number; object: Record<string, unknown> },
  opts: { secret?: string; timestamp?: number } = {},
): { payload: string; signature: string } {
  const payload = JSON.stringify({
    id: event.id,
    object: "event",
    api_version: "2026-11-18.endive",
    created: event.created,
    type: event.type,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object: event.object },
  });
  return { payload, signature: signStripePayload(payload, opts) };
}

/** The `Stripe-Signature` Stripe would send for these exact bytes (Stripe's own test helper). */
export function signStripePayload(
  payload: string,
  opts: { secret?: string; timestamp?: number } = {},
): string {
  return Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: opts.secret ?? TEST_WEBHOOK_SECRET,
    ...(opts.timestamp === undefined ? {} : { timestamp: opts.timestamp }),
  });
}

/** A subscription object as Stripe's API (2026) shapes it: the price and period on the item. */
export function stripeSubscription(f: {
  id: string;
  customer: string;
  price: string;
  status: string;
  account?: string;
  periodEnd?: number;
}): Record<string, unknown> {
  return {
    id: f.id,
    object: "subscription",
    customer: f.customer,
    status: f.status,
    metadata: f.account ? { packr_account: f.account } : {},
    items: {
      object: "list",
      data: [
        {
          id: `si_${f.id}`,
          object: "subscription_item",
          price: { id: f.price, object: "price" },
          current_period_end: f.periodEnd ?? 1_900_000_000,
        },
      ],
    },
  };
}
