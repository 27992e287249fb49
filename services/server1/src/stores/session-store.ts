import { hashSecret, randomId } from '@jwt-handoff/shared';
import type Database from 'better-sqlite3';

/** A signed-in browser on server1. The session id itself is never stored, only its hash. */
export interface Session {
  readonly idHash: string;
  /** The session's public handle in tokens (`sid`): a hash, never the session id. */
  readonly sid: string;
  readonly userId: string;
  /** Token for the session's own forms (sign-out), checked on every state-changing POST. */
  readonly csrfToken: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  /** The absolute end of the session (ms). */
  readonly expiresAt: number;
}

/** Session lifetimes, in milliseconds. */
export interface SessionTimeouts {
  idleMs: number;
  absoluteMs: number;
}

/** Where server1's sessions live. Async so that a Redis implementation fits the same shape. */
export interface SessionStore {
  /** Starts a session; returns the new session id (for the cookie) and the stored session. */
  create(userId: string, now: number): Promise<{ id: string; session: Session }>;
  /** The live session for a cookie value, with its idle clock restarted; undefined if none. */
  touch(id: string, now: number): Promise<Session | undefined>;
  /** Ends one session. */
  delete(idHash: string): Promise<void>;
  /** Drops sessions past their idle or absolute timeout; returns how many. */
  purgeExpired(now: number): Promise<number>;
  /** Sessions currently stored (for /metrics). */
  count(): Promise<number>;
}

interface SessionRow {
  id_hash: string;
  sid: string;
  user_id: string;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

// Restarting the idle clock costs a write; doing it at most once a minute keeps reads cheap and
// changes an idle timeout of minutes by a negligible amount.
const TOUCH_INTERVAL_MS = 60_000;

/** The SQLite {@link SessionStore}. */
export function createSqliteSessionStore(db: Database.Database, timeouts: SessionTimeouts): SessionStore {
  const insert = db.prepare(
    `INSERT INTO sessions (id_hash, sid, user_id, csrf_token, created_at, last_seen_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const select = db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id_hash = ?');
  const touch = db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?');
  const remove = db.prepare('DELETE FROM sessions WHERE id_hash = ?');
  const purge = db.prepare('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?');
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM sessions');

  return {
    async create(userId, now) {
      const id = randomId();
      const session: Session = {
        idHash: hashSecret(id),
        // A second, domain-separated hash: knowing a sid (it travels in tokens) gives no way
        // to look a session up by its primary key, let alone to forge its cookie.
        sid: hashSecret(`sid:${id}`),
        userId,
        csrfToken: randomId(),
        createdAt: now,
        lastSeenAt: now,
        expiresAt: now + timeouts.absoluteMs,
      };
      insert.run(session.idHash, session.sid, userId, session.csrfToken, now, now, session.expiresAt);
      return { id, session };
    },
    async touch(id, now) {
      const idHash = hashSecret(id);
      const row = select.get(idHash);
      if (!row) return undefined;
      if (row.expires_at <= now || row.last_seen_at + timeouts.idleMs <= now) {
        remove.run(idHash);
        return undefined;
      }
      if (now - row.last_seen_at >= TOUCH_INTERVAL_MS) {
        touch.run(now, idHash);
        row.last_seen_at = now;
      }
      return toSession(row);
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

function toSession(row: SessionRow): Session {
  return {
    idHash: row.id_hash,
    sid: row.sid,
    userId: row.user_id,
    csrfToken: row.csrf_token,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
  };
}
