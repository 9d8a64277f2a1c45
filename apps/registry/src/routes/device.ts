import type { OpenAPIHono } from "@hono/zod-openapi";
import { authorizeDevice, type DevicePoll, pollDevice } from "@packr/core";
import type { Context } from "hono";
import {
  DEVICE_GRANT,
  DeviceAuthorization,
  DeviceAuthorizeBody,
  DeviceTokenBody,
  DeviceTokenSuccess,
  errorResponses,
  OAuthError,
} from "../api-schemas.ts";
import type { AppEnv } from "../env.ts";
import { readJson } from "../read-json.ts";

/**
 * RFC 8628 device authorization for `packr-cli` and any OAuth device client. Bodies may be JSON
 * (identity contract) or `application/x-www-form-urlencoded` (what RFC 8628 clients send). The
 * token endpoint answers in OAuth's error shape, not Packr's flat body: that is what such clients
 * parse.
 */
export function registerDeviceRoutes(app: OpenAPIHono<AppEnv>): void {
  app.post("/-/v1/device/authorize", async (c) => {
    const body = await readOAuthBody(c);
    const parsed = DeviceAuthorizeBody.safeParse(body ?? {});
    const a = await authorizeDevice({
      ctx: c.get("ctx"),
      input: parsed.success ? parsed.data : (body as never),
    });
    c.header("Cache-Control", "no-store");
    return c.json({
      device_code: a.deviceCode,
      user_code: a.userCode,
      verification_uri: a.verificationUri,
      verification_uri_complete: a.verificationUriComplete,
      expires_in: a.expiresIn,
      interval: a.interval,
    });
  });

  app.post("/-/v1/device/token", async (c) => {
    c.header("Cache-Control", "no-store");
    let body: unknown;
    try {
      body = await readOAuthBody(c);
    } catch {
      return oauthError(c, "invalid_request", "The request body is not valid JSON or form data.");
    }
    const parsed = DeviceTokenBody.safeParse(body ?? {});
    if (!parsed.success || typeof parsed.data.grant_type !== "string") {
      return oauthError(c, "invalid_request", "grant_type and device_code are required.");
    }
    if (parsed.data.grant_type !== DEVICE_GRANT) {
      return oauthError(c, "unsupported_grant_type", `grant_type must be ${DEVICE_GRANT}.`);
    }
    if (typeof parsed.data.device_code !== "string" || parsed.data.device_code === "") {
      return oauthError(c, "invalid_request", "device_code is required.");
    }
    const r = await pollDevice({
      ctx: c.get("ctx"),
      input: { deviceCode: parsed.data.device_code, enforceInterval: true },
    });
    return answerPoll(c, r);
  });

  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/-/v1/device/authorize",
    tags: ["device"],
    summary: "Start a device authorization (RFC 8628 §3.1); rate-limited per address",
    request: {
      body: {
        required: false,
        content: {
          "application/json": { schema: DeviceAuthorizeBody },
          "application/x-www-form-urlencoded": { schema: DeviceAuthorizeBody },
        },
      },
    },
    responses: {
      200: {
        description: "Codes to show and poll with",
        content: { "application/json": { schema: DeviceAuthorization } },
      },
      ...errorResponses(400, 429),
    },
  });
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/-/v1/device/token",
    tags: ["device"],
    summary: "Poll for the token (RFC 8628 §3.4–3.5)",
    request: {
      body: {
        required: true,
        content: {
          "application/json": { schema: DeviceTokenBody },
          "application/x-www-form-urlencoded": { schema: DeviceTokenBody },
        },
      },
    },
    responses: {
      200: {
        description: "Approved: a 30-day login token",
        content: { "application/json": { schema: DeviceTokenSuccess } },
      },
      400: {
        description:
          "authorization_pending, slow_down (poll less often: interval grew by 5 s), expired_token, access_denied, invalid_grant (unknown or used code), invalid_request, unsupported_grant_type",
        content: { "application/json": { schema: OAuthError } },
      },
    },
  });
}

function answerPoll(c: Context<AppEnv>, r: DevicePoll): Response {
  switch (r.status) {
    case "approved":
      return c.json({ access_token: r.token, token_type: "Bearer", expires_in: r.expiresIn });
    case "pending":
      return oauthError(
        c,
        "authorization_pending",
        "Waiting for the code to be approved.",
        r.interval,
      );
    case "slow_down":
      return oauthError(
        c,
        "slow_down",
        `Polling too fast: wait ${r.interval} seconds between polls.`,
        r.interval,
      );
    case "expired":
      return oauthError(c, "expired_token", "The code expired; start the login again.");
    case "denied":
      return oauthError(c, "access_denied", "The login was denied.");
    case "invalid":
      return oauthError(c, "invalid_grant", "Unknown or already used device code.");
  }
}

function oauthError(
  c: Context<AppEnv>,
  error: string,
  description: string,
  interval?: number,
): Response {
  return c.json({ error, error_description: description, ...(interval ? { interval } : {}) }, 400);
}

/** JSON or form body; null when empty. Throws VALIDATION on malformed JSON. */
async function readOAuthBody(c: Context<AppEnv>): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (type.startsWith("application/x-www-form-urlencoded")) {
    return Object.fromEntries(new URLSearchParams(await c.req.text()));
  }
  return readJson(c, { optional: true });
}
