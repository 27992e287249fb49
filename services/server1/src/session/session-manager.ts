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
  /** Starts a session under a new id, ending any session the browser had (no fixation). */
  start(request: FastifyRequest, reply: FastifyReply, user: User): Promise<Session>;
  /** Ends the browser's session and clears its cookie; resolves with what was ended. */
  end(request: FastifyRequest, reply: FastifyReply): Promise<SignedIn | undefined>;
}

export interface SessionManagerOptions {
  sessions: SessionStore;
  users: UserStore;
  cookie: CookieSpec;
  absoluteTimeoutMs: number;
  now: () => number;
}

/** The {@link SessionManager} over server1's stores: a session cookie, plus its user. */
export function createSessionManager(options: SessionManagerOptions): SessionManager {
  const cookies = createSessionCookies({
    store: options.sessions,
    cookie: options.cookie,
    maxAgeSec: Math.floor(options.absoluteTimeoutMs / 1000),
    now: options.now,
  });
  return {
    async current(request) {
      const session = await cookies.current(request);
      if (!session) return undefined;
      const user = await options.users.findById(session.userId);
      // The session was found by this cookie, so the cookie holds its id.
      const id = request.cookies[options.cookie.name] as string;
      return user ? { session, user, signOutToken: signOutToken(id) } : undefined;
    },
    start: (request, reply, user) => cookies.start(request, reply, user.id),
    async end(request, reply) {
      const signedIn = await this.current(request);
      await cookies.end(request, reply);
      return signedIn;
    },
  };
}
