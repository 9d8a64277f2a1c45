export {
  type AuditClient,
  type Billing,
  type BillingClient,
  createPackrClient,
  type OrgsClient,
  type PackrClient,
  type PackrClientOptions,
  type WebhooksClient,
} from "./client.ts";
export { PackrApiError, PackrNetworkError } from "./errors.ts";
export type * from "./schemas.ts";
