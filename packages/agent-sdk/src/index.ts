export {
  type AuditClient,
  createPackrClient,
  type OrgsClient,
  type PackrClient,
  type PackrClientOptions,
} from "./client.ts";
export { PackrApiError, PackrNetworkError } from "./errors.ts";
export type * from "./schemas.ts";
