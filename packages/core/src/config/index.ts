// The config entry point on its own (`@packr/core/config`), so the dashboard can load settings and
// secrets without bundling the database drivers and blob stores behind `@packr/core`.
export type {
  BillingConfig,
  Config,
  DashboardConfig,
  OAuthClientConfig,
  S3Config,
  WebhookConfig,
} from "./config.ts";
export { loadConfig, loadDashboardConfig } from "./config.ts";
export { describeDuration, parseDuration } from "./duration.ts";
export type { Secrets } from "./secrets.ts";
export { resolveSecrets } from "./secrets.ts";
