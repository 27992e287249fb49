// The relying side as one fastify plugin, and what an app needs to configure or extend it.
export { createRelyingMetrics, type RelyingMetrics } from './metrics.js';
export {
  RELYING_PARTY_DEFAULTS,
  type RelyingPartyOptions,
  type ResolvedRelyingPartyOptions,
} from './options.js';
export { type RelyingParty, type RequireSessionOptions, relyingParty } from './plugin.js';
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
