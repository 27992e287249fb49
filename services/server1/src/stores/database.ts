import { type Migration, openDatabase } from '@jwt-handoff/shared';
import type Database from 'better-sqlite3';

// Append only: a migration's index is its schema version, so an edit here would never reach a
// database that already ran it.
const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE users (
     id TEXT PRIMARY KEY,
     username TEXT NOT NULL UNIQUE COLLATE NOCASE,
     name TEXT NOT NULL,
     email TEXT NOT NULL,
     password_hash TEXT NOT NULL,
     tokens_valid_after INTEGER,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE sessions (
     id_hash TEXT PRIMARY KEY,
     sid TEXT NOT NULL UNIQUE,
     user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     created_at INTEGER NOT NULL,
     last_seen_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX sessions_by_user ON sessions(user_id);
   CREATE INDEX sessions_by_expiry ON sessions(expires_at);
   CREATE TABLE signing_keys (
     kid TEXT PRIMARY KEY,
     alg TEXT NOT NULL,
     private_jwk TEXT NOT NULL,
     public_jwk TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     publish_at INTEGER NOT NULL,
     sign_from INTEGER NOT NULL,
     retire_at INTEGER,
     unpublish_at INTEGER
   );`,
  // Back-channel logout deliveries waiting to reach a client (docs/design.md section 2).
  `CREATE TABLE logout_outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     client_id TEXT NOT NULL,
     sub TEXT NOT NULL,
     sid TEXT,
     tokens_valid_after INTEGER,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     last_error TEXT,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX logout_outbox_by_due ON logout_outbox(next_attempt_at);`,
  // The clients each session was handed off to, so that sign-out and the dashboard's activity
  // panel reach only those (docs/design.md section 2). Not tied to the sessions table by a
  // foreign key: a visit outlives its session until its logout is queued or keep_until passes.
  `CREATE TABLE session_visits (
     sid TEXT NOT NULL,
     user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     client_id TEXT NOT NULL,
     first_visited_at INTEGER NOT NULL,
     last_visited_at INTEGER NOT NULL,
     keep_until INTEGER NOT NULL,
     PRIMARY KEY (sid, client_id)
   );
   CREATE INDEX session_visits_by_user ON session_visits(user_id);
   CREATE INDEX session_visits_by_keep_until ON session_visits(keep_until);`,
  // The lease of a delivery claimed by a dispatcher (see LogoutOutbox.claimDue).
  'ALTER TABLE logout_outbox ADD COLUMN lease_until INTEGER;',
  // When the user last entered their password in this session (docs/design.md, "Fresh sign-in"):
  // a re-authentication renews it without ending the session. Older rows were signed in at creation.
  `ALTER TABLE sessions ADD COLUMN auth_time INTEGER;
   UPDATE sessions SET auth_time = created_at;`,
  // The outbox carries a second kind of event, the issuer's key revocations (keys-changed, docs/
  // design.md section 4): `kind` tells them apart, `revoked_kids` (JSON) is the event's content.
  // sub is '' for them: they are about the issuer's keys, not a user.
  `ALTER TABLE logout_outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'logout';
   ALTER TABLE logout_outbox ADD COLUMN revoked_kids TEXT;`,
];

/** Opens server1's database, `server1.sqlite` in the data directory. */
export function openServer1Database(dataDir: string): Database.Database {
  return openDatabase(dataDir, 'server1.sqlite', MIGRATIONS);
}
