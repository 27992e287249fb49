import {
  hashSecret,
  isSessionLive,
  randomId,
  type SessionTimeouts,
  touchIntervalMs,
} from '@jwt-handoff/shared';
import {
  newSession,
  type SessionRow,
  type SessionStore,
  toSession,
  toVisit,
  type Visit,
  type VisitRow,
} from '../session-store.js';
import { VISIT_REWRITE_INTERVAL_MS, visitKeptUntil } from '../visit-retention.js';
import type { Queryable } from './database.js';

/**
 * The PostgreSQL {@link SessionStore}: the same tables and rules as the SQLite one, so a session
 * started at one replica is found by every other.
 */
export function createPostgresSessionStore(db: Queryable, timeouts: SessionTimeouts): SessionStore {
  const touchEveryMs = touchIntervalMs(timeouts);
  const remove = (idHash: string) => db.query('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
  const visits = async (text: string, values: unknown[]) =>
    (await db.query<VisitRow>(text, values)).rows.map(toVisit);

  return {
    async create(userId, now) {
      const { id, session } = newSession(userId, now, timeouts);
      await db.query(
        `INSERT INTO sessions (id_hash, sid, user_id, created_at, auth_time, last_seen_at, expires_at)
         VALUES ($1, $2, $3, $4, $4, $4, $5)`,
        [session.idHash, session.sid, userId, now, session.expiresAt],
      );
      return { id, session };
    },
    async touch(id, now) {
      const idHash = hashSecret(id);
      const row = (await db.query<SessionRow>('SELECT * FROM sessions WHERE id_hash = $1', [idHash])).rows[0];
      if (!row) return undefined;
      const session = toSession(row);
      if (!isSessionLive(session, timeouts, now)) {
        await remove(idHash);
        return undefined;
      }
      if (now - session.lastSeenAt < touchEveryMs) return session;
      await db.query('UPDATE sessions SET last_seen_at = GREATEST(last_seen_at, $1) WHERE id_hash = $2', [
        now,
        idHash,
      ]);
      return { ...session, lastSeenAt: now };
    },
    // One statement: the old id stops working in the same step that the new one starts, at
    // every replica.
    async reauthenticate(idHash, now) {
      const id = randomId();
      const { rows } = await db.query<SessionRow>(
        `UPDATE sessions SET id_hash = $1, auth_time = $2, last_seen_at = $2, expires_at = $3
         WHERE id_hash = $4 RETURNING *`,
        [hashSecret(id), now, now + timeouts.absoluteMs, idHash],
      );
      const row = rows[0];
      return row ? { id, session: toSession(row) } : undefined;
    },
    async delete(idHash) {
      await remove(idHash);
    },
    async purgeExpired(now) {
      await db.query('DELETE FROM session_visits WHERE keep_until <= $1', [now]);
      const result = await db.query('DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2', [
        now,
        now - timeouts.idleMs,
      ]);
      return result.rowCount ?? 0;
    },
    async count() {
      return (await db.query<{ n: number }>('SELECT count(*) AS n FROM sessions')).rows[0]?.n ?? 0;
    },
    async deleteAllForUser(userId) {
      const { rows } = await db.query<SessionRow>('DELETE FROM sessions WHERE user_id = $1 RETURNING *', [
        userId,
      ]);
      return rows.map(toSession);
    },
    // Inserts only while the session exists, in the same statement that looks for it: a visit
    // recorded for a session that a concurrent sign-out (at any replica) has just ended would
    // never be told. A repeat visit within the rewrite interval is answered by a read that
    // sees, in one snapshot, the live session and its visit row, so a sign-out ending the
    // session after it still finds the visit. Kept as in the SQLite store (visit-retention.ts).
    async recordVisit(sid, clientId, now) {
      const recent = await db.query(
        `SELECT 1 FROM session_visits
         WHERE sid = $1 AND client_id = $2 AND last_visited_at > $3
           AND EXISTS (SELECT 1 FROM sessions WHERE sid = $1)`,
        [sid, clientId, now - VISIT_REWRITE_INTERVAL_MS],
      );
      if ((recent.rowCount ?? 0) > 0) return true;
      const result = await db.query(
        `INSERT INTO session_visits (sid, user_id, client_id, first_visited_at, last_visited_at, keep_until)
         SELECT sid, user_id, $2, $3, $3, $4 FROM sessions WHERE sid = $1
         ON CONFLICT (sid, client_id) DO UPDATE
           SET last_visited_at = excluded.last_visited_at, keep_until = excluded.keep_until`,
        [sid, clientId, now, visitKeptUntil(now, timeouts.absoluteMs)],
      );
      return (result.rowCount ?? 0) > 0;
    },
    visitsOfSession(sid, now) {
      return visits(
        'SELECT sid, client_id FROM session_visits WHERE sid = $1 AND keep_until > $2 ORDER BY first_visited_at, client_id',
        [sid, now],
      );
    },
    visitsOfUser(userId, now) {
      return visits(
        'SELECT sid, client_id FROM session_visits WHERE user_id = $1 AND keep_until > $2 ORDER BY first_visited_at, client_id',
        [userId, now],
      );
    },
    async forgetVisits(forgotten: readonly Visit[]) {
      if (forgotten.length === 0) return;
      await db.query(
        'DELETE FROM session_visits WHERE (sid, client_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))',
        [forgotten.map((visit) => visit.sid), forgotten.map((visit) => visit.clientId)],
      );
    },
  };
}
