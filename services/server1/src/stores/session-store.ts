import {
  type CookieSessionStore,
  hashSecret,
  randomId,
  type SessionTimeouts,
  sessionTableOperations,
} from '@jwt-handoff/shared';
import type Database from 'better-sqlite3';
import { VISIT_REWRITE_INTERVAL_MS, visitKeptUntil } from './visit-retention.js';

/** A signed-in browser on server1. The session id itself is never stored, only its hash. */
export interface Session {
  readonly idHash: string;
  /** The session's public handle in tokens (`sid`): a hash, never the session id. */
  readonly sid: string;
  readonly userId: string;
  readonly createdAt: number;
  /** When the user last entered their password in this session (ms): the tokens' `auth_time`. */
  readonly authTime: number;
  readonly lastSeenAt: number;
  /** The absolute end of the session (ms). */
  readonly expiresAt: number;
}

/** A client that a session was handed off to (`GET /handoff/authorize` minted it a token). */
export interface Visit {
  /** The session's `sid`. */
  readonly sid: string;
  readonly clientId: string;
}

/**
 * Where server1's sessions live; created for a user id. Async so that a Redis implementation
 * fits the same shape.
 *
 * Beside each session it keeps the clients the session was handed off to (its visits), which
 * are the only clients that can hold a session or a token that came from it. A visit outlives
 * its session: it is forgotten once the sign-out that reaches its client is queued
 * ({@link SessionStore.forgetVisits}), or when a client session begun at the visit could no
 * longer be alive, one absolute session lifetime after the last visit.
 */
export interface SessionStore extends CookieSessionStore<Session, string> {
  /** Drops sessions past their idle or absolute timeout, and visits past keeping; returns how many sessions. */
  purgeExpired(now: number): Promise<number>;
  /** Ends every session of a user; returns the ended sessions. Their visits stay. */
  deleteAllForUser(userId: string): Promise<Session[]>;
  /** Sessions currently stored (for /metrics). */
  count(): Promise<number>;
  /**
   * Records that the session `sid` was handed off to `clientId`; false, and nothing recorded,
   * when that session no longer exists. A repeat visit within `VISIT_REWRITE_INTERVAL_MS` of the
   * last one written is answered from the stored row without a write (visit-retention.ts).
   */
  recordVisit(sid: string, clientId: string, now: number): Promise<boolean>;
  /** The clients the session `sid` was handed off to, whether or not it still exists. */
  visitsOfSession(sid: string, now: number): Promise<Visit[]>;
  /** The visits of every session of the user still kept, ended sessions' included. */
  visitsOfUser(userId: string, now: number): Promise<Visit[]>;
  /** Forgets these visits (their sign-out is on its way to the clients). */
  forgetVisits(visits: readonly Visit[]): Promise<void>;
  /**
   * After the user entered their password again: moves the live session `idHash` to a new id
   * (the old cookie stops working), sets its auth time to `now` and restarts its timeouts. The
   * session keeps its sid and visits, so sign-out still reaches every client it was handed off
   * to. Undefined when that session no longer exists.
   */
  reauthenticate(idHash: string, now: number): Promise<{ id: string; session: Session } | undefined>;
}

/** A `sessions` row, as both engines return it. */
export interface SessionRow {
  id_hash: string;
  sid: string;
  user_id: string;
  created_at: number;
  auth_time: number | null;
  last_seen_at: number;
  expires_at: number;
}

