import {
  type CookieSessionStore,
  type HandoffClaims,
  hashSecret,
  isSessionLive,
  randomId,
  type SessionTimeouts,
  sessionTableOperations,
} from '@jwt-handoff/shared';
import type Database from 'better-sqlite3';

/** A browser signed in to server2 through a handoff. Only the hash of its id is stored. */
export interface Session {
  readonly idHash: string;
  /** The user at server1 (the token's sub). */
  readonly sub: string;
  /** server1's session handle (the token's sid), for back-channel sign-out. */
  readonly sid: string | undefined;
  /** The verified claims of the handoff token that started it. */
  readonly claims: HandoffClaims;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly expiresAt: number;
}

/** Where server2's sessions live; created from verified handoff claims. */
export interface SessionStore extends CookieSessionStore<Session, HandoffClaims> {
  /** Ends the sessions started from server1 session `sid` (of user `sub`, when given); returns how many. */
  deleteBySid(sid: string, sub: string | undefined): Promise<number>;
  /** Ends every session of user `sub`; returns how many. */
  deleteBySub(sub: string): Promise<number>;
  /** The user's live sessions, newest first. */
  listForSub(sub: string, now: number): Promise<Session[]>;
  /** Drops sessions past their idle or absolute timeout; returns how many. */
  purgeExpired(now: number): Promise<number>;
  count(): Promise<number>;
}

interface SessionRow {
  id_hash: string;
  sub: string;
  sid: string | null;
  claims: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

/** The SQLite {@link SessionStore}. */
export function createSqliteSessionStore(db: Database.Database, timeouts: SessionTimeouts): SessionStore {
  const insert = db.prepare(
    `INSERT INTO sessions (id_hash, sub, sid, claims, created_at, last_seen_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const removeBySid = db.prepare('DELETE FROM sessions WHERE sid = ? AND (? IS NULL OR sub = ?)');
  const removeBySub = db.prepare('DELETE FROM sessions WHERE sub = ?');
  const listForSub = db.prepare<[string, number], SessionRow>(
    'SELECT * FROM sessions WHERE sub = ? AND expires_at > ? ORDER BY created_at DESC',
  );

  return {
    ...sessionTableOperations(db, timeouts, toSession),
    async create(claims, now) {
      const id = randomId();
      const session: Session = {
        idHash: hashSecret(id),
        sub: claims.sub,
        sid: typeof claims.sid === 'string' ? claims.sid : undefined,
        claims,
        createdAt: now,
        lastSeenAt: now,
        expiresAt: now + timeouts.absoluteMs,
      };
      insert.run(
        session.idHash,
        session.sub,
        session.sid ?? null,
        JSON.stringify(claims),
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

function toSession(row: SessionRow): Session {
  return {
    idHash: row.id_hash,
    sub: row.sub,
    sid: row.sid ?? undefined,
    claims: JSON.parse(row.claims) as HandoffClaims,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
  };
}
