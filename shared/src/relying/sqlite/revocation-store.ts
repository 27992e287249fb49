import type Database from 'better-sqlite3';
import type { RevocationStore } from '../stores.js';

/** The SQLite {@link RevocationStore}. */
export function createSqliteRevocationStore(db: Database.Database): RevocationStore {
  const select = db.prepare<[string], { tokens_valid_after: number }>(
    'SELECT tokens_valid_after FROM user_revocations WHERE sub = ?',
  );
  // Deliveries can arrive out of order (retries); max() keeps the latest revocation.
  const upsert = db.prepare(
    `INSERT INTO user_revocations (sub, tokens_valid_after) VALUES (?, ?)
     ON CONFLICT (sub) DO UPDATE SET tokens_valid_after = max(tokens_valid_after, excluded.tokens_valid_after)`,
  );
  const endSid = db.prepare(
    `INSERT INTO ended_sids (sid, expires_at) VALUES (?, ?)
     ON CONFLICT (sid) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`,
  );
  const sidEnded = db.prepare<[string, number], { n: number }>(
    'SELECT count(*) AS n FROM ended_sids WHERE sid = ? AND expires_at > ?',
  );
  const purge = db.prepare('DELETE FROM ended_sids WHERE expires_at <= ?');
  return {
    async endSid(sid, until) {
      endSid.run(sid, until);
    },
    async isSidEnded(sid, now) {
      return (sidEnded.get(sid, now)?.n ?? 0) > 0;
    },
    async purgeExpired(now) {
      return purge.run(now).changes;
    },
    async tokensValidAfter(sub) {
      return select.get(sub)?.tokens_valid_after;
    },
    async revokeUntil(sub, at) {
      upsert.run(sub, at);
    },
  };
}
