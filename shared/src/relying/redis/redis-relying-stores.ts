import type { SessionTimeouts } from '../../http/session-cookies.js';
import type { RelyingStores } from '../stores.js';
import { createRedisActivityStore } from './activity-store.js';
import { connectRedis } from './connection.js';
import type { RedisConnectionEvent, RedisTimeouts } from './connection-options.js';
import { createRedisRevocationStore } from './revocation-store.js';
import { createRedisSessionStore } from './session-store.js';
import { createRedisTxnStore } from './txn-store.js';
import { createRedisUsedJtiStore } from './used-jti-store.js';

/** Options of {@link createRedisRelyingStores}. */
export interface RedisRelyingStoresOptions {
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. */
  url: string;
  /** Put before every key (letters, digits, `.`, `_`, `:`, `-`), e.g. `jwt-handoff:server2:`. */
  keyPrefix: string;
  /** Idle and absolute session timeouts, in milliseconds. */
  sessionTimeouts: SessionTimeouts;
  /** How long completed handoffs are kept for activity reports, in milliseconds. */
  activityRetentionMs: number;
  /** Bounds on connecting and on each command (REDIS_CONNECTION_DEFAULTS). */
  timeouts?: Partial<RedisTimeouts>;
  /** Called when the connection becomes ready, and once when it is lost (for logging). */
  onConnectionEvent?: (event: RedisConnectionEvent) => void;
  /** The clock, in milliseconds since the epoch. Default Date.now. */
  now?: () => number;
}

/** The characters a key prefix may hold: none of them is special to SCAN's MATCH patterns. */
export const REDIS_KEY_PREFIX_PATTERN = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * {@link RelyingStores} in Redis, for several replicas of one relying service: each "only once"
 * is one atomic command or script (`SET NX PX`, `GETDEL`), everything that expires carries a
 * Redis TTL (so there is no purge), and every call fails with StoreUnavailableError, answered
 * 503 `store_unavailable`, while Redis cannot be reached: fail closed, never open.
 */
export function createRedisRelyingStores(options: RedisRelyingStoresOptions): RelyingStores {
  if (!REDIS_KEY_PREFIX_PATTERN.test(options.keyPrefix))
    throw new TypeError('the Redis key prefix must be 1-100 letters, digits, ".", "_", ":" or "-"');
  const now = options.now ?? Date.now;
  const redis = connectRedis({
    url: options.url,
    keyPrefix: options.keyPrefix,
    timeouts: options.timeouts,
    onEvent: options.onConnectionEvent,
  });
  return {
    sessions: createRedisSessionStore(redis, options.sessionTimeouts),
    usedJtis: createRedisUsedJtiStore(redis, now),
    txns: createRedisTxnStore(redis, now),
    revocations: createRedisRevocationStore(redis, now),
    activity: createRedisActivityStore(redis, options.activityRetentionMs),
    isReady: () => redis.isReady(),
    close: () => redis.close(),
  };
}
