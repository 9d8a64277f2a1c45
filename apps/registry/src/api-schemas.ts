import { z } from "@hono/zod-openapi";
import { ROLES, SIGN_IN_PROVIDERS } from "@packr/core";

/**
 * Request and response schemas of the JSON APIs (admin, device flow, web login), shared by the
 * routes and `GET /openapi.json`. Domain validation stays in core; these describe the wire.
 */
export const ErrorBody = z
  .object({
    error: z.string().openapi({ example: "There is no such token among yours." }),
    code: z.string().openapi({ example: "NOT_FOUND" }),
    message: z.string(),
    status: z.number().int(),
    requestId: z.string(),
  })
  .passthrough()
  .openapi("Error");

export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      s,
      {
        description: ERROR_DESCRIPTIONS[s] ?? "Error",
        content: { "application/json": { schema: ErrorBody } },
      },
    ]),
  );

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Malformed request",
  401: "No valid session, token or internal secret",
  403: "Authenticated, but not allowed",
  404: "Not found (or not yours)",
  402: "A plan limit: creating this needs a bigger plan",
  409: "Conflict with the current state",
  429: "Too many attempts (RATE_LIMITED)",
};

export const User = z
  .object({
    id: z.string(),
    name: z.string(),
    email: z.string().nullable(),
    isAdmin: z.boolean(),
  })
  .openapi("User");

export const CreateSessionBody = z
  .object({
    provider: z.enum(SIGN_IN_PROVIDERS),
    subject: z.string().min(1).max(255).openapi({ description: "The provider's stable user id" }),
    email: z.string().max(320).nullable(),
    emailVerified: z.boolean(),
    name: z.string().max(200).nullable(),
    username: z.string().max(64).optional(),
    userAgent: z.string().max(500).optional(),
    groups: z.array(z.string().min(1).max(255)).max(1000).optional().openapi({
      description:
        "Memberships the provider asserted: GitHub organization logins (github) or GitLab group full paths (gitlab), for PACKR_SIGNUP_GITHUB_ORGS / PACKR_SIGNUP_GITLAB_GROUPS",
    }),
    claims: z.record(z.string().max(255), z.unknown()).optional().openapi({
      description: "The generic OIDC provider's claims, for PACKR_SIGNUP_OIDC_CLAIMS",
    }),
  })
  .openapi("CreateSession");

export const InviteUserBody = z
  .object({
    name: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[a-z0-9][a-z0-9._-]*$/i)
      .openapi({ example: "alice", description: "The username the account gets" }),
    email: z.string().email().max(320).openapi({
      example: "alice@acme.example",
      description:
        "The address the person signs in with to claim the account (through a provider in PACKR_LINK_TRUSTED_PROVIDERS)",
    }),
  })
  .strict()
  .openapi("InviteUser");

export const InvitedUser = z
  .object({
    user: User,
    signInUrl: z.string().url().openapi({ description: "Where the person signs in to claim it" }),
  })
  .openapi("InvitedUser");

export const PasswordSessionBody = z
  .object({
    name: z.string().min(1).max(64),
    password: z.string().min(1).max(1024),
    ip: z.string().max(64).optional().openapi({
      description:
        "The browser's address as the dashboard saw it (wrong passwords are limited per address)",
    }),
    userAgent: z.string().max(500).optional(),
  })
  .openapi("PasswordSession");

export const MagicLinkRequestBody = z
  .object({
    email: z.string().email().max(320).openapi({ description: "Where the sign-in link goes" }),
    ip: z.string().max(64).optional().openapi({
      description: "The browser's address as the dashboard saw it (links are limited per address)",
    }),
  })
  .openapi("MagicLinkRequest");

export const SessionCreated = z
  .object({
    session: z.string().openapi({ description: "The packr_session cookie value" }),
    expiresAt: z.string().datetime(),
    user: User,
  })
  .openapi("SessionCreated");

export const Me = z.object({ user: User, via: z.enum(["session", "token"]) }).openapi("Me");

const Role = z.enum(ROLES);

