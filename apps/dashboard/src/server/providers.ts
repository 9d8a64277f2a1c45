import * as oidc from "openid-client";
import type { DashboardSettings } from "./config.ts";

export type ProviderId = "github" | "google" | "gitlab" | "oidc" | "forge-auth" | "email";

/** What the registry needs to find or create the person (POST /api/v1/admin/sessions). */
export type Identity = {
  provider: ProviderId;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  username?: string;
  /** GitHub organizations / GitLab groups (full paths), when an allow-list names some. */
  groups?: string[];
  /** The generic OIDC provider's claims that PACKR_SIGNUP_OIDC_CLAIMS names. */
  claims?: Record<string, unknown>;
};

export type ProviderInfo = { id: ProviderId; label: string };

type OAuthProvider = ProviderInfo & {
  /** Scopes asked for; `openid` means an ID token is expected and its nonce checked. */
  scope: string;
  isOidc: boolean;
  configuration: () => Promise<oidc.Configuration>;
  /** Read the person from the provider's user endpoints with the access token. */
  identify: (
    tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
  ) => Promise<Identity>;
};

/** Loopback stand-ins (tests, local development) are plain http; real providers never are. */
function allowHttpForLoopback(config: oidc.Configuration, url: string): void {
  const host = new URL(url).hostname;
  if (host === "127.0.0.1" || host === "localhost" || host === "::1" || host === "[::1]") {
    oidc.allowInsecureRequests(config);
  }
}

function clientAuth(secret: string | undefined): oidc.ClientAuth {
  return secret ? oidc.ClientSecretPost(secret) : oidc.None();
}

async function getJson(url: string, accessToken: string): Promise<unknown> {
  const res = await fetch(url, {
    headers: {
      authorization: `Bearer ${accessToken}`,
      accept: "application/json",
      "user-agent": "packr-dashboard",
    },
    cache: "no-store",
  });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.json();
}

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

function manual(
  issuer: string,
  endpoints: { authorization_endpoint: string; token_endpoint: string; userinfo_endpoint?: string },
  client: { clientId: string; clientSecret: string | undefined },
): () => Promise<oidc.Configuration> {
  let made: oidc.Configuration | undefined;
  return async () => {
    if (!made) {
      made = new oidc.Configuration(
        { issuer, ...endpoints },
        client.clientId,
        undefined,
        clientAuth(client.clientSecret),
      );
      allowHttpForLoopback(made, endpoints.token_endpoint);
    }
    return made;
  };
}

function discovered(
  issuer: string,
  client: { clientId: string; clientSecret: string | undefined },
): () => Promise<oidc.Configuration> {
  let made: Promise<oidc.Configuration> | undefined;
  return () => {
    const isLoopback = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(issuer);
    made ??= oidc
      .discovery(
        new URL(issuer),
        client.clientId,
        undefined,
        clientAuth(client.clientSecret),
        isLoopback ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        made = undefined; // a provider that was down at first use is retried next time
        throw err;
      });
    return made;
  };
}

/** Claims of an OpenID Connect provider: the validated ID token, completed by its userinfo. */
async function oidcIdentity(
  provider: ProviderId,
  config: oidc.Configuration,
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
  /** Claims the sign-up allow-list asks about, passed on as the provider asserted them. */
  claimNames: readonly string[] = [],
): Promise<Identity> {
  const claims = tokens.claims();
  if (!claims) throw new Error("the provider returned no ID token");
  let info: Record<string, unknown> = { ...claims };
  if (config.serverMetadata().userinfo_endpoint) {
    info = { ...info, ...(await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)) };
  }
  const username = str(info.preferred_username) ?? str(info.nickname);
  const asked = Object.fromEntries(
    claimNames.filter((n) => info[n] !== undefined).map((n) => [n, info[n]]),
  );
  return {
    provider,
    subject: claims.sub,
    email: str(info.email),
    emailVerified: info.email_verified === true,
    name: str(info.name),
    ...(username ? { username } : {}),
    ...(claimNames.length > 0 ? { claims: asked } : {}),
  };
}

/**
 * The organizations a GitHub user is an active member of (needs `read:org`; an organization that
 * restricts OAuth apps shows up only once it has approved this one). At most 300.
 */
async function githubOrgs(apiUrl: string, accessToken: string): Promise<string[]> {
  const orgs: string[] = [];
  for (let page = 1; page <= 3; page++) {
    const batch = (await getJson(
      `${apiUrl}/user/memberships/orgs?state=active&per_page=100&page=${page}`,
      accessToken,
    )) as { organization?: { login?: unknown } }[];
    if (!Array.isArray(batch)) break;
    for (const m of batch) {
      const login = str(m.organization?.login);
      if (login) orgs.push(login);
    }
    if (batch.length < 100) break;
  }
  return orgs;
}

const built = new WeakMap<DashboardSettings, OAuthProvider[]>();

/** The providers whose settings are present, in the order the sign-in page shows them. */
export function oauthProviders(s: DashboardSettings): OAuthProvider[] {
  let list = built.get(s);
  if (!list) {
    list = buildProviders(s);
    built.set(s, list);
  }
  return list;
}

