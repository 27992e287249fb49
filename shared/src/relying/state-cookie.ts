import { Signer } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type CookieSpec, cookieSpec } from '../http/cookie-policy.js';
import { safeReturnTo } from '../http/return-to.js';
import { randomId } from '../http/session-id.js';

/** What the browser carries between /handoff/start and /handoff/complete. */
export interface HandoffState {
  /** The random state sent to server1, which comes back as the token's nonce. */
  readonly state: string;
  /** Where to go once signed in: a path on this service. */
  readonly returnTo: string;
  /**
   * The max_age (seconds) this handoff asked the issuer for, if any: kept here, signed, so that
   * the token's auth_time is checked against what was asked, whatever the URLs carried.
   */
  readonly maxAgeSec?: number;
}

/** How long a started handoff may take, in milliseconds (docs/design.md section 1: 10 minutes). */
export const HANDOFF_STATE_TTL_MS = 10 * 60_000;

/** Options of {@link StateCookie}. */
export interface StateCookieOptions {
  /** The service's public URL: https makes the cookie Secure and prefixed. */
  publicUrl: string;
  /** The cookie's name before any prefix (`s2_handoff` on server2). */
  name: string;
  /**
   * The cookie's Path over plain http: the handoff routes (`/handoff`, under the plugin's
   * prefix). Over https the Path is `/`, which the `__Host-` prefix requires.
   */
  path: string;
  /** Signs the cookie (HMAC-SHA256 through @fastify/cookie's signer); never leaves the service. */
  secret: string;
  /** Where a handoff returns when it names no page, or one that is not a path of this service. */
  homePath: string;
  now: () => number;
}

/**
 * The signed state cookie (`s2_handoff` on server2). It binds a handoff to the browser that
 * started it: a token whose nonce is not this browser's state cannot complete here, which stops
 * login CSRF. It is HMAC-signed and carries its own expiry, because a cookie's Max-Age is only
 * advice to the browser. It is signed with the relying party's own secret rather than the app's
 * cookie secret, so an app registers the plugin without configuring @fastify/cookie for it.
 */
export class StateCookie {
  private readonly spec: CookieSpec;
  private readonly signer: Signer;
  private readonly homePath: string;
  private readonly now: () => number;

  constructor(options: StateCookieOptions) {
    // Over https the cookie is `__Host-` with Path=/, not `__Secure-` with Path=/handoff: a
    // sibling host (evil.example.com beside app.example.com) may set a `__Secure-` cookie for
    // the parent domain, and so plant a state it obtained from its own /handoff/start into a
    // victim's browser, then complete the victim's handoff with its own token (login CSRF).
    // Browsers refuse a `__Host-` cookie with a Domain, so only this host can set it. Plain http
    // has no prefix to offer, so there the cookie keeps its narrow path.
    const https = new URL(options.publicUrl).protocol === 'https:';
    this.spec = cookieSpec(options.publicUrl, options.name, https ? '/' : options.path);
    this.signer = new Signer(options.secret);
    this.homePath = options.homePath;
    this.now = options.now;
  }

  /** Starts a handoff: a new state, stored in the cookie with where to return and the max_age asked. */
  issue(reply: FastifyReply, returnTo: unknown, maxAgeSec?: number): HandoffState {
    const state: HandoffState = {
      state: randomId(),
      returnTo: safeReturnTo(returnTo, this.homePath),
      ...(maxAgeSec === undefined ? {} : { maxAgeSec }),
    };
    const payload = { s: state.state, r: state.returnTo, m: maxAgeSec, e: this.now() + HANDOFF_STATE_TTL_MS };
    const value = this.signer.sign(Buffer.from(JSON.stringify(payload)).toString('base64url'));
    reply.setCookie(this.spec.name, value, { ...this.spec.options, maxAge: HANDOFF_STATE_TTL_MS / 1000 });
    return state;
  }

  /** The browser's pending handoff, or undefined when absent, forged or expired. */
  read(request: FastifyRequest): HandoffState | undefined {
    const raw = request.cookies[this.spec.name];
    if (!raw) return undefined;
    const unsigned = this.signer.unsign(raw);
    if (!unsigned.valid || unsigned.value === null) return undefined;
    try {
      const payload = JSON.parse(Buffer.from(unsigned.value, 'base64url').toString('utf8')) as Record<
        string,
        unknown
      >;
      if (typeof payload.s !== 'string' || typeof payload.e !== 'number' || payload.e <= this.now())
        return undefined;
      const returnTo = safeReturnTo(payload.r, this.homePath);
      return typeof payload.m === 'number'
        ? { state: payload.s, returnTo, maxAgeSec: payload.m }
        : { state: payload.s, returnTo };
    } catch {
      return undefined;
    }
  }

  clear(reply: FastifyReply): void {
    reply.clearCookie(this.spec.name, this.spec.options);
  }
}