export const TokenSummary = z
  .object({
    id: z.string(),
    name: z.string(),
    role: Role,
    scopes: z.array(z.string()),
    kind: z.enum(["login", "personal", "ci"]),
    user: z.string(),
    createdAt: z.string().datetime(),
    lastUsedAt: z.string().datetime().nullable(),
    expiresAt: z.string().datetime(),
    revokedAt: z.string().datetime().nullable(),
  })
  .openapi("Token");

export const TokenList = z.object({ tokens: z.array(TokenSummary) }).openapi("TokenList");

export const CreateTokenBody = z
  .object({
    name: z.string().min(1).max(100),
    role: Role,
    scopes: z
      .array(z.string().max(215))
      .max(50)
      .optional()
      .openapi({ example: ["@acme"] }),
    expiresIn: z.union([z.string(), z.number()]).optional().openapi({
      example: "15m",
      description:
        "Lifetime: a number with a unit (500ms, 30s, 15m, 2h, 7d; bare = ms), within PACKR_TOKEN_MIN_TTL (5m) to PACKR_TOKEN_MAX_TTL (90d). Default 30 days (or the ceiling when lower).",
    }),
    expiresInDays: z
      .number()
      .optional()
      .openapi({ description: "The older form of expiresIn, whole days; give one of the two" }),
    kind: z.enum(["ci", "personal"]).optional(),
  })
  .openapi("CreateToken");

export const TokenCreated = z
  .object({
    token: z.string().openapi({ description: "The JWT; shown once, never stored" }),
    id: z.string(),
    name: z.string(),
    role: Role,
    scopes: z.array(z.string()),
    kind: z.enum(["ci", "personal"]),
    expiresAt: z.string().datetime(),
  })
  .openapi("TokenCreated");

export const DeviceCodeView = z
  .object({
    userCode: z.string().openapi({ example: "BCDF-GHJK" }),
    status: z.enum(["pending", "approved", "denied", "expired"]),
    client: z.enum(["packr-cli", "npm"]),
    provider: z.string().nullable(),
    expiresAt: z.string().datetime(),
  })
  .openapi("DeviceCode");

export const DeviceDecisionBody = z
  .object({ userCode: z.string().min(1).max(40), approve: z.boolean() })
  .openapi("DeviceDecision");

export const DeviceDecision = z
  .object({ status: z.enum(["approved", "denied"]) })
  .openapi("DeviceDecisionResult");

export const DeviceAuthorizeBody = z
  .object({
    provider: z.string().max(40).optional(),
    client: z.enum(["packr-cli", "npm"]).optional(),
  })
  .openapi("DeviceAuthorizeRequest");

export const DeviceAuthorization = z
  .object({
    device_code: z.string(),
    user_code: z.string().openapi({ example: "BCDF-GHJK" }),
    verification_uri: z.string().url(),
    verification_uri_complete: z.string().url(),
    expires_in: z.number().int(),
    interval: z.number().int(),
  })
  .openapi("DeviceAuthorization");

export const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

export const DeviceTokenBody = z
  .object({ device_code: z.string().optional(), grant_type: z.string().optional() })
  .openapi("DeviceTokenRequest");

export const DeviceTokenSuccess = z
  .object({
    access_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int(),
  })
  .openapi("DeviceToken");

/** RFC 8628 §3.5 / RFC 6749 §5.2 error body (not Packr's flat error: OAuth clients read `error`). */
export const OAuthError = z
  .object({
    error: z.enum([
      "authorization_pending",
      "slow_down",
      "expired_token",
      "access_denied",
      "invalid_grant",
      "invalid_request",
      "unsupported_grant_type",
    ]),
    error_description: z.string(),
    interval: z.number().int().optional(),
  })
  .openapi("OAuthError");

export const LoginBody = z
  .object({
    name: z.string().optional(),
    password: z.string().optional(),
    create: z.boolean().optional(),
  })
  .passthrough()
  .openapi("LoginRequest");

export const PasswordLogin = z
  .object({ token: z.string(), username: z.string(), expires: z.string().datetime() })
  .openapi("PasswordLogin");

export const WebLogin = z
  .object({ loginUrl: z.string().url(), doneUrl: z.string().url() })
  .openapi("WebLogin");

export const WebLoginDone = z.object({ token: z.string() }).openapi("WebLoginDone");
