import {
  type CookieSessionStore,
  hashSecret,
  randomId,
  type SessionTimeouts,
  sessionTableOperations,
} from '@jwt-handoff/shared';
import type Database from 'better-sqlite3';

/** A signed-in browser on server1. The session id itself is never stored, only its hash. */
export interface Session {
  readonly idHash: string;
  /** The session's public handle in tokens (`sid`): a hash, never the session id. */
  readonly sid: string;
  readonly userId: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  /** The absolute end of the session (ms). */
  readonly expiresAt: number;
}

/**
 * Where server1's sessions live; created for a user id. Async so that a Redis implementation
 * fits the same shape.
 */
export interface SessionStore extends CookieSessionStore<Session, string> {
  /** Drops sessions past their idle or absolute timeout; returns how many. */
  purgeExpired(now: number): Promise<number>;
  /** Ends every session of a user; returns the ended sessions. */
  deleteAllForUser(userId: string): Promise<Session[]>;
  /** Sessions currently stored (for /metrics). */
  count(): Promise<number>;
}

interface SessionRow {
  id_hash: string;
  sid: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

/** The SQLite {@link SessionStore}. */
export function createSqliteSessionStore(db: Database.Database, timeouts: SessionTimeouts): SessionStore {
  const insert = db.prepare(
    `INSERT INTO sessions (id_hash, sid, user_id, created_at, last_seen_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const removeForUser = db.prepare<[string], SessionRow>(
    'DELETE FROM sessions WHERE user_id = ? RETURNING *',
  );

  return {
    ...sessionTableOperations(db, timeouts, toSession),
    async create(userId, now) {
      const id = randomId();
      const session: Session = {
        idHash: hashSecret(id),
        // A second, domain-separated hash: knowing a sid (it travels in tokens) gives no way
        // to look a session up by its primary key, let alone to forge its cookie.
        sid: hashSecret(`sid:${id}`),
        userId,
        createdAt: now,
        lastSeenAt: now,
        expiresAt: now + timeouts.absoluteMs,
      };
      insert.run(session.idHash, session.sid, userId, now, now, session.expiresAt);
      return { id, session };
    },
    async deleteAllForUser(userId) {
      return removeForUser.all(userId).map(toSession);
    },
  };
}

function toSession(row: SessionRow): Session {
  return {
    idHash: row.id_hash,
    sid: row.sid,
    userId: row.user_id,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
  };
}
