import { PackrError } from "../errors.ts";

/**
 * Who may get an account, and whose email links accounts (issue 17, DESIGN.md §10). Pure: config
 * builds a SignupPolicy once; every path that creates a user asks `assertMaySignUp` before it
 * inserts (createSession's new-user branch for OAuth and magic links, npm's legacy adduser).
 * Existing accounts always sign in; invitations are accounts an administrator created ahead.
 */

/** Every way a person signs in through the dashboard (the `provider` of an oauth_accounts row). */
export const SIGN_IN_PROVIDERS = [
  "github",
  "google",
  "gitlab",
  "oidc",
  "forge-auth",
  "email",
] as const;
export type SignInProvider = (typeof SIGN_IN_PROVIDERS)[number];

export const SIGNUP_MODES = ["allowlist", "closed", "open"] as const;
export type SignupMode = (typeof SIGNUP_MODES)[number];

/**
 * The providers that really verify an address before calling it verified: GitHub (a verified
 * primary address), Google, and the magic link (the person clicked a link mailed there). GitLab
 * is left out because a self-managed GitLab may run without email confirmation, and a generic
 * OIDC or forge-auth provider says whatever its operator lets it say.
 */
export const DEFAULT_LINK_TRUSTED_PROVIDERS: readonly SignInProvider[] = [
  "github",
  "google",
  "email",
];

export type OidcClaimRule = { claim: string; value: string };

export type SignupPolicy = {
  mode: SignupMode;
  /** How `mode` was chosen, for the first-start line. */
  modeSource: "PACKR_SIGNUP" | "PACKR_ALLOW_SIGNUP" | "allow-lists set" | "default";
  /** Lower-case domains; a verified, trusted email at exactly one of them may sign up. */
  emailDomains: readonly string[];
  /** Lower-case GitHub organization logins. */
  githubOrgs: readonly string[];
  /** Lower-case GitLab group full paths (`acme`, `acme/platform`). */
  gitlabGroups: readonly string[];
  /** Claims of the generic OIDC provider (`groups:platform`): one match lets the person in. */
  oidcClaims: readonly OidcClaimRule[];
  /**
   * PACKR_LINK_TRUSTED_PROVIDERS: providers whose verified email Packr believes. Only such an
   * email links a new sign-in to an existing account, counts for PACKR_SIGNUP_EMAIL_DOMAINS, and
   * is kept on the account as verified (so that it may link later sign-ins).
   */
  linkTrustedProviders: readonly SignInProvider[];
};

/** What a would-be new account can show: facts the sign-in provider asserted, nothing typed in. */
export type SignupCandidate = {
  /** `password`: npm's legacy adduser (its email is whatever the client typed). */
  via: SignInProvider | "password";
  email: string | null;
  /** The provider said the email is verified AND the provider is trusted for linking. */
  emailTrusted: boolean;
  /** GitHub organizations (for github) or GitLab groups (for gitlab) the provider reported. */
  groups: readonly string[];
  /** The generic OIDC provider's ID token and userinfo claims. */
  claims: Readonly<Record<string, unknown>>;
};

export const OPEN_SIGNUP: SignupPolicy = {
  mode: "open",
  modeSource: "PACKR_SIGNUP",
  emailDomains: [],
  githubOrgs: [],
  gitlabGroups: [],
  oidcClaims: [],
  linkTrustedProviders: DEFAULT_LINK_TRUSTED_PROVIDERS,
};

/** Whether a provider's verified email may link accounts (and count for the domain list). */
export const isLinkTrusted = (policy: SignupPolicy, provider: string): boolean =>
  (policy.linkTrustedProviders as readonly string[]).includes(provider);

/** `groups:platform` → the claim `groups` must be (or contain) `platform`. Split at the last `:`. */
export function parseOidcClaimRule(text: string): OidcClaimRule | null {
  const at = text.lastIndexOf(":");
  if (at <= 0 || at === text.length - 1) return null;
  return { claim: text.slice(0, at), value: text.slice(at + 1) };
}

const hasAllowLists = (p: SignupPolicy): boolean =>
  p.emailDomains.length + p.githubOrgs.length + p.gitlabGroups.length + p.oidcClaims.length > 0;

/** The allow-list entry that admits the candidate, or null. */
function admittedBy(p: SignupPolicy, c: SignupCandidate): string | null {
  const domain = c.email?.split("@").pop()?.toLowerCase();
  if (c.emailTrusted && domain && p.emailDomains.includes(domain)) return `email domain ${domain}`;
  const groups = c.groups.map((g) => g.toLowerCase());
  if (c.via === "github") {
    const org = groups.find((g) => p.githubOrgs.includes(g));
    if (org) return `GitHub organization ${org}`;
  }
  if (c.via === "gitlab") {
    const group = groups.find((g) => p.gitlabGroups.includes(g));
    if (group) return `GitLab group ${group}`;
  }
  if (c.via === "oidc") {
    for (const rule of p.oidcClaims) {
      const v = c.claims[rule.claim];
      const values = Array.isArray(v) ? v : [v];
      if (values.some((x) => (typeof x === "boolean" ? String(x) : x) === rule.value)) {
        return `OIDC claim ${rule.claim}:${rule.value}`;
      }
    }
  }
  return null;
}

