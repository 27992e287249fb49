import { type CookieSpec, cookieSpec, randomId, safeReturnTo } from '@jwt-handoff/shared';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** What the browser carries between /handoff/start and /handoff/complete. */
export interface HandoffState {
  /** The random state sent to server1, which comes back as the token's nonce. */
  readonly state: string;
  /** Where to go once signed in: a path on server2. */
  readonly returnTo: string;
}

/** How long a started handoff may take, in milliseconds (DESIGN.md section 1: 10 minutes). */
export const HANDOFF_STATE_TTL_MS = 10 * 60_000;

/**
 * The signed `s2_handoff` cookie. It binds a handoff to the browser that started it: a token
 * whose nonce is not this browser's state cannot complete here, which stops login CSRF. It is
 * HMAC-signed (the secret never leaves server2) and carries its own expiry, because a cookie's
 * Max-Age is only advice to the browser.
 */
export class StateCookie {
  private readonly spec: CookieSpec;

  constructor(
    publicUrl: string,
    private readonly now: () => number,
  ) {
    this.spec = cookieSpec(publicUrl, 's2_handoff', '/handoff');
  }

  /** Starts a handoff: a new state, stored in the cookie with where to return. */
  issue(reply: FastifyReply, returnTo: string): HandoffState {
    const state: HandoffState = { state: randomId(), returnTo: safeReturnTo(returnTo) };
    const payload = { s: state.state, r: state.returnTo, e: this.now() + HANDOFF_STATE_TTL_MS };
    reply.setCookie(this.spec.name, Buffer.from(JSON.stringify(payload)).toString('base64url'), {
      ...this.spec.options,
      signed: true,
      maxAge: HANDOFF_STATE_TTL_MS / 1000,
    });
    return state;
  }

  /** The browser's pending handoff, or undefined when absent, forged or expired. */
  read(request: FastifyRequest): HandoffState | undefined {
    const raw = request.cookies[this.spec.name];
    if (!raw) return undefined;
    const unsigned = request.unsignCookie(raw);
    if (!unsigned.valid || unsigned.value === null) return undefined;
    try {
      const payload = JSON.parse(Buffer.from(unsigned.value, 'base64url').toString('utf8')) as Record<
        string,
        unknown
      >;
      if (typeof payload.s !== 'string' || typeof payload.e !== 'number' || payload.e <= this.now())
        return undefined;
      return { state: payload.s, returnTo: safeReturnTo(payload.r) };
    } catch {
      return undefined;
    }
  }

  clear(reply: FastifyReply): void {
    reply.clearCookie(this.spec.name, this.spec.options);
  }
}