/** The SQLite {@link SessionStore}. */
export function createSqliteSessionStore(db: Database.Database, timeouts: SessionTimeouts): SessionStore {
  const insert = db.prepare(
    `INSERT INTO sessions (id_hash, sid, user_id, created_at, auth_time, last_seen_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const renew = db.prepare<[string, number, number, number, string], SessionRow>(
    `UPDATE sessions SET id_hash = ?, auth_time = ?, last_seen_at = ?, expires_at = ?
     WHERE id_hash = ? RETURNING *`,
  );
  const removeForUser = db.prepare<[string], SessionRow>(
    'DELETE FROM sessions WHERE user_id = ? RETURNING *',
  );
  // Inserts only while the session exists, in the same statement that looks for it: a visit
  // recorded for a session that a concurrent sign-out has just ended would never be told.
  // DO UPDATE rather than DO NOTHING, so that a repeated visit still counts as a change.
  const insertVisit = db.prepare<{ sid: string; clientId: string; now: number; keepUntil: number }>(
    `INSERT INTO session_visits (sid, user_id, client_id, first_visited_at, last_visited_at, keep_until)
     SELECT sid, user_id, @clientId, @now, @now, @keepUntil FROM sessions WHERE sid = @sid
     ON CONFLICT (sid, client_id) DO UPDATE
       SET last_visited_at = excluded.last_visited_at, keep_until = excluded.keep_until`,
  );
  // A repeat visit: the row written within the last interval, while the session still exists.
  // Both in one statement, so that the answer is "the session exists and its visit is on
  // record", as the insert's own look-up of the session would be.
  const recentVisit = db
    .prepare<{ sid: string; clientId: string; since: number }, number>(
      `SELECT 1 FROM session_visits
       WHERE sid = @sid AND client_id = @clientId AND last_visited_at > @since
         AND EXISTS (SELECT 1 FROM sessions WHERE sid = @sid)`,
    )
    .pluck();
  const visitsOfSession = db.prepare<[string, number], VisitRow>(
    'SELECT sid, client_id FROM session_visits WHERE sid = ? AND keep_until > ? ORDER BY first_visited_at',
  );
  const visitsOfUser = db.prepare<[string, number], VisitRow>(
    'SELECT sid, client_id FROM session_visits WHERE user_id = ? AND keep_until > ? ORDER BY first_visited_at',
  );
  const removeVisit = db.prepare('DELETE FROM session_visits WHERE sid = ? AND client_id = ?');
  const removeVisits = db.transaction((visits: readonly Visit[]) => {
    for (const visit of visits) removeVisit.run(visit.sid, visit.clientId);
  });
  const purgeVisits = db.prepare('DELETE FROM session_visits WHERE keep_until <= ?');
  const table = sessionTableOperations(db, timeouts, toSession);

  return {
    ...table,
    async purgeExpired(now) {
      purgeVisits.run(now);
      return table.purgeExpired(now);
    },
    // A client session begun at a visit may outlive the server1 session (the client keeps its
    // own timeouts), and "sign out everywhere" must still reach it: so a visit is kept at least
    // one absolute session lifetime after the last one (visit-retention.ts), assuming the
    // client's sessions last no longer than server1's.
    async recordVisit(sid, clientId, now) {
      if (recentVisit.get({ sid, clientId, since: now - VISIT_REWRITE_INTERVAL_MS }) !== undefined)
        return true;
      const keepUntil = visitKeptUntil(now, timeouts.absoluteMs);
      return insertVisit.run({ sid, clientId, now, keepUntil }).changes > 0;
    },
    async visitsOfSession(sid, now) {
      return visitsOfSession.all(sid, now).map(toVisit);
    },
    async visitsOfUser(userId, now) {
      return visitsOfUser.all(userId, now).map(toVisit);
    },
    async forgetVisits(visits) {
      removeVisits(visits);
    },
    async create(userId, now) {
      const { id, session } = newSession(userId, now, timeouts);
      insert.run(session.idHash, session.sid, userId, now, now, now, session.expiresAt);
      return { id, session };
    },
    async reauthenticate(idHash, now) {
      const id = randomId();
      const row = renew.get(hashSecret(id), now, now, now + timeouts.absoluteMs, idHash);
      return row ? { id, session: toSession(row) } : undefined;
    },
    async deleteAllForUser(userId) {
      return removeForUser.all(userId).map(toSession);
    },
  };
}

/** A `session_visits` row's handle, as both engines return it. */
export interface VisitRow {
  sid: string;
  client_id: string;
}

export function toVisit(row: VisitRow): Visit {
  return { sid: row.sid, clientId: row.client_id };
}

/** A stored row as a {@link Session}; rows from before `auth_time` existed take `created_at`. */
export function toSession(row: SessionRow): Session {
  return {
    idHash: row.id_hash,
    sid: row.sid,
    userId: row.user_id,
    createdAt: row.created_at,
    authTime: row.auth_time ?? row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
  };
}

/** A new session of `userId`, as both engines start one: a fresh random id and its hashes. */
export function newSession(
  userId: string,
  now: number,
  timeouts: SessionTimeouts,
): { id: string; session: Session } {
  const id = randomId();
  return {
    id,
    session: {
      idHash: hashSecret(id),
      // A second, domain-separated hash: knowing a sid (it travels in tokens) gives no way to
      // look a session up by its primary key, let alone to forge its cookie.
      sid: hashSecret(`sid:${id}`),
      userId,
      createdAt: now,
      authTime: now,
      lastSeenAt: now,
      expiresAt: now + timeouts.absoluteMs,
    },
  };
}
