import { type CookieSpec, createSessionCookies, signOutToken } from '@jwt-handoff/shared';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Session, SessionStore } from '../stores/session-store.js';
import type { User, UserStore } from '../stores/user-store.js';

/** A request's signed-in user and their session. */
export interface SignedIn {
  readonly session: Session;
  readonly user: User;
  /** The CSRF token of this session's sign-out forms, derived from its id (no state of its own). */
  readonly signOutToken: string;
}

/** Reads, starts and ends the browser session carried by the `s1_session` cookie. */
export interface SessionManager {
  current(request: FastifyRequest): Promise<SignedIn | undefined>;
  /**
   * After a correct password: always a new session id (no fixation). When the browser's session
   * is already the same user's (a re-authentication, docs/design.md "Fresh sign-in"), that session
   * moves to the new id with a new auth time and keeps its sid and visits; otherwise any session
   * the browser had ends and a new one starts.
   */
  start(request: FastifyRequest, reply: FastifyReply, user: User): Promise<Session>;
  /** Ends the browser's session and clears its cookie; resolves with what was ended. */
  end(request: FastifyRequest, reply: FastifyReply): Promise<SignedIn | undefined>;
  /**
   * Records that the session was handed off to the client `clientId`, before its token is
   * minted; false when the session has ended meanwhile (then no token may be minted for it).
   */
  recordVisit(signedIn: SignedIn, clientId: string): Promise<boolean>;
  /** The ids of the clients the user's sessions were handed off to, first visited first. */
  visitedClients(user: User): Promise<string[]>;
}

export interface SessionManagerOptions {
  sessions: SessionStore;
  users: UserStore;
  cookie: CookieSpec;
  now: () => number;
}

/** The {@link SessionManager} over server1's stores: a session cookie, plus its user. */
export function createSessionManager(options: SessionManagerOptions): SessionManager {
  const cookies = createSessionCookies({
    store: options.sessions,
    cookie: options.cookie,
    now: options.now,
  });
  return {
    async current(request) {
      const session = await cookies.current(request);
      if (!session) return undefined;
      const user = await options.users.findById(session.userId);
      if (!user) return undefined;
      // The session was found by this cookie, so the cookie holds its id. The token (an HMAC) is
      // derived when a page or a sign-out asks for it, not on every request that reads the
      // session: /handoff/authorize never does.
      const id = request.cookies[options.cookie.name] as string;
      let token: string | undefined;
      return {
        session,
        user,
        get signOutToken() {
          token ??= signOutToken(id);
          return token;
        },
      };
    },
    async start(request, reply, user) {
      const current = await cookies.current(request);
      if (current && current.userId === user.id) {
        const moved = await options.sessions.reauthenticate(current.idHash, options.now());
        if (moved) return cookies.adopt(request, reply, moved);
      }
      return cookies.start(request, reply, user.id);
    },
    async end(request, reply) {
      const signedIn = await this.current(request);
      await cookies.end(request, reply);
      return signedIn;
    },
    recordVisit: (signedIn, clientId) =>
      options.sessions.recordVisit(signedIn.session.sid, clientId, options.now()),
    async visitedClients(user) {
      const visits = await options.sessions.visitsOfUser(user.id, options.now());
      return [...new Set(visits.map((visit) => visit.clientId))];
    },
  };
}
