import type { HandoffClaims } from '../../tokens/handoff-token.js';
import type { TxnStore } from '../stores.js';
import type { RedisConnection } from './connection.js';

interface StoredTxn {
  claims: HandoffClaims;
  expiresAt: number;
}

/** The Redis {@link TxnStore}: a txn parked by one replica can be completed at any other, once. */
export function createRedisTxnStore(redis: RedisConnection, now: () => number = Date.now): TxnStore {
  return {
    async put(idHash, claims, expiresAt) {
      const stored: StoredTxn = { claims, expiresAt };
      const ttlMs = Math.max(1, expiresAt - now());
      await redis.run((client) => client.set(redis.key('txn', idHash), JSON.stringify(stored), 'PX', ttlMs));
    },
    async take(idHash, at) {
      // GETDEL reads and removes in one command: of two replicas completing the same txn, one
      // gets the claims and the other nothing.
      const value = await redis.run((client) => client.getdel(redis.key('txn', idHash)));
      if (value === null) return undefined;
      const stored = JSON.parse(value) as StoredTxn;
      // Redis expires the key on its own clock; this checks on the service's.
      return stored.expiresAt > at ? stored.claims : undefined;
    },
  };
}
