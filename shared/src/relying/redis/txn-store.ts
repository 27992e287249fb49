import type { TxnStore, VerifiedHandoff } from '../stores.js';
import type { RedisConnection } from './connection.js';

interface StoredTxn {
  handoff: VerifiedHandoff;
  expiresAt: number;
}

/**
 * The Redis {@link TxnStore}: a txn parked by one replica can be completed at any other, once.
 * The verified handoff is kept whole: its claims, and the verifier's trace (shown on the page).
 */
export function createRedisTxnStore(redis: RedisConnection, now: () => number = Date.now): TxnStore {
  return {
    async put(idHash, handoff, expiresAt) {
      const stored: StoredTxn = { handoff, expiresAt };
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
      return stored.expiresAt > at ? stored.handoff : undefined;
    },
  };
}
