// The relying side as one fastify plugin, and what an app needs to configure or extend it.
export { createRelyingMetrics, type RelyingMetrics } from './metrics.js';
export {
  isRedisUrl,
  RELYING_PARTY_DEFAULTS,
  type RelyingPartyOptions,
  type ResolvedRelyingPartyOptions,
} from './options.js';
export { type RelyingParty, type RequireSessionOptions, relyingParty } from './plugin.js';
export {
  REDIS_CONNECTION_DEFAULTS,
  type RedisConnectionEvent,
  type RedisTimeouts,
} from './redis/connection-options.js';
export {
  createRedisRelyingStores,
  REDIS_KEY_PREFIX_PATTERN,
  type RedisRelyingStoresOptions,
} from './redis/redis-relying-stores.js';
export {
  createRevocation,
  endedSidRetentionMs,
  type Revocation,
  type RevocationOptions,
} from './revocation.js';
export {
  createSqliteRelyingStores,
  type SqliteRelyingStoresOptions,
} from './sqlite/sqlite-relying-stores.js';
export { HANDOFF_STATE_TTL_MS } from './state-cookie.js';
export type {
  ActivityStore,
  RelyingSession,
  RelyingSessionStore,
  RelyingStores,
  RevocationStore,
  TxnStore,
  UsedJtiStore,
  VerifiedHandoff,
} from './stores.js';
