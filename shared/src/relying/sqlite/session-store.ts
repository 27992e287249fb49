import type Database from 'better-sqlite3';
import { isSessionLive, type SessionTimeouts } from '../../http/session-cookies.js';
import { sessionTableOperations } from '../../sqlite/session-table.js';
import type { HandoffClaims } from '../../tokens/handoff-token.js';
import type { VerificationTrace } from '../../tokens/verification-trace.js';
import { newRelyingSession } from '../new-session.js';
import type { RelyingSession, RelyingSessionStore } from '../stores.js';

interface SessionRow {
  id_hash: string;
  sub: string;
  sid: string | null;
  claims: string;
  trace: string | null;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

/** The SQLite {@link RelyingSessionStore}. */
export function createSqliteSessionStore(
  db: Database.Database,
  timeouts: SessionTimeouts,
): RelyingSessionStore {
  const insert = db.prepare(
    `INSERT INTO sessions (id_hash, sub, sid, claims, trace, created_at, last_seen_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const removeBySid = db.prepare('DELETE FROM sessions WHERE sid = ? AND (? IS NULL OR sub = ?)');
  const removeBySub = db.prepare('DELETE FROM sessions WHERE sub = ?');
  const listForSub = db.prepare<[string, number], SessionRow>(
    'SELECT * FROM sessions WHERE sub = ? AND expires_at > ? ORDER BY created_at DESC',
  );

  return {
    timeouts,
    ...sessionTableOperations(db, timeouts, toSession),
    async create(handoff, now) {
      const { id, session } = newRelyingSession(handoff, now, timeouts);
      insert.run(
        session.idHash,
        session.sub,
        session.sid ?? null,
        JSON.stringify(session.claims),
        session.trace ? JSON.stringify(session.trace) : null,
        now,
        now,
        session.expiresAt,
      );
      return { id, session };
    },
    async deleteBySid(sid, sub) {
      return removeBySid.run(sid, sub ?? null, sub ?? null).changes;
    },
    async deleteBySub(sub) {
      return removeBySub.run(sub).changes;
    },
    async listForSub(sub, now) {
      return listForSub
        .all(sub, now)
        .map(toSession)
        .filter((session) => isSessionLive(session, timeouts, now));
    },
  };
}

function toSession(row: SessionRow): RelyingSession {
  const session: RelyingSession = {
    idHash: row.id_hash,
    sub: row.sub,
    sid: row.sid ?? undefined,
    claims: JSON.parse(row.claims) as HandoffClaims,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
  };
  return row.trace ? withTraceOnDemand(session, row.trace) : session;
}

/**
 * `session` with its `trace` parsed from `json` when first read. Every request that carries a
 * session cookie reads the session, and every activity report reads all of a user's sessions,
 * but only the page that shows the trace uses it: a CPU profile of whole handoffs put the
 * parsing of the stored trace (a few KiB of JSON) among server2's larger lines. Enumerable, so
 * the session still looks like plain data to whoever copies or compares it.
 */
function withTraceOnDemand(session: RelyingSession, json: string): RelyingSession {
  let trace: VerificationTrace | undefined;
  return Object.defineProperty(session, 'trace', {
    enumerable: true,
    get: () => {
      trace ??= JSON.parse(json) as VerificationTrace;
      return trace;
    },
  });
}
