import type Database from 'better-sqlite3';
import { type Migration, openDatabase } from '../../sqlite/open-database.js';

// Append only: a migration's index is its schema version.
const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE sessions (
     id_hash TEXT PRIMARY KEY,
     sub TEXT NOT NULL,
     sid TEXT,
     claims TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     last_seen_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX sessions_by_sub ON sessions(sub);
   CREATE INDEX sessions_by_sid ON sessions(sid);
   CREATE INDEX sessions_by_expiry ON sessions(expires_at);
   CREATE TABLE used_jtis (
     iss TEXT NOT NULL,
     jti TEXT NOT NULL,
     expires_at INTEGER NOT NULL,
     PRIMARY KEY (iss, jti)
   ) WITHOUT ROWID;
   CREATE INDEX used_jtis_by_expiry ON used_jtis(expires_at);
   CREATE TABLE pending_txns (
     id_hash TEXT PRIMARY KEY,
     claims TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   );`,
  // What the activity API reports, and the "sign out everywhere" revocation times.
  `CREATE TABLE handoff_events (
     sub TEXT NOT NULL,
     at INTEGER NOT NULL
   );
   CREATE INDEX handoff_events_by_sub ON handoff_events(sub, at);
   CREATE TABLE user_revocations (
     sub TEXT PRIMARY KEY,
     tokens_valid_after INTEGER NOT NULL
   ) WITHOUT ROWID;`,
  // Issuer sessions that have ended, remembered for as long as a handoff token minted before
  // the sign-out can still be presented and completed (revocation.ts derives how long).
  `CREATE TABLE ended_sids (
     sid TEXT PRIMARY KEY,
     expires_at INTEGER NOT NULL
   ) WITHOUT ROWID;`,
  // The verifier's trace of the handoff token, carried from the callback to the session it
  // starts (JSON). Nullable columns: rows written before this migration simply have none.
  `ALTER TABLE pending_txns ADD COLUMN trace TEXT;
   ALTER TABLE sessions ADD COLUMN trace TEXT;`,
];

/** Opens (creating and migrating) a relying service's database, `fileName` in `dataDir`. */
export function openRelyingDatabase(dataDir: string, fileName: string): Database.Database {
  return openDatabase(dataDir, fileName, MIGRATIONS);
}
