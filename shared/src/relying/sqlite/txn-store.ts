import type Database from 'better-sqlite3';
import type { HandoffClaims } from '../../tokens/handoff-token.js';
import type { VerificationTrace } from '../../tokens/verification-trace.js';
import type { TxnStore } from '../stores.js';

/** The SQLite {@link TxnStore}. */
export function createSqliteTxnStore(db: Database.Database): TxnStore {
  const insert = db.prepare(
    'INSERT INTO pending_txns (id_hash, claims, trace, expires_at) VALUES (?, ?, ?, ?)',
  );
  // DELETE ... RETURNING reads and consumes in one step: a txn can be completed once only.
  const take = db.prepare<[string], { claims: string; trace: string | null; expires_at: number }>(
    'DELETE FROM pending_txns WHERE id_hash = ? RETURNING claims, trace, expires_at',
  );
  const purge = db.prepare('DELETE FROM pending_txns WHERE expires_at <= ?');
  return {
    async put(idHash, { claims, trace }, expiresAt) {
      insert.run(idHash, JSON.stringify(claims), trace ? JSON.stringify(trace) : null, expiresAt);
    },
    async take(idHash, now) {
      const row = take.get(idHash);
      if (!row || row.expires_at <= now) return undefined;
      const claims = JSON.parse(row.claims) as HandoffClaims;
      return row.trace ? { claims, trace: JSON.parse(row.trace) as VerificationTrace } : { claims };
    },
    async purgeExpired(now) {
      return purge.run(now).changes;
    },
  };
}