function buildProviders(s: DashboardSettings): OAuthProvider[] {
  const list: OAuthProvider[] = [];
  // Memberships are asked for only when an allow-list needs them: no broader scope than that.
  const wantsGithubOrgs = s.signup.mode === "allowlist" && s.signup.githubOrgs.length > 0;
  const wantsGitlabGroups = s.signup.mode === "allowlist" && s.signup.gitlabGroups.length > 0;
  const oidcClaimNames =
    s.signup.mode === "allowlist" ? [...new Set(s.signup.oidcClaims.map((r) => r.claim))] : [];
  if (s.github) {
    const gh = s.github;
    list.push({
      id: "github",
      label: "GitHub",
      scope: wantsGithubOrgs ? "read:user user:email read:org" : "read:user user:email",
      isOidc: false,
      configuration: manual(
        gh.url,
        {
          authorization_endpoint: `${gh.url}/login/oauth/authorize`,
          token_endpoint: `${gh.url}/login/oauth/access_token`,
        },
        gh,
      ),
      identify: async (tokens) => {
        const user = (await getJson(`${gh.apiUrl}/user`, tokens.access_token)) as Record<
          string,
          unknown
        >;
        // The profile's `email` is only the public one; the verified primary address is in /user/emails.
        const emails = (await getJson(`${gh.apiUrl}/user/emails`, tokens.access_token)) as {
          email: string;
          primary: boolean;
          verified: boolean;
        }[];
        const primary = Array.isArray(emails) ? emails.find((e) => e.primary) : undefined;
        const login = str(user.login);
        return {
          provider: "github",
          subject: String(user.id),
          email: primary?.email ?? str(user.email),
          emailVerified: primary?.verified === true,
          name: str(user.name) ?? login,
          ...(login ? { username: login } : {}),
          ...(wantsGithubOrgs ? { groups: await githubOrgs(gh.apiUrl, tokens.access_token) } : {}),
        };
      },
    });
  }
  if (s.google) {
    const google = s.google;
    const configuration = discovered(google.issuer, google);
    list.push({
      id: "google",
      label: "Google",
      scope: "openid email profile",
      isOidc: true,
      configuration,
      identify: async (tokens) => oidcIdentity("google", await configuration(), tokens),
    });
  }
  if (s.gitlab) {
    const gl = s.gitlab;
    list.push({
      id: "gitlab",
      label: "GitLab",
      // `openid` only for the groups claim of GitLab's userinfo (read_api would be far broader).
      scope: wantsGitlabGroups ? "read_user openid" : "read_user",
      isOidc: false,
      configuration: manual(
        gl.url,
        {
          authorization_endpoint: `${gl.url}/oauth/authorize`,
          token_endpoint: `${gl.url}/oauth/token`,
        },
        gl,
      ),
      identify: async (tokens) => {
        const user = (await getJson(`${gl.url}/api/v4/user`, tokens.access_token)) as Record<
          string,
          unknown
        >;
        const username = str(user.username);
        let groups: string[] | undefined;
        if (wantsGitlabGroups) {
          const info = (await getJson(`${gl.url}/oauth/userinfo`, tokens.access_token)) as {
            groups?: unknown;
          };
          groups = Array.isArray(info.groups)
            ? info.groups.filter((g): g is string => typeof g === "string")
            : [];
        }
        return {
          provider: "gitlab",
          subject: String(user.id),
          email: str(user.email),
          // GitLab's primary address is the confirmed one once the account is confirmed.
          emailVerified: str(user.confirmed_at) !== null,
          name: str(user.name) ?? username,
          ...(username ? { username } : {}),
          ...(groups ? { groups } : {}),
        };
      },
    });
  }
  if (s.oidc) {
    const o = s.oidc;
    const configuration = discovered(o.issuer, o);
    list.push({
      id: "oidc",
      label: o.name,
      scope: o.scope,
      isOidc: true,
      configuration,
      identify: async (tokens) =>
        oidcIdentity("oidc", await configuration(), tokens, oidcClaimNames),
    });
  }
  if (s.forgeAuth) {
    const f = s.forgeAuth;
    list.push({
      id: "forge-auth",
      label: f.name,
      scope: "openid email profile",
      isOidc: false,
      configuration: manual(
        new URL(f.authorizeUrl).origin,
        { authorization_endpoint: f.authorizeUrl, token_endpoint: f.tokenUrl },
        f,
      ),
      identify: async (tokens) => {
        // forge-auth answers its userinfo endpoint with OIDC standard claims.
        const info = (await getJson(f.userinfoUrl, tokens.access_token)) as Record<string, unknown>;
        const subject = str(info.sub) ?? (info.id === undefined ? null : String(info.id));
        if (!subject) throw new Error("forge-auth userinfo has no subject");
        const username = str(info.preferred_username) ?? str(info.username);
        return {
          provider: "forge-auth",
          subject,
          email: str(info.email),
          emailVerified: info.email_verified === true,
          name: str(info.name) ?? username,
          ...(username ? { username } : {}),
        };
      },
    });
  }
  return list;
}

export function findOAuthProvider(s: DashboardSettings, id: string): OAuthProvider | undefined {
  return oauthProviders(s).find((p) => p.id === id);
}

/** Everything the sign-in page offers: the OAuth providers, then email when SMTP is set. */
export function enabledProviders(s: DashboardSettings): ProviderInfo[] {
  const list: ProviderInfo[] = oauthProviders(s).map(({ id, label }) => ({ id, label }));
  if (s.email) list.push({ id: "email", label: "Email" });
  return list;
}
