export { baseUrlProblem, ConfigError, EnvReader } from './config/env-reader.js';
export {
  ALLOW_INSECURE_LOOPBACK,
  insecureUrlProblem,
  isLoopbackHost,
  ProductionMode,
  SECRET_MIN_LENGTH,
  weakSecretProblem,
} from './config/production-mode.js';
export { type ListenTls, readListenTls, readTrustedCa } from './config/tls-files.js';
export {
  fastifyTrustProxy,
  readTrustProxy,
  TRUST_PROXY_MAX_HOPS,
  type TrustProxy,
} from './config/trust-proxy.js';
export {
  createDiscoveredKeySource,
  type DiscoveredKeySource,
} from './discovery/discovered-key-source.js';
export {
  createDiscoveryClient,
  type DiscoveryClient,
  type DiscoveryClientOptions,
} from './discovery/discovery-client.js';
export {
  DISCOVERY_PATH,
  type DiscoveredEndpoints,
  type DiscoveredTokenKind,
  type DiscoveryDocument,
  discoveryUrl,
  InvalidDiscoveryDocumentError,
  OPENID_CONFIGURATION_PATH,
  readDiscoveryDocument,
} from './discovery/discovery-document.js';
export {
  AppError,
  type AppErrorOptions,
  REASON_CODES,
  REASONS,
  type ReasonCode,
  type ReasonSpec,
  refusedToken,
  StoreUnavailableError,
  TOKEN_REASONS,
  type TokenReason,
  withoutStackTrace,
} from './errors.js';
export { cspHash, type PageOptions, type RenderedPage, renderPage, sendPage } from './html/page.js';
export { escapeHtml, html, SafeHtml, trustedHtml } from './html/template.js';
export { type CookieSpec, cookieSpec } from './http/cookie-policy.js';
export { createServiceApp, type ServiceAppOptions } from './http/create-service-app.js';
export {
  type AppErrorRenderer,
  createErrorHandler,
  installErrorHandling,
  sendAppError,
  toAppError,
} from './http/error-handler.js';
export { formFields, textField } from './http/form-body.js';
export { type HealthRoutesOptions, healthRoutes } from './http/health-routes.js';
export { loggerOptions, maskSecretQuery } from './http/logger-options.js';
export { type Labels, MetricsRegistry, type MetricsRegistryOptions } from './http/metrics.js';
export {
  forwardedClients,
  isLoopbackAddress,
  METRICS_TOKEN_MIN_LENGTH,
  type MetricsAccessOptions,
  metricsAccess,
  metricsTokenProblem,
} from './http/metrics-access.js';
export { trustedCaConnectOptions } from './http/outbound-ca.js';
export { safeReturnTo } from './http/return-to.js';
export { type ListenOptions, runService } from './http/run-service.js';
export { isSameOriginRequest, secretsEqual } from './http/same-origin.js';
export { HSTS_POLICY, securityHeaders } from './http/security-headers.js';
export {
  type CookieSessionStore,
  createSessionCookies,
  isSessionLive,
  type SessionCookies,
  type SessionCookiesOptions,
  type SessionTimeouts,
  touchIntervalMs,
} from './http/session-cookies.js';
export { hashSecret, randomId } from './http/session-id.js';
export { requireSignOutForm, SIGN_OUT_TOKEN_FIELD, signOutToken } from './http/sign-out-token.js';
export { logTaskFailure } from './http/task-failure-log.js';
export {
  createJwksClient,
  type JwksClient,
  type JwksClientStats,
  MAX_REVOKED_KIDS,
} from './keys/jwks-client.js';
export type { JwksFetchOutcome, JwksMissReason } from './keys/jwks-client-metrics.js';
export { JWKS_CLIENT_DEFAULTS, type JwksClientOptions } from './keys/jwks-client-options.js';
export {
  type KeyOrigin,
  KeyRevokedError,
  type KeySource,
  KeySourceUnavailableError,
} from './keys/key-source.js';
export { createLocalKeySource } from './keys/local-key-source.js';
export {
  type ActivityStore,
  createRedisRelyingStores,
  createRelyingMetrics,
  createRevocation,
  createSqliteRelyingStores,
  endedSidRetentionMs,
  HANDOFF_STATE_TTL_MS,
  isRedisUrl,
  REDIS_CONNECTION_DEFAULTS,
  REDIS_KEY_PREFIX_PATTERN,
  RELYING_PARTY_DEFAULTS,
  type RedisConnectionEvent,
  type RedisRelyingStoresOptions,
  type RedisTimeouts,
  type RelyingMetrics,
  type RelyingParty,
  type RelyingPartyOptions,
  type RelyingSession,
  type RelyingSessionStore,
  type RelyingStores,
  type RequireSessionOptions,
  type ResolvedRelyingPartyOptions,
  type Revocation,
  type RevocationOptions,
  type RevocationStore,
  relyingParty,
  type SqliteRelyingStoresOptions,
  type TxnStore,
  type UsedJtiStore,
  type VerifiedHandoff,
} from './relying/index.js';
export {
  createServiceClient,
  type ServiceCall,
  ServiceCallError,
  type ServiceClient,
  type ServiceClientOptions,
  type ServiceResponse,
} from './service-client/service-client.js';
export {
  createServiceTokenCache,
  type ServiceTokenCacheOptions,
  type ServiceTokenSource,
} from './service-client/service-token-cache.js';
export { type Migration, openDatabase } from './sqlite/open-database.js';
export { type SessionTableOperations, sessionTableOperations } from './sqlite/session-table.js';
export type { BaseClaims } from './tokens/claims.js';
export {
  HANDOFF_PROFILE,
  HANDOFF_TOKEN_TTL_DEFAULT_SEC,
  HANDOFF_TOKEN_TTL_MAX_SEC,
  type HandoffClaims,
  type HandoffTokenInput,
  type HandoffVerifierInput,
  handoffVerifierOptions,
  mintHandoffToken,
} from './tokens/handoff-token.js';
export {
  KEYS_CHANGED_MAX_KIDS,
  KEYS_CHANGED_PROFILE,
  type KeysChangedClaims,
  type KeysChangedTokenInput,
  keysChangedVerifierOptions,
  mintKeysChangedToken,
} from './tokens/keys-changed-token.js';
export {
  LOGOUT_HINT_MAX_LIFETIME_SEC,
  LOGOUT_HINT_PROFILE,
  type LogoutHintClaims,
  type LogoutHintInput,
  logoutHintVerifierOptions,
  mintLogoutHint,
} from './tokens/logout-hint-token.js';
export {
  BACKCHANNEL_LOGOUT_EVENT,
  LOGOUT_PROFILE,
  type LogoutClaims,
  type LogoutTokenInput,
  type LogoutVerifierInput,
  logoutVerifierOptions,
  mintLogoutToken,
} from './tokens/logout-token.js';
export type { TokenProfile } from './tokens/profiles.js';
export { createMemoryReplayStore, type ReplayStore } from './tokens/replay-store.js';
export {
  ACTIVITY_SCOPE,
  mintServiceToken,
  SERVICE_PROFILE,
  type ServiceClaims,
  type ServiceTokenInput,
  type ServiceVerifierInput,
  serviceVerifierOptions,
} from './tokens/service-token.js';
export type { SigningKey } from './tokens/signing-key.js';
export {
  startTrace,
  type TraceCheck,
  type TraceEntry,
  type TraceValue,
  traceCheck,
  type VerificationTrace,
} from './tokens/verification-trace.js';
export {
  type CachedVerification,
  VERIFIED_TOKEN_CACHE_DEFAULTS,
  VerifiedTokenCache,
  type VerifiedTokenCacheOptions,
} from './tokens/verified-token-cache.js';
export {
  createVerifier,
  type RejectedToken,
  type SigningAlgorithm,
  SUPPORTED_ALGORITHMS,
  type TokenVerifier,
  VERIFIER_DEFAULTS,
  type VerificationResult,
  type VerifiedToken,
  type VerifierOptions,
} from './tokens/verifier.js';
