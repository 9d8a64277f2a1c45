import {
  type Config,
  type DashboardConfig,
  loadConfig,
  loadDashboardConfig,
  resolveSecrets,
} from "@packr/core/config";

export type DashboardSettings = DashboardConfig & {
  internalApiSecret: string;
  sessionSecret: string;
  /** https dashboards get `Secure` cookies. */
  secureCookies: boolean;
  /** PACKR_TOKEN_MIN_TTL..PACKR_TOKEN_MAX_TTL (ms): the expiries the token form offers. */
  tokenTtl: { minMs: number; maxMs: number };
  /**
   * The registry's sign-up policy (the same PACKR_SIGNUP_* settings): a provider asks for group
   * memberships or claims only when an allow-list needs them (GitHub's read:org, GitLab's openid).
   */
  signup: Config["signup"];
};

let settings: Promise<DashboardSettings> | undefined;

/**
 * Settings are read once per process. Secrets come from the environment or, on the embedded
 * default, from the registry's generated `<PACKR_DATA_DIR>/secrets.json` (core's resolveSecrets),
 * so `pnpm start` needs no configuration.
 */
export function getSettings(): Promise<DashboardSettings> {
  settings ??= (async () => {
    const dashboard = loadDashboardConfig(process.env);
    const registryConfig = loadConfig(process.env);
    const secrets = await resolveSecrets(registryConfig);
    return {
      ...dashboard,
      internalApiSecret: secrets.internalApi,
      sessionSecret: secrets.session,
      secureCookies: dashboard.dashboardUrl.startsWith("https:"),
      tokenTtl: registryConfig.tokenTtl,
      signup: registryConfig.signup,
    };
  })();
  return settings;
}

let https: boolean | undefined;

/** Whether PACKR_DASHBOARD_URL is https (HSTS, CSP upgrades); read once, synchronously, for the proxy. */
export function dashboardIsHttps(): boolean {
  https ??= loadDashboardConfig(process.env).dashboardUrl.startsWith("https:");
  return https;
}
