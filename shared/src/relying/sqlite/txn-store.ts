import type Database from 'better-sqlite3';
import type { HandoffClaims } from '../../tokens/handoff-token.js';
import type { TxnStore } from '../stores.js';

/** The SQLite {@link TxnStore}. */
export function createSqliteTxnStore(db: Database.Database): TxnStore {
  const insert = db.prepare('INSERT INTO pending_txns (id_hash, claims, expires_at) VALUES (?, ?, ?)');
  // DELETE ... RETURNING reads and consumes in one step: a txn can be completed once only.
  const take = db.prepare<[string], { claims: string; expires_at: number }>(
    'DELETE FROM pending_txns WHERE id_hash = ? RETURNING claims, expires_at',
  );
  const purge = db.prepare('DELETE FROM pending_txns WHERE expires_at <= ?');
  return {
    async put(idHash, claims, expiresAt) {
      insert.run(idHash, JSON.stringify(claims), expiresAt);
    },
    async take(idHash, now) {
      const row = take.get(idHash);
      if (!row || row.expires_at <= now) return undefined;
      return JSON.parse(row.claims) as HandoffClaims;
    },
    async purgeExpired(now) {
      return purge.run(now).changes;
    },
  };
}
