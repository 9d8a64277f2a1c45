export {
  type AccessList,
  listCollaborators,
  listOrgPackages,
  listUserPackages,
} from "./access/list-access.ts";
export { getPackageVisibility } from "./access/package-visibility.ts";
export { type SetAccessResult, setPackageAccess } from "./access/set-package-access.ts";
export {
  listPackageCollaborators,
  listScopePackages,
  listUserPackageAccess,
} from "./access/team-access.ts";
export * from "./agent/index.ts";
export { analyzeVersion } from "./analysis/analyze-version.ts";
export { CAPABILITIES, type Capability, extractCapabilities } from "./analysis/capabilities.ts";
export {
  type AnalysisInput,
  type Analyzer,
  type DerivedAnalysis,
  type DocsInput,
  type DocsReader,
  deriveAnalysis,
  deriveDocsInput,
} from "./analysis/derive-analysis.ts";
export { type QualityScore, qualityScore, type ScoreFactor } from "./analysis/quality-score.ts";
export { readTarball } from "./analysis/read-tarball.ts";
export { computeSignals, type VersionSignals } from "./analysis/signals.ts";
export {
  AuditChainer,
  auditEventHash,
  type ChainBreak,
  type ChainReport,
  canonicalAuditContent,
  chainAllAuditEvents,
  chainAuditEvents,
  type VerifyReport,
  verifyAuditChain,
} from "./audit/audit-chain.ts";
export {
  AUDIT_PAGE_DEFAULT,
  AUDIT_PAGE_MAX,
  type AuditEvent,
  type AuditFilters,
  type AuditPage,
  type AuditPageInput,
  listAuditEvents,
  openAuditExport,
  parseAuditLimit,
} from "./audit/list-audit-events.ts";
export { recordFailedSignIn } from "./audit/sign-in-events.ts";
export { AttemptLimits } from "./auth/attempt-limits.ts";
export {
  clientAddress,
  LOOPBACK_PROXIES,
  normalizeAddress,
  type ProxyTrust,
  proxyTrust,
} from "./auth/client-address.ts";
export {
  generatePassword,
  hashPassword,
  SCRYPT_CONCURRENCY,
  SCRYPT_QUEUE_LIMIT,
  verifyPassword,
} from "./auth/passwords.ts";
export { assertScopeAllowed, requirePermission, requireToken } from "./auth/policy.ts";
export {
  isAdminPrincipal,
  type Principal,
  personRole,
  requireAdminPrincipal,
  requirePrincipal,
} from "./auth/principal.ts";
export { RATE_LIMITS, type RateLimit, RateLimiter } from "./auth/rate-limiter.ts";
export { assertReadAllowed, readPolicyRefusal } from "./auth/read-policy.ts";
export { assertCanRead, readableCondition } from "./auth/read-rule.ts";
export type { Permission, Role } from "./auth/roles.ts";
export { isRole, PERMISSIONS, ROLE_PERMISSIONS, ROLES } from "./auth/roles.ts";
export {
  ACCESS_CHANGED,
  AccessCache,
  announceAccessChange,
  forgetAccess,
  type UserAccess,
} from "./auth/user-access.ts";
export * from "./billing/index.ts";
export type {
  BillingConfig,
  Config,
  DashboardConfig,
  OAuthClientConfig,
  S3Config,
  ScopeClaim,
  UplinkConfig,
  WebhookConfig,
} from "./config/config.ts";
export { DEFAULT_UPLINK_URL, loadConfig, loadDashboardConfig } from "./config/config.ts";
export { describeDuration, parseDuration } from "./config/duration.ts";
export type { Secrets } from "./config/secrets.ts";
export { resolveSecrets } from "./config/secrets.ts";
export type {
  Actor,
  Deps,
  IdentitySettings,
  ServiceContext,
  SessionActor,
  TokenActor,
  TokenKind,
} from "./context.ts";
export type { Database, DatabaseHandle, DatabaseOptions, Queryable, Tx } from "./db/client.ts";
export { openDatabase } from "./db/client.ts";
export { type DataDirLock, lockDataDir } from "./db/data-dir-lock.ts";
export * as schema from "./db/schema/index.ts";
export {
  ORG_ROLES,
  type OrgRole,
  TEAM_PERMISSIONS,
  type TeamPermission,
  WEBHOOK_DELIVERY_STATUSES,
} from "./db/schema/index.ts";
export {
  AuthorizeDeviceInput,
  authorizeDevice,
  type DeviceAuthorization,
} from "./device/authorize-device.ts";
export {
  type DeviceCodeView,
  decideDeviceCode,
  describeDeviceCode,
} from "./device/device-decisions.ts";
export { type DevicePoll, pollDevice } from "./device/poll-device.ts";
export { USER_CODE_ALPHABET } from "./device/user-code.ts";
export { type DocEntry, extractTypedDocs, type TypedDocs } from "./docs/extract-dts.ts";
export { type DocGenConfig, generateAiDocs } from "./docs/generate-ai-docs.ts";
export { DownloadCounter } from "./downloads/download-counter.ts";
export {
  type DownloadPoint,
  getDownloadPoint,
  parsePeriod,
} from "./downloads/get-download-point.ts";
export type { ErrorBody, ErrorCode } from "./errors.ts";
export { ERROR_CODES, isPackrError, PackrError, toErrorBody } from "./errors.ts";
// Webhook delivery (issue 18, s/hooks-delivery).
export type { CommittedEvent, EventActor } from "./events/emit-event.ts";
export { checkHealth } from "./health.ts";
export { newId } from "./ids.ts";
export {
  BULLMQ_PREFIX,
  type BullJobData,
  BullmqSink,
  bullJobId,
  JOB_QUEUES,
  type JobQueueName,
  queueForTopic,
} from "./jobs/bullmq-sink.ts";
export { type HandedOffResult, runHandedOffJob } from "./jobs/handed-off-job.ts";
export { createJobHandlers } from "./jobs/handlers.ts";
export {
  InProcessRunner,
  type Job,
  type JobHandler,
  type JobHandlers,
  type JobSink,
  type SinkOutcome,
  SinkUnavailableError,
} from "./jobs/job-runner.ts";
export { enqueueJob, OUTBOX_CHANNEL } from "./jobs/outbox.ts";
export { BACKOFF_MS, DEFAULT_MAX_ATTEMPTS, returnClaim } from "./jobs/outbox-claim.ts";
export { OutboxRelay, type RelayOptions } from "./jobs/outbox-relay.ts";
export { ANALYZE_VERSION, DELIVER_EVENT, DELIVER_WEBHOOK, GENERATE_DOCS } from "./jobs/topics.ts";
export { createOrg } from "./orgs/create-org.ts";
export { deleteOrg } from "./orgs/delete-org.ts";
export { getOrg, listMyOrgs, listOrgs } from "./orgs/list-orgs.ts";
export {
  addOrgMember,
  listOrgMembers,
  removeOrgMember,
  setOrgMemberRole,
} from "./orgs/org-members.ts";
export {
  parseOrgRole,
  parseOrgSlug,
  parseTeamName,
  parseTeamPermission,
} from "./orgs/org-names.ts";
export { listPublicOrgPackages } from "./orgs/org-packages.ts";
export type {
  OrgDetail,
  OrgMember,
  OrgPackage,
  OrgPackages,
  OrgSummary,
  TeamGrant,
  TeamMember,
  TeamSummary,
} from "./orgs/org-views.ts";
export {
  addTeamMember,
  listTeamMembers,
  removeTeamMember,
} from "./orgs/team-members.ts";
export {
  grantTeamPackage,
  listTeamPackages,
  revokeTeamPackage,
} from "./orgs/team-packages.ts";
export { createTeam, deleteTeam, listTeams } from "./orgs/teams.ts";
export { updateOrg } from "./orgs/update-org.ts";
export { type ChangeOwnersResult, changeOwners } from "./packages/change-owners.ts";
export { deleteTarball } from "./packages/delete-tarball.ts";
export { type DeprecateResult, deprecateVersions } from "./packages/deprecate-versions.ts";
export { getDistTags } from "./packages/get-dist-tags.ts";
export { getPackument, type PackumentResponse } from "./packages/get-packument.ts";
export { getTarball, type TarballResponse } from "./packages/get-tarball.ts";
export { getVersionManifest } from "./packages/get-version.ts";
export { type PackageName, parsePackageName } from "./packages/names.ts";
export {
  isOwnClientName,
  OWN_CLIENT_PACKAGES,
  type OwnClientsResult,
  publishOwnClients,
} from "./packages/own-clients.ts";
export { PACKAGE_CHANGED, PackageCache } from "./packages/package-cache.ts";
export {
  type PackageWriteAllowance,
  packageWriteAllowance,
} from "./packages/package-write-allowance.ts";
export { tarballUrl } from "./packages/packument.ts";
export { type PackumentBytes, PackumentCache } from "./packages/packument-cache.ts";
export { type PublishResult, publishPackage } from "./packages/publish-package.ts";
export { removeDistTag } from "./packages/remove-dist-tag.ts";
export { setDistTag } from "./packages/set-dist-tag.ts";
export { TarballCache } from "./packages/tarball-cache.ts";
export { unpublishPackage } from "./packages/unpublish-package.ts";
export type { UnpublishResult } from "./packages/unpublish-rules.ts";
export { UNPUBLISH_WINDOW_HOURS } from "./packages/unpublish-rules.ts";
export { unpublishVersions } from "./packages/unpublish-versions.ts";
export { openProcessDeps, type ProcessDeps } from "./process-deps.ts";
export { backfillSearchDocuments } from "./search/search-document.ts";
export {
  type SearchInput,
  type SearchResult,
  searchPackages,
} from "./search/search-packages.ts";
export { parseSearchText, type SearchQuery } from "./search/search-query.ts";
export { type AuditAnswer, auditBulk, type BulkAdvisories } from "./security/audit-bulk.ts";
export { type AuditReport, auditQuick } from "./security/audit-quick.ts";
export { authenticateSession } from "./sessions/authenticate-session.ts";
export {
  CreateSessionInput,
  createPasswordSession,
  createSession,
  PasswordSignInInput,
  SESSION_TTL_SECONDS,
  type SessionUser,
  SIGN_IN_PROVIDERS,
} from "./sessions/create-session.ts";
export { endSession } from "./sessions/end-session.ts";
export {
  allowMagicLink,
  MagicLinkRequestInput,
} from "./sessions/magic-link-limit.ts";
export { SessionSigner } from "./sessions/session-signer.ts";
export { type RegistryKey, RegistrySigner, type Signature } from "./signing/registry-signer.ts";
export {
  listSigningKeys,
  registerSigningKey,
  retireSigningKey,
} from "./signing/signing-keys.ts";
export { type StarResult, starPackage } from "./stars/star-package.ts";
export { type StarredRows, starredByUser } from "./stars/starred-by-user.ts";
export * from "./storage/index.ts";
export { createNpmToken, mapNpmTokenRequest } from "./tokens/create-npm-token.ts";
export { type CreatedToken, CreateTokenInput, createToken } from "./tokens/create-token.ts";
export { listNpmTokens, NPM_TOKEN_PREFIX, type NpmToken } from "./tokens/list-npm-tokens.ts";
export { listTokens, type TokenSummary } from "./tokens/list-tokens.ts";
export { revokeNpmToken } from "./tokens/revoke-npm-token.ts";
export { revokeToken } from "./tokens/revoke-token.ts";
export {
  DEFAULT_TOKEN_TTL_MS,
  resolveTokenTtl,
  type TokenTtlRange,
} from "./tokens/token-expiry.ts";
export { npmTokenKey } from "./tokens/token-rules.ts";
export { type JwtSecrets, jwtKeyId, TOKEN_AUDIENCE, TokenService } from "./tokens/token-service.ts";
export type {
  DocumentRewriter,
  RewriteOutcome,
  RewriteRequest,
} from "./uplink/rewrite-document.ts";
export { Uplink } from "./uplink/uplink.ts";
export { couchLogin } from "./users/couch-login.ts";
export { ensureAdminUser, writeAdminPasswordFile } from "./users/ensure-admin.ts";
export { type InvitedUser, InviteUserInput, inviteUser } from "./users/invite-user.ts";
export {
  createUser,
  findUserByName,
  getCouchUser,
  LOGIN_TOKEN_TTL_SECONDS,
  type LoginResult,
  loginWithPassword,
  whoami,
} from "./users/login.ts";
export { logout } from "./users/logout.ts";
export {
  assertMaySignUp,
  DEFAULT_LINK_TRUSTED_PROVIDERS,
  describeSignupPolicy,
  isLinkTrusted,
  OPEN_SIGNUP,
  SIGNUP_MODES,
  type SignInProvider,
  type SignupCandidate,
  type SignupMode,
  type SignupPolicy,
} from "./users/signup-policy.ts";
export { type CreateWebhookInput, createWebhook } from "./webhooks/create-webhook.ts";
export { deleteWebhook } from "./webhooks/delete-webhook.ts";
export { deliverAttempt } from "./webhooks/deliver.ts";
export {
  DELIVERIES_DEFAULT_LIMIT,
  DELIVERIES_MAX_LIMIT,
  type DeliveryDetail,
  type DeliveryView,
  getDelivery,
  listDeliveries,
} from "./webhooks/deliveries.ts";
export type { EventPayload } from "./webhooks/event-payload.ts";
export {
  isWebhookEventType,
  parseWebhookEvents,
  WEBHOOK_EVENT_TYPES,
  type WebhookEventType,
  WebhookEventTypeSchema,
} from "./webhooks/event-types.ts";
export { deliveryIdOf, fanOutEvent } from "./webhooks/fan-out.ts";
export { getWebhook } from "./webhooks/get-webhook.ts";
export { hookScopeMatches, parseHookScope } from "./webhooks/hook-scope.ts";
export { listWebhooks } from "./webhooks/list-webhooks.ts";
export { pingWebhook } from "./webhooks/ping.ts";
export { redeliver } from "./webhooks/redeliver.ts";
export { deliveryHeaders, packrSignature, WEBHOOK_USER_AGENT } from "./webhooks/sign.ts";
export { type UpdateWebhookInput, updateWebhook } from "./webhooks/update-webhook.ts";
export {
  hookScopeWithin,
  loadManagedWebhook,
  requireHookManager,
  webhookNotFound,
} from "./webhooks/webhook-access.ts";
export {
  MAX_WEBHOOK_SECRET,
  MAX_WEBHOOK_URL,
  MAX_WEBHOOKS_PER_OWNER,
  MIN_WEBHOOK_SECRET,
  parseWebhookUrl,
  webhookSecret,
} from "./webhooks/webhook-input.ts";
export {
  type WebhookOwner,
  type WebhookRow,
  type WebhookView,
  webhookView,
  webhookViews,
} from "./webhooks/webhook-view.ts";