/**
 * Refuse (403) a new account the policy does not admit, with a sentence saying what is missing,
 * which setting decides and whom to ask. `dashboardUrl` is where an invitation is claimed.
 */
export function assertMaySignUp(
  policy: SignupPolicy,
  candidate: SignupCandidate,
  dashboardUrl: string,
): { admittedBy: string } {
  if (policy.mode === "open") return { admittedBy: "open sign-up" };
  const who = candidate.email ?? "this sign-in";
  const signIn = `${dashboardUrl}/login`;
  if (policy.mode === "closed" || !hasAllowLists(policy)) {
    throw new PackrError(
      "FORBIDDEN",
      `There is no account for ${who}, and this registry creates accounts by invitation only (PACKR_SIGNUP=closed). Ask an administrator of this registry to invite you (they create your account with your email address), then sign in again at ${signIn}.`,
    );
  }
  if (candidate.via === "password") {
    throw new PackrError(
      "FORBIDDEN",
      `npm adduser cannot create accounts on this registry: sign-up is limited to an allow-list (PACKR_SIGNUP=allowlist) that a typed-in email cannot prove. Sign in at ${signIn} with a provider instead, or ask an administrator of this registry to invite you.`,
    );
  }
  const admitted = admittedBy(policy, candidate);
  if (admitted) return { admittedBy: admitted };
  const why =
    candidate.email && !candidate.emailTrusted && policy.emailDomains.length > 0
      ? ` (an email counts for PACKR_SIGNUP_EMAIL_DOMAINS only when verified by a provider in PACKR_LINK_TRUSTED_PROVIDERS: ${policy.linkTrustedProviders.join(", ") || "none"})`
      : "";
  throw new PackrError(
    "FORBIDDEN",
    `${who} is not on this registry's sign-up allow-list (PACKR_SIGNUP=allowlist: ${allowListSettings(policy)})${why}. Ask an administrator of this registry to invite you, or to allow your email domain or group; then sign in again at ${signIn}.`,
  );
}

function allowListSettings(p: SignupPolicy): string {
  const set: string[] = [];
  if (p.emailDomains.length) set.push("PACKR_SIGNUP_EMAIL_DOMAINS");
  if (p.githubOrgs.length) set.push("PACKR_SIGNUP_GITHUB_ORGS");
  if (p.gitlabGroups.length) set.push("PACKR_SIGNUP_GITLAB_GROUPS");
  if (p.oidcClaims.length) set.push("PACKR_SIGNUP_OIDC_CLAIMS");
  return set.join(", ");
}

/**
 * One line for the registry's start-up output: who may get an account, and why. With the admin's
 * address (PACKR_ADMIN_EMAIL), a closed registry's hint names that address's domain.
 */
export function describeSignupPolicy(p: SignupPolicy, adminEmail?: string): string {
  const source =
    p.modeSource === "default"
      ? "the default; set PACKR_SIGNUP"
      : p.modeSource === "allow-lists set"
        ? "because allow-lists are set"
        : `from ${p.modeSource}`;
  const link = `Accounts link by verified email from: ${p.linkTrustedProviders.join(", ") || "no provider"} (PACKR_LINK_TRUSTED_PROVIDERS).`;
  if (p.mode === "open") {
    return `Sign-up: open (${source}): anyone who signs in, or runs npm adduser, gets an account. ${link}`;
  }
  if (p.mode === "closed") {
    const ignored = hasAllowLists(p)
      ? " The PACKR_SIGNUP_* allow-lists are ignored while closed."
      : "";
    const domain = adminEmail?.split("@").pop() ?? "<your domain>";
    return `Sign-up: closed (${source}): only existing and invited accounts sign in; an administrator invites with POST /api/v1/admin/users {name, email}. To let colleagues in, set PACKR_SIGNUP_EMAIL_DOMAINS=${domain}.${ignored} ${link}`;
  }
  const lists = [
    p.emailDomains.length ? `verified emails at ${p.emailDomains.join(", ")}` : "",
    p.githubOrgs.length ? `GitHub organizations ${p.githubOrgs.join(", ")}` : "",
    p.gitlabGroups.length ? `GitLab groups ${p.gitlabGroups.join(", ")}` : "",
    p.oidcClaims.length
      ? `OIDC claims ${p.oidcClaims.map((r) => `${r.claim}:${r.value}`).join(", ")}`
      : "",
  ].filter(Boolean);
  return `Sign-up: allowlist (${source}): ${lists.join("; ")}; everyone else needs an invitation (POST /api/v1/admin/users). ${link}`;
}
