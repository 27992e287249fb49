// server2's tables and the statements its stores run on them, copied from
// services/server2/src/stores/ (that package exports only buildApp and loadConfig). The
// in-process handoff bound does server2's store writes through these, on a database opened the
// way server2 opens its own (WAL, synchronous=NORMAL).
export const SERVER2_SCHEMA = `CREATE TABLE sessions (
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
   );
   CREATE TABLE handoff_events (sub TEXT NOT NULL, at INTEGER NOT NULL);
   CREATE INDEX handoff_events_by_sub ON handoff_events(sub, at);`;

/** server2's statements for one handoff's writes, prepared on `db`. */
export function server2Writes(db) {
  const markUsed = db.prepare(
    `INSERT INTO used_jtis (iss, jti, expires_at) VALUES (@iss, @jti, @expiresAt)
     ON CONFLICT (iss, jti) DO UPDATE SET expires_at = excluded.expires_at
     WHERE used_jtis.expires_at <= @nowSec`,
  );
  const putTxn = db.prepare('INSERT INTO pending_txns (id_hash, claims, expires_at) VALUES (?, ?, ?)');
  const takeTxn = db.prepare('DELETE FROM pending_txns WHERE id_hash = ? RETURNING claims, expires_at');
  const removeSession = db.prepare('DELETE FROM sessions WHERE id_hash = ?');
  const insertSession = db.prepare(
    `INSERT INTO sessions (id_hash, sub, sid, claims, created_at, last_seen_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertEvent = db.prepare('INSERT INTO handoff_events (sub, at) VALUES (?, ?)');
  const trimEvents = db.prepare(
    `DELETE FROM handoff_events WHERE sub = ? AND rowid NOT IN
       (SELECT rowid FROM handoff_events WHERE sub = ? ORDER BY at DESC LIMIT 20)`,
  );
  const recordEvent = db.transaction((sub, at) => {
    insertEvent.run(sub, at);
    trimEvents.run(sub, sub);
  });
  return { markUsed, putTxn, takeTxn, removeSession, insertSession, recordEvent };
}
