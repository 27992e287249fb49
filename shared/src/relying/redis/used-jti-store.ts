import type { UsedJtiStore } from '../stores.js';
import type { RedisConnection } from './connection.js';

/**
 * The Redis replay store, shared by every replica: `SET key 1 NX PX ttl` both checks and records
 * in one command, so of two replicas presented the same token at the same moment exactly one is
 * told it came first. The key expires with the token, so nothing needs purging.
 */
export function createRedisUsedJtiStore(redis: RedisConnection, now: () => number = Date.now): UsedJtiStore {
  return {
    async markUsed(iss, jti, expiresAtSec) {
      // The issuer is URI-encoded so that it holds no ":", which keeps (iss, jti) unambiguous.
      const key = redis.key('jti', encodeURIComponent(iss), jti);
      // At least 1 ms: a token the verifier has just accepted is never already expired, but a
      // zero or negative PX would be refused by Redis rather than recorded.
      const ttlMs = Math.max(1, expiresAtSec * 1000 - now());
      const set = await redis.run((client) => client.set(key, '1', 'PX', ttlMs, 'NX'));
      return set === 'OK';
    },
    count: () => redis.countKeys('jti:*'),
  };
}
