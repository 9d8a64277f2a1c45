/**
 * Local stand-ins of GitHub's, GitLab's, Google's and a forge-auth proxy's OAuth endpoints: the
 * same paths, parameters and response shapes as the real services, on one loopback server. They
 * really check what a provider checks (client secret, redirect URI, one-time codes, PKCE S256),
 * and Google's ID tokens are really signed, so the dashboard's adapters are tested end to end.
 * Authorization is granted at once (no login form): the person is configured per provider.
 */
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

export type StandinPerson = {
  id: number;
  login: string;
  name: string;
  email: string;
  emailVerified: boolean;
  /** GitHub organizations or GitLab group paths the person belongs to. */
  groups?: string[];
};

type Grant = {
  provider: string;
  clientId: string;
  redirectUri: string;
  challenge: string | null;
  nonce: string | null;
};

export type OAuthStandins = {
  url: string;
  clientId: string;
  clientSecret: string;
  people: Record<"github" | "gitlab" | "google" | "forge", StandinPerson>;
  /** Every token request the stand-ins answered, for assertions (PKCE verifier present, …). */
  tokenRequests: { provider: string; params: Record<string, string> }[];
  env: (dashboardUrl: string) => Record<string, string>;
  close: () => Promise<void>;
};

export async function startOAuthStandins(): Promise<OAuthStandins> {
  const clientId = "packr-test-client";
  const clientSecret = randomBytes(12).toString("hex");
  const codes = new Map<string, Grant>();
  const tokens = new Map<string, string>(); // access token → provider
  const tokenRequests: OAuthStandins["tokenRequests"] = [];
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "standin", alg: "RS256", use: "sig" };
  const people: OAuthStandins["people"] = {
    github: {
      id: 4101,
      login: "octo-dev",
      name: "Octo Dev",
      email: "octo@example.test",
      emailVerified: true,
    },
    gitlab: {
      id: 5202,
      login: "tanuki",
      name: "Tanu Ki",
      email: "tanuki@example.test",
      emailVerified: true,
    },
    google: {
      id: 6303,
      login: "gg",
      name: "Goo Gle",
      email: "goo@example.test",
      emailVerified: true,
    },
    forge: {
      id: 7404,
      login: "forger",
      name: "For Ger",
      email: "forge@example.test",
      emailVerified: true,
    },
  };
  let base = "";

  const authorize = (provider: string, url: URL, res: http.ServerResponse) => {
    const q = url.searchParams;
    const redirectUri = q.get("redirect_uri") ?? "";
    if (q.get("client_id") !== clientId || !redirectUri || q.get("response_type") !== "code") {
      return json(res, 400, { error: "invalid_request" });
    }
    const code = randomBytes(10).toString("hex");
    codes.set(code, {
      provider,
      clientId,
      redirectUri,
      challenge: q.get("code_challenge_method") === "S256" ? q.get("code_challenge") : null,
      nonce: q.get("nonce"),
    });
    const back = new URL(redirectUri);
    back.searchParams.set("code", code);
    if (q.get("state")) back.searchParams.set("state", q.get("state") ?? "");
    res.writeHead(302, { location: back.href }).end();
  };

  const token = async (provider: string, req: http.IncomingMessage, res: http.ServerResponse) => {
    const params = Object.fromEntries(new URLSearchParams(await readBody(req)));
    tokenRequests.push({ provider, params });
    const basic = req.headers.authorization?.startsWith("Basic ")
      ? Buffer.from(req.headers.authorization.slice(6), "base64").toString().split(":")
      : null;
    const secret = params.client_secret ?? (basic ? decodeURIComponent(basic[1] ?? "") : undefined);
    const grant = codes.get(params.code ?? "");
    codes.delete(params.code ?? "");
    if (secret !== clientSecret) return json(res, 401, { error: "invalid_client" });
    if (!grant || grant.provider !== provider || grant.redirectUri !== params.redirect_uri) {
      return json(res, 400, { error: "invalid_grant" });
    }
    const verifier = params.code_verifier ?? "";
    const s256 = createHash("sha256").update(verifier).digest("base64url");
    if (!grant.challenge || s256 !== grant.challenge) {
      return json(res, 400, {
        error: "invalid_grant",
        error_description: "PKCE verification failed",
      });
    }
    const accessToken = randomBytes(16).toString("hex");
    tokens.set(accessToken, provider);
    const body: Record<string, unknown> = {
      access_token: accessToken,
      token_type: provider === "github" ? "bearer" : "Bearer",
      scope: "read",
      expires_in: 3600,
    };
    if (provider === "google") {
      const p = people.google;
      body.id_token = await new SignJWT({
        email: p.email,
        email_verified: p.emailVerified,
        name: p.name,
        ...(grant.nonce ? { nonce: grant.nonce } : {}),
      })
        .setProtectedHeader({ alg: "RS256", kid: "standin" })
        .setIssuer(`${base}/google`)
        .setAudience(clientId)
        .setSubject(String(p.id))
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(privateKey);
    }
    json(res, 200, body);
  };

  const bearer = (req: http.IncomingMessage, provider: string): boolean =>
    tokens.get((req.headers.authorization ?? "").replace(/^Bearer /i, "")) === provider;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", base);
    const route = `${req.method} ${url.pathname}`;
    void (async () => {
      switch (route) {
        case "GET /github/login/oauth/authorize":
          return authorize("github", url, res);
        case "POST /github/login/oauth/access_token":
          return token("github", req, res);
        case "GET /github-api/user": {
          if (!bearer(req, "github")) return json(res, 401, { message: "Bad credentials" });
          const p = people.github;
          return json(res, 200, { id: p.id, login: p.login, name: p.name, email: null });
        }
        case "GET /github-api/user/emails": {
          if (!bearer(req, "github")) return json(res, 401, { message: "Bad credentials" });
          const p = people.github;
          return json(res, 200, [
            { email: "old@example.test", primary: false, verified: true },
            { email: p.email, primary: true, verified: p.emailVerified },
          ]);
        }
        case "GET /github-api/user/memberships/orgs": {
          if (!bearer(req, "github")) return json(res, 401, { message: "Bad credentials" });
          const page = Number(url.searchParams.get("page") ?? "1");
          const orgs = page === 1 ? (people.github.groups ?? []) : [];
          return json(
            res,
            200,
            orgs.map((login) => ({ state: "active", role: "member", organization: { login } })),
          );
        }
        case "GET /gitlab/oauth/userinfo": {
          if (!bearer(req, "gitlab")) return json(res, 401, { message: "401 Unauthorized" });
          const p = people.gitlab;
          return json(res, 200, { sub: String(p.id), groups: p.groups ?? [] });
        }
        case "GET /gitlab/oauth/authorize":
          return authorize("gitlab", url, res);
        case "POST /gitlab/oauth/token":
          return token("gitlab", req, res);
        case "GET /gitlab/api/v4/user": {
          if (!bearer(req, "gitlab")) return json(res, 401, { message: "401 Unauthorized" });
          const p = people.gitlab;
          return json(res, 200, {
            id: p.id,
            username: p.login,
            name: p.name,
            email: p.email,
            confirmed_at: p.emailVerified ? "2024-01-01T00:00:00Z" : null,
          });
        }
        case "GET /google/.well-known/openid-configuration":
          return json(res, 200, {
            issuer: `${base}/google`,
            authorization_endpoint: `${base}/google/o/oauth2/v2/auth`,
            token_endpoint: `${base}/google/token`,
            userinfo_endpoint: `${base}/google/v1/userinfo`,
            jwks_uri: `${base}/google/certs`,
            response_types_supported: ["code"],
            subject_types_supported: ["public"],
            id_token_signing_alg_values_supported: ["RS256"],
            code_challenge_methods_supported: ["S256"],
          });
        case "GET /google/certs":
          return json(res, 200, { keys: [jwk] });
        case "GET /google/o/oauth2/v2/auth":
          return authorize("google", url, res);
        case "POST /google/token":
          return token("google", req, res);
        case "GET /google/v1/userinfo": {
          if (!bearer(req, "google")) return json(res, 401, { error: "invalid_token" });
          const p = people.google;
          return json(res, 200, {
            sub: String(p.id),
            email: p.email,
            email_verified: p.emailVerified,
            name: p.name,
          });
        }
        case "GET /forge/authorize":
          return authorize("forge", url, res);
        case "POST /forge/token":
          return token("forge", req, res);
        case "GET /forge/userinfo": {
          if (!bearer(req, "forge")) return json(res, 401, { error: "invalid_token" });
          const p = people.forge;
          return json(res, 200, {
            sub: `forge|${p.id}`,
            preferred_username: p.login,
            email: p.email,
            email_verified: p.emailVerified,
            name: p.name,
          });
        }
        default:
          return json(res, 404, { error: "not_found", route });
      }
    })().catch((err: unknown) => json(res, 500, { error: String(err) }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    clientId,
    clientSecret,
    people,
    tokenRequests,
    env: () => ({
      GITHUB_CLIENT_ID: clientId,
      GITHUB_CLIENT_SECRET: clientSecret,
      GITHUB_URL: `${base}/github`,
      GITHUB_API_URL: `${base}/github-api`,
      GITLAB_CLIENT_ID: clientId,
      GITLAB_CLIENT_SECRET: clientSecret,
      GITLAB_URL: `${base}/gitlab`,
      GOOGLE_CLIENT_ID: clientId,
      GOOGLE_CLIENT_SECRET: clientSecret,
      GOOGLE_ISSUER: `${base}/google`,
      FORGE_AUTH_CLIENT_ID: clientId,
      FORGE_AUTH_CLIENT_SECRET: clientSecret,
      FORGE_AUTH_AUTHORIZE_URL: `${base}/forge/authorize`,
      FORGE_AUTH_TOKEN_URL: `${base}/forge/token`,
      FORGE_AUTH_USERINFO_URL: `${base}/forge/userinfo`,
      FORGE_AUTH_NAME: "Forge SSO",
    }),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = "";
    req.on("data", (c) => {
      data += String(c);
    });
    req.on("end", () => resolve(data));
    req.on("error", reject);
  });
}
