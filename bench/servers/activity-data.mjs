// The data work of `GET /api/users/:sub/activity`, as server2 does it: the same tables, the
// same two queries and the same JSON. The session and @fastify/jwt baselines run it behind their
// own authentication, so that they differ from server2 only in how the caller is authenticated.
// (The bare route does not: it is the framework's ceiling and returns the JSON as a constant.)
import { rmSync } from 'node:fs';
import { openDatabase } from '@jwt-handoff/shared';
import { tempDir } from '@jwt-handoff/testkit';

// server2's schema for these two tables (services/server2/src/stores/database.ts).
const SCHEMA = `CREATE TABLE sessions (
     id_hash TEXT PRIMARY KEY,
     sub TEXT NOT NULL,
     sid TEXT,
     claims TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     last_seen_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX sessions_by_sub ON sessions(sub);
   CREATE TABLE handoff_events (sub TEXT NOT NULL, at INTEGER NOT NULL);
   CREATE INDEX handoff_events_by_sub ON handoff_events(sub, at);`;

const IDLE_MS = 30 * 60_000;
const RECENT_HANDOFFS = 10;

/** A SQLite database shaped like server2's, in a temporary directory; `close()` removes it. */
export function openActivityDatabase(prefix) {
  const dir = tempDir(prefix);
  const db = openDatabase(dir, 'bench.sqlite', [SCHEMA]);
  const listForSub = db.prepare(
    'SELECT * FROM sessions WHERE sub = ? AND expires_at > ? ORDER BY created_at DESC',
  );
  const recent = db.prepare('SELECT at FROM handoff_events WHERE sub = ? ORDER BY at DESC LIMIT ?');

  /** What server2's handler computes for `sub` (services/server2/src/routes/api.ts). */
  function activityOf(sub, now = Date.now()) {
    const sessions = listForSub
      .all(sub, now)
      .map((row) => ({
        claims: JSON.parse(row.claims),
        createdAt: row.created_at,
        lastSeenAt: row.last_seen_at,
        expiresAt: row.expires_at,
      }))
      .filter((session) => session.expiresAt > now && session.lastSeenAt + IDLE_MS > now);
    const handoffs = recent.all(sub, RECENT_HANDOFFS).map((row) => row.at);
    const lastSeen = sessions.reduce((latest, session) => Math.max(latest, session.lastSeenAt), 0);
    return {
      sub,
      active_sessions: sessions.length,
      last_seen_at: lastSeen > 0 ? new Date(lastSeen).toISOString() : null,
      sessions: sessions.map((session) => ({
        started_at: new Date(session.createdAt).toISOString(),
        last_seen_at: new Date(session.lastSeenAt).toISOString(),
        expires_at: new Date(session.expiresAt).toISOString(),
      })),
      recent_handoffs: handoffs.map((at) => new Date(at).toISOString()),
    };
  }

  return {
    db,
    activityOf,
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
