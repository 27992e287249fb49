import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';
import { type CookieSpec, cookieSpec } from '../http/cookie-policy.js';
import type { SessionCookies } from '../http/session-cookies.js';
import { randomId } from '../http/session-id.js';
import { requireSignOutForm, signOutToken } from '../http/sign-out-token.js';
import type { HandoffClaims } from '../tokens/handoff-token.js';
import type { RelyingSession } from './stores.js';

/** Everything the "sign out of everything" routes use. */
export interface EndSessionRoutesOptions {
  clientId: string;
  publicUrl: string;
  /** The issuer's end-session endpoint. */
  endSessionEndpoint: string;
  /** `${publicUrl}${prefix}/logout/complete`: register exactly this at the issuer. */
  postLogoutRedirectUri: string;
  /** Where the browser lands once signed out of everything. */
  signedOutPath: string;
  /** The session cookie, whose value the sign-out form's CSRF token is derived from. */
  sessionCookie: CookieSpec;
  /** The base name of the state cookie (the session cookie's, plus `_logout`). */
  stateCookieName: string;
  sessions: Pick<SessionCookies<RelyingSession, HandoffClaims>, 'current' | 'end'>;
}

/** How long the browser may take to come back from the issuer's end-session endpoint (10 min). */
const STATE_COOKIE_MAX_AGE_SEC = 600;

/**
 * POST /logout/everything and GET /logout/complete: RP-initiated logout (docs/design.md section 2).
 * The POST (a sign-out form, CSRF-checked like any sign-out) ends the local session and sends the
 * browser to the issuer's end-session endpoint with the session's `logout_hint` (server1 minted it
 * into the handoff token), this client's registered post-logout address and a fresh `state`, kept
 * in a cookie. The issuer ends its session, tells the other clients over the back-channel, and
 * sends the browser back to GET /logout/complete, which checks the state and shows the
 * signed-out page.
 */
export async function endSessionRoutes(
  app: FastifyInstance,
  options: EndSessionRoutesOptions,
): Promise<void> {
  const { sessions, sessionCookie } = options;
  const stateCookie = cookieSpec(options.publicUrl, options.stateCookieName);

  app.post('/logout/everything', { config: { html: true } }, async (request, reply) => {
    const session = await sessions.current(request);
    const cookie = request.cookies[sessionCookie.name];
    requireSignOutForm(request, options.publicUrl, session && cookie ? signOutToken(cookie) : undefined);
    await sessions.end(request, reply);
    const state = randomId();
    const target = new URL(options.endSessionEndpoint);
    target.searchParams.set('client_id', options.clientId);
    target.searchParams.set('post_logout_redirect_uri', options.postLogoutRedirectUri);
    target.searchParams.set('state', state);
    // Without a hint (a session from before hints, or none at all) the issuer asks the user.
    const hint = session?.claims.logout_hint;
    if (typeof hint === 'string' && hint.length > 0) target.searchParams.set('logout_hint', hint);
    reply.setCookie(stateCookie.name, state, { ...stateCookie.options, maxAge: STATE_COOKIE_MAX_AGE_SEC });
    return reply.header('cache-control', 'no-store').redirect(target.href, 303);
  });

  app.get('/logout/complete', { config: { html: true } }, async (request, reply) => {
    const expected = request.cookies[stateCookie.name];
    const presented = (request.query as { state?: unknown }).state;
    reply.clearCookie(stateCookie.name, stateCookie.options);
    if (typeof presented !== 'string' || presented === '')
      throw new AppError('state_missing', 'This sign-out answer carries no state.');
    // Only the browser that started this sign-out holds the cookie.
    if (expected === undefined || expected !== presented)
      throw new AppError('state_mismatch', 'This sign-out answer does not belong to this browser.');
    return reply.header('cache-control', 'no-store').redirect(options.signedOutPath, 303);
  });
}
