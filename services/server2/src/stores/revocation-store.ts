import type Database from 'better-sqlite3';

/**
 * Per-user "tokens valid after" times, set by server1's "sign out everywhere" through the
 * back-channel: a handoff token for that user whose iat is at or before the time is refused.
 */
export interface RevocationStore {
  /** The user's time (unix seconds), or undefined when never set. */
  tokensValidAfter(sub: string): Promise<number | undefined>;
  /** Moves the user's time forward to `at`; an older time never replaces a newer one. */
  revokeUntil(sub: string, at: number): Promise<void>;
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
  return {
    async tokensValidAfter(sub) {
      return select.get(sub)?.tokens_valid_after;
    },
    async revokeUntil(sub, at) {
      upsert.run(sub, at);
    },
  };
}
