import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CookieSpec } from './cookie-policy.js';

/** What {@link createSessionCookies} needs of a session store. */
export interface CookieSessionStore<S extends { idHash: string }, I> {
  /** Stores a new session; returns its id (the cookie value, never stored) and the session. */
  create(input: I, now: number): Promise<{ id: string; session: S }>;
  /** The live session for a cookie value, its idle clock restarted; undefined when none. */
  touch(id: string, now: number): Promise<S | undefined>;
  delete(idHash: string): Promise<void>;
}

/** Reads, starts and ends the session a browser carries in one cookie. */
export interface SessionCookies<S, I> {
  current(request: FastifyRequest): Promise<S | undefined>;
  /** Starts a session under a new id, ending any the browser had, so no id is ever fixed in advance. */
  start(request: FastifyRequest, reply: FastifyReply, input: I): Promise<S>;
  /** Ends the browser's session, if any, and clears its cookie; resolves with the ended session. */
  end(request: FastifyRequest, reply: FastifyReply): Promise<S | undefined>;
  /**
   * Gives the browser a session the store has just moved to a new id (a re-authentication):
   * sets the cookie to that id, and answers this request with the session from now on.
   */
  adopt(request: FastifyRequest, reply: FastifyReply, moved: { id: string; session: S }): S;
}

/** Options of {@link createSessionCookies}. */
export interface SessionCookiesOptions<S extends { idHash: string }, I> {
  store: CookieSessionStore<S, I>;
  cookie: CookieSpec;
  now: () => number;
}

/**
 * Session handling over a store and a cookie, shared by both services. The cookie has no Max-Age
 * or Expires: it ends when the browser does, so a shared or borrowed computer closed at the end
 * of the day does not keep the session on disk. The idle and absolute timeouts are the store's,
 * enforced on the server whatever the browser keeps.
 */
export function createSessionCookies<S extends { idHash: string }, I>(
  options: SessionCookiesOptions<S, I>,
): SessionCookies<S, I> {
  const { store, cookie, now } = options;
  // One store lookup per request, however many route steps ask.
  const resolved = new WeakMap<FastifyRequest, Promise<S | undefined>>();

  function current(request: FastifyRequest): Promise<S | undefined> {
    let pending = resolved.get(request);
    if (!pending) {
      const id = request.cookies[cookie.name];
      pending = id ? store.touch(id, now()) : Promise.resolve(undefined);
      resolved.set(request, pending);
    }
    return pending;
  }

  async function endCurrent(request: FastifyRequest): Promise<S | undefined> {
    const session = await current(request);
    if (session) await store.delete(session.idHash);
    resolved.set(request, Promise.resolve(undefined));
    return session;
  }

  return {
    current,
    async start(request, reply, input) {
      await endCurrent(request);
      const { id, session } = await store.create(input, now());
      reply.setCookie(cookie.name, id, cookie.options);
      resolved.set(request, Promise.resolve(session));
      return session;
    },
    async end(request, reply) {
      const ended = await endCurrent(request);
      reply.clearCookie(cookie.name, cookie.options);
      return ended;
    },
    adopt(request, reply, moved) {
      reply.setCookie(cookie.name, moved.id, cookie.options);
      resolved.set(request, Promise.resolve(moved.session));
      return moved.session;
    },
  };
}

/** Idle and absolute session lifetimes, in milliseconds. */
export interface SessionTimeouts {
  idleMs: number;
  absoluteMs: number;
}

/**
 * How long a session's idle clock may go without being restarted. Restarting costs a write,
 * so it is done at most once a minute, which can end a session up to that much early; against
 * an idle timeout of a minute or less that would end every session that long after sign-in,
 * however busy, so the interval is also capped at a tenth of the timeout.
 */
export function touchIntervalMs(timeouts: SessionTimeouts): number {
  return Math.min(60_000, timeouts.idleMs / 10);
}

/** Whether a session created/last seen at these times is still live at `now`. */
export function isSessionLive(
  session: { expiresAt: number; lastSeenAt: number },
  timeouts: SessionTimeouts,
  now: number,
): boolean {
  return session.expiresAt > now && session.lastSeenAt + timeouts.idleMs > now;
}
