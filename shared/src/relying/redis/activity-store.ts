import { randomBytes } from 'node:crypto';
import type { ActivityStore } from '../stores.js';
import { type RedisConnection, transactionResults } from './connection.js';

// Only the most recent events per user are ever shown; keeping a few more than that bounds
// each user's set by users rather than by traffic (as the SQLite store does).
const KEPT_PER_USER = 20;

/**
 * The Redis {@link ActivityStore}: one sorted set per user, scored by time. Each write trims the
 * set to the newest events and to `retentionMs`, and the set expires `retentionMs` after the
 * user's last handoff, so nothing needs purging.
 */
export function createRedisActivityStore(redis: RedisConnection, retentionMs: number): ActivityStore {
  return {
    async recordHandoff(sub, at) {
      const key = redis.key('activity', sub);
      // Unique members: two handoffs in the same millisecond are two events.
      const member = `${at}:${randomBytes(6).toString('base64url')}`;
      await redis.run((client) =>
        client
          .multi()
          .zadd(key, at, member)
          .zremrangebyrank(key, 0, -(KEPT_PER_USER + 1))
          .zremrangebyscore(key, '-inf', `(${at - retentionMs}`)
          .pexpire(key, retentionMs)
          .exec()
          .then(transactionResults),
      );
    },
    async recentHandoffs(sub, limit) {
      const scores = await redis.run((client) =>
        client.zrevrange(redis.key('activity', sub), 0, limit - 1, 'WITHSCORES'),
      );
      return scores.filter((_, index) => index % 2 === 1).map(Number);
    },
  };
}
