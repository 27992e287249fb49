import { setTimeout as sleep } from 'node:timers/promises';
import {
  AppError,
  LOGOUT_HINT_MAX_LIFETIME_SEC,
  mintHandoffToken,
  mintLogoutHint,
  sendPage,
} from '@jwt-handoff/shared';
import type { FastifyInstance } from 'fastify';
import type { ClientRegistration, Server1Config } from '../config.js';
import type { KeyRing } from '../keys/key-ring.js';
import { issueTimeAfterRevocation } from '../logout/issue-after-revocation.js';
import type { Server1Metrics } from '../metrics.js';
import type { SessionManager } from '../session/session-manager.js';
import { formPostPage } from '../views/pages.js';
import { afterFreshLogin, needsFreshLogin, readFreshnessRequest } from './authorize-request.js';

/** What the handoff route uses. */
export interface HandoffRouteOptions {
  /** The registered clients, the issuer (`publicUrl`) and the tokens' lifetime. */
  config: Pick<Server1Config, 'clients' | 'publicUrl' | 'handoffTokenTtlSec' | 'handoffStepThrough'>;
  /** The signed-in session, and where the clients it is handed off to are recorded. */
  sessions: Pick<SessionManager, 'current' | 'recordVisit'>;
  keyRing: Pick<KeyRing, 'signingKey'>;
  metrics: Pick<Server1Metrics, 'handoffIssued'>;
  /** The clock, in milliseconds since the epoch. */
  now: () => number;
}

// The client's state comes back to it as the token's nonce; printable ASCII, bounded, so it
// can never bloat or break the token or the page.
const STATE_PATTERN = /^[\x21-\x7e]{1,512}$/;

/**
 * GET /handoff/authorize (docs/design.md section 1). Anything wrong with the client, its redirect_uri
 * or the state is answered with a 400 page and never with a redirect: redirecting to an
 * unverified URL would hand a token, or at least an open redirect, to whoever built the link.
 */
export async function handoffRoutes(app: FastifyInstance, options: HandoffRouteOptions): Promise<void> {
  const { config, sessions, keyRing, metrics, now } = options;

  app.get('/handoff/authorize', { config: { html: true } }, async (request, reply) => {
    // Checked by hand, in this order, rather than by a querystring schema: each problem has
    // its own reason code, and a schema would answer them all as invalid_request.
    const query = request.query as {
      client_id?: unknown;
      redirect_uri?: unknown;
      state?: unknown;
      max_age?: unknown;
      prompt?: unknown;
    };
    const client = config.clients.find((candidate) => candidate.id === query.client_id);
    if (!client) throw new AppError('invalid_client', 'This sign-in link names an unknown service.');
    const redirectUri = query.redirect_uri;
    // Exact string comparison with a registered URI: no prefix, no normalisation.
    if (typeof redirectUri !== 'string' || !client.redirectUris.includes(redirectUri)) {
      throw new AppError(
        'invalid_redirect_uri',
        'This sign-in link has a return address that is not registered.',
      );
    }
    const state = query.state;
    if (state === undefined || state === '') {
      throw new AppError('state_missing', 'This sign-in link has no state parameter.');
    }
    if (typeof state !== 'string' || !STATE_PATTERN.test(state)) {
      throw new AppError('invalid_request', 'This sign-in link has a malformed state parameter.');
    }
    const freshness = readFreshnessRequest(query);

    const signedIn = await sessions.current(request);
    // Without a session, the sign-in about to happen is fresh: the request for one is dropped
    // from the way back, or prompt=login would send the browser round again.
    const asked = freshness.forceLogin || freshness.maxAgeSec !== undefined;
    const signIn = `/login?return_to=${encodeURIComponent(asked ? afterFreshLogin(request.url) : request.url)}`;
    if (!signedIn) return reply.redirect(signIn, 303);
    // The client asked for a recent sign-in (docs/design.md, "Fresh sign-in"): the password
    // again, in this same session, then back here without the request for it.
    if (needsFreshLogin(freshness, signedIn.session.authTime, now())) {
      const next = encodeURIComponent(afterFreshLogin(request.url));
      return reply.header('cache-control', 'no-store').redirect(`/login?reauth=1&return_to=${next}`, 303);
    }
    // The visit is recorded before the token exists, so that the session's sign-out reaches
    // every client that may hold a token or a session from it (docs/design.md section 2). A
    // session ended meanwhile records nothing and gets no token.
    if (!(await sessions.recordVisit(signedIn, client.id))) return reply.redirect(signIn, 303);

    // Right after the user's "sign out everywhere", wait for the next second: a token issued in
    // the sign-out's own second would be refused by every client (issue-after-revocation.ts).
    const issuedAt = issueTimeAfterRevocation(now(), signedIn.user.tokensValidAfter);
    if (issuedAt > now()) await sleep(issuedAt - now());

    const key = keyRing.signingKey(issuedAt);
    // For the client's "sign out of everything" (end-session.ts): valid while the session may live.
    const logoutHint = await mintLogoutHint(key, {
      issuer: config.publicUrl,
      clientId: client.id,
      sub: signedIn.user.id,
      sid: signedIn.session.sid,
      ttlSec: Math.min(
        LOGOUT_HINT_MAX_LIFETIME_SEC,
        Math.max(1, Math.ceil((signedIn.session.expiresAt - issuedAt) / 1000)),
      ),
      now: issuedAt,
    });
    const token = await mintHandoffToken(key, {
      issuer: config.publicUrl,
      clientId: client.id,
      sub: signedIn.user.id,
      nonce: state,
      authTimeMs: signedIn.session.authTime,
      sid: signedIn.session.sid,
      name: signedIn.user.name,
      email: signedIn.user.email,
      logoutHint,
      ttlSec: config.handoffTokenTtlSec,
      now: issuedAt,
    });
    metrics.handoffIssued({ client: client.id });
    return sendPage(
      reply,
      formPostPage({
        action: redirectUri,
        token,
        clientName: client.name,
        stepThrough: config.handoffStepThrough,
      }),
    );
  });
}

/**
 * The registered client that a sign-in was started for, when `returnTo` (the login's return path)
 * is this service's authorize endpoint naming one; undefined otherwise. Only for display: the
 * authorize endpoint checks the client, its redirect_uri and the state again when it runs.
 */
export function requestingClient(
  returnTo: string,
  clients: readonly ClientRegistration[],
): ClientRegistration | undefined {
  const url = new URL(returnTo, 'http://server1.invalid');
  if (url.pathname !== '/handoff/authorize') return undefined;
  const id = url.searchParams.get('client_id');
  return clients.find((client) => client.id === id);
}
