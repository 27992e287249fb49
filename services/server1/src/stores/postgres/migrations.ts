import type { PostgresDatabase } from './database.js';

// Append only: a migration's position is its schema version, so an edit here would never reach
// a database that already ran it. Times are BIGINT milliseconds since the epoch, as in SQLite.
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE users (
     id TEXT PRIMARY KEY,
     username TEXT NOT NULL,
     name TEXT NOT NULL,
     email TEXT NOT NULL,
     password_hash TEXT NOT NULL,
     tokens_valid_after BIGINT,
     created_at BIGINT NOT NULL
   );
   -- Usernames are unique whatever their case, as with SQLite's COLLATE NOCASE.
   CREATE UNIQUE INDEX users_by_username ON users (lower(username));
   CREATE TABLE sessions (
     id_hash TEXT PRIMARY KEY,
     sid TEXT NOT NULL UNIQUE,
     user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     created_at BIGINT NOT NULL,
     last_seen_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL
   );
   CREATE INDEX sessions_by_user ON sessions (user_id);
   CREATE INDEX sessions_by_expiry ON sessions (expires_at);
   CREATE TABLE session_visits (
     sid TEXT NOT NULL,
     user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     client_id TEXT NOT NULL,
     first_visited_at BIGINT NOT NULL,
     last_visited_at BIGINT NOT NULL,
     keep_until BIGINT NOT NULL,
     PRIMARY KEY (sid, client_id)
   );
   CREATE INDEX session_visits_by_user ON session_visits (user_id);
   CREATE INDEX session_visits_by_keep_until ON session_visits (keep_until);
   CREATE TABLE signing_keys (
     kid TEXT PRIMARY KEY,
     alg TEXT NOT NULL,
     private_jwk TEXT NOT NULL,
     public_jwk TEXT NOT NULL,
     created_at BIGINT NOT NULL,
     publish_at BIGINT NOT NULL,
     sign_from BIGINT NOT NULL,
     retire_at BIGINT,
     unpublish_at BIGINT
   );
   -- lease_until: the replica that claimed a delivery holds it until then (see logout-outbox.ts).
   CREATE TABLE logout_outbox (
     id BIGSERIAL PRIMARY KEY,
     client_id TEXT NOT NULL,
     sub TEXT NOT NULL,
     sid TEXT,
     tokens_valid_after BIGINT,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at BIGINT NOT NULL,
     lease_until BIGINT,
     expires_at BIGINT NOT NULL,
     last_error TEXT,
     created_at BIGINT NOT NULL
   );
   CREATE INDEX logout_outbox_by_due ON logout_outbox (next_attempt_at);
   -- One row per failed (or in-flight) sign-in per throttle key: account, address or pair.
   CREATE TABLE login_failures (
     id BIGSERIAL PRIMARY KEY,
     key TEXT NOT NULL,
     at BIGINT NOT NULL
   );
   CREATE INDEX login_failures_by_key ON login_failures (key, at);
   CREATE INDEX login_failures_by_at ON login_failures (at);`,
  // When the user last entered their password in the session (docs/design.md, "Fresh sign-in").
  `ALTER TABLE sessions ADD COLUMN auth_time BIGINT;
   UPDATE sessions SET auth_time = created_at;`,
  // A second kind of outbox event, the issuer's key revocations (keys-changed, docs/design.md
  // section 4): `kind` tells them apart, `revoked_kids` (JSON) is the event's content.
  `ALTER TABLE logout_outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'logout';
   ALTER TABLE logout_outbox ADD COLUMN revoked_kids TEXT;`,
];

// Any constant shared by every replica: the one session-level advisory lock that serialises
// migrations. ('jwth' 's1mg' as ASCII, so it does not collide with another application's.)
const MIGRATION_LOCK = 0x6a777468_73316d67n;

// Migrating (and waiting for another replica's migration) may take longer than a request's query.
const MIGRATION_TIMEOUT_MS = 60_000;

/**
 * Brings the schema up to date; resolves with its version. Several replicas may start together:
 * each takes the same advisory lock first, so one migrates while the others wait, then find
 * nothing left to do. PostgreSQL's DDL is transactional, and the pending versions are applied in
 * one transaction with their rows in `schema_migrations`: a crash leaves the schema as it was.
 */
export async function migrate(db: PostgresDatabase): Promise<number> {
  return db.transaction(
    async (client) => {
      // A transaction-level lock: released with the transaction, also when the connection dies.
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
      );
      const { rows } = await client.query<{ version: number | null }>(
        'SELECT max(version) AS version FROM schema_migrations',
      );
      const current = rows[0]?.version ?? 0;
      if (current > MIGRATIONS.length) {
        throw new Error(
          `database schema version ${current} is newer than this build knows (${MIGRATIONS.length})`,
        );
      }
      for (let version = current + 1; version <= MIGRATIONS.length; version++) {
        await client.query(MIGRATIONS[version - 1] as string);
        await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [
          version,
          Date.now(),
        ]);
      }
      return MIGRATIONS.length;
    },
    { timeoutMs: MIGRATION_TIMEOUT_MS },
  );
}
