import type { RevocationStore } from '../stores.js';
import type { RedisConnection } from './connection.js';

// Deliveries can arrive out of order (retries) and at different replicas: each write keeps the
// larger value, in one step, so an older sign-out never undoes a newer one.
const KEEP_LATER = `
local current = tonumber(redis.call('GET', KEYS[1]))
local value = tonumber(ARGV[1])
if current ~= nil and current >= value then return 0 end
if ARGV[2] == '' then
  redis.call('SET', KEYS[1], ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 1`;

/**
 * The Redis {@link RevocationStore}: per-user tokens-valid-after times (kept, as in SQLite, for
 * good) and ended issuer sessions (expiring by themselves once no handoff from them can arrive).
 */
export function createRedisRevocationStore(
  redis: RedisConnection,
  now: () => number = Date.now,
): RevocationStore {
  const keepLater = redis.script('jwtHandoffKeepLater', KEEP_LATER, 1);
  return {
    async tokensValidAfter(sub) {
      const value = await redis.run((client) => client.get(redis.key('tokens-valid-after', sub)));
      return value === null ? undefined : Number(value);
    },
    async revokeUntil(sub, at) {
      await keepLater.run([redis.key('tokens-valid-after', sub)], [at, '']);
    },
    async endSid(sid, until) {
      await keepLater.run([redis.key('ended-sid', sid)], [until, Math.max(1, until - now())]);
    },
    async isSidEnded(sid, at) {
      const value = await redis.run((client) => client.get(redis.key('ended-sid', sid)));
      return value !== null && Number(value) > at;
    },
  };
}
