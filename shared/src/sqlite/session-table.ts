import type Database from 'better-sqlite3';
import { isSessionLive, type SessionTimeouts, touchIntervalMs } from '../http/session-cookies.js';
import { hashSecret } from '../http/session-id.js';

/** What every stored session has, whatever else a service keeps in it. */
interface SessionTimes {
  readonly idHash: string;
  readonly lastSeenAt: number;
  readonly expiresAt: number;
}

/** The operations both services' session stores share. */
export interface SessionTableOperations<S> {
  /** The live session for a cookie value, its idle clock restarted; an expired one is deleted. */
  touch(id: string, now: number): Promise<S | undefined>;
  delete(idHash: string): Promise<void>;
  /** Drops sessions past their idle or absolute timeout; returns how many. */
  purgeExpired(now: number): Promise<number>;
  count(): Promise<number>;
}

/**
 * The shared half of a SQLite session store over a `sessions` table with `id_hash`,
 * `last_seen_at` and `expires_at` columns: lookup with idle and absolute timeouts, the throttled
 * idle-clock write, deletion and purging. Each service adds how sessions are created and what
 * they carry (`toSession` maps its row).
 */
export function sessionTableOperations<Row, S extends SessionTimes>(
  db: Database.Database,
  timeouts: SessionTimeouts,
  toSession: (row: Row) => S,
): SessionTableOperations<S> {
  const select = db.prepare<[string], Row>('SELECT * FROM sessions WHERE id_hash = ?');
  const touch = db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?');
  const remove = db.prepare('DELETE FROM sessions WHERE id_hash = ?');
  const purge = db.prepare('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?');
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM sessions');
  const touchEveryMs = touchIntervalMs(timeouts);
  return {
    async touch(id, now) {
      const idHash = hashSecret(id);
      const row = select.get(idHash);
      if (!row) return undefined;
      const session = toSession(row);
      if (!isSessionLive(session, timeouts, now)) {
        remove.run(idHash);
        return undefined;
      }
      if (now - session.lastSeenAt < touchEveryMs) return session;
      touch.run(now, idHash);
      return { ...session, lastSeenAt: now };
    },
    async delete(idHash) {
      remove.run(idHash);
    },
    async purgeExpired(now) {
      return purge.run(now, now - timeouts.idleMs).changes;
    },
    async count() {
      return count.get()?.n ?? 0;
    },
  };
}
