import type { CookieSpec } from '@jwt-handoff/shared';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Session, SessionStore } from '../stores/session-store.js';
import type { User, UserStore } from '../stores/user-store.js';

/** A request's signed-in user and their session. */
export interface SignedIn {
  readonly session: Session;
  readonly user: User;
}

/** Reads, starts and ends the browser session carried by the `s1_session` cookie. */
export interface SessionManager {
  current(request: FastifyRequest): Promise<SignedIn | undefined>;
  /** Starts a session under a new id, ending any session the browser had (no fixation). */
  start(request: FastifyRequest, reply: FastifyReply, user: User): Promise<Session>;
  end(request: FastifyRequest, reply: FastifyReply): Promise<void>;
}

export interface SessionManagerOptions {
  sessions: SessionStore;
  users: UserStore;
  cookie: CookieSpec;
  absoluteTimeoutMs: number;
  now: () => number;
}

/** The {@link SessionManager} over server1's stores. */
export function createSessionManager(options: SessionManagerOptions): SessionManager {
  const { sessions, users, cookie, now } = options;
  // One lookup per request, however many route steps ask.
  const resolved = new WeakMap<FastifyRequest, Promise<SignedIn | undefined>>();

  const lookup = async (request: FastifyRequest): Promise<SignedIn | undefined> => {
    const id = request.cookies[cookie.name];
    if (!id) return undefined;
    const session = await sessions.touch(id, now());
    if (!session) return undefined;
    const user = await users.findById(session.userId);
    return user ? { session, user } : undefined;
  };

  const endCurrent = async (request: FastifyRequest) => {
    const signedIn = await current(request);
    if (signedIn) await sessions.delete(signedIn.session.idHash);
    resolved.set(request, Promise.resolve(undefined));
  };

  function current(request: FastifyRequest): Promise<SignedIn | undefined> {
    let pending = resolved.get(request);
    if (!pending) {
      pending = lookup(request);
      resolved.set(request, pending);
    }
    return pending;
  }

  return {
    current,
    async start(request, reply, user) {
      await endCurrent(request);
      const { id, session } = await sessions.create(user.id, now());
      reply.setCookie(cookie.name, id, { ...cookie.options, maxAge: Math.floor(options.absoluteTimeoutMs / 1000) });
      resolved.set(request, Promise.resolve({ session, user }));
      return session;
    },
    async end(request, reply) {
      await endCurrent(request);
      reply.clearCookie(cookie.name, cookie.options);
    },
  };
}
