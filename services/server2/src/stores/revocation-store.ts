import type Database from 'better-sqlite3';

/**
 * What server1 has revoked, as far as server2 needs to know. Per-user "tokens valid after" times, set by server1's "sign out everywhere" through the
 * back-channel: a handoff token for that user whose iat is at or before the time is refused.
 */
export interface RevocationStore {
  /** The user's time (unix seconds), or undefined when never set. */
  tokensValidAfter(sub: string): Promise<number | undefined>;
  /** Moves the user's time forward to `at`; an older time never replaces a newer one. */
  revokeUntil(sub: string, at: number): Promise<void>;
  /** Remembers that server1 session `sid` ended, until `until` (ms). */
  endSid(sid: string, until: number): Promise<void>;
  /** Whether server1 session `sid` is known to have ended. */
  isSidEnded(sid: string, now: number): Promise<boolean>;
  /** Forgets ended sids past their time; returns how many. */
  purgeExpired(now: number): Promise<number>;
}

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
