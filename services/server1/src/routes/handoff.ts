import {
  AppError,
  LOGOUT_HINT_MAX_LIFETIME_SEC,
  mintHandoffToken,
  mintLogoutHint,
  sendPage,
} from '@jwt-handoff/shared';
import type { FastifyInstance } from 'fastify';
import type { Server1Config } from '../config.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { Server1Metrics } from '../metrics.js';
import type { SessionManager } from '../session/session-manager.js';
import { formPostPage } from '../views/pages.js';

/** What the handoff route uses. */
export interface HandoffRouteOptions {
  /** The registered clients, the issuer (`publicUrl`) and the tokens' lifetime. */
  config: Pick<Server1Config, 'clients' | 'publicUrl' | 'handoffTokenTtlSec'>;
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
    const query = request.query as { client_id?: unknown; redirect_uri?: unknown; state?: unknown };
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

    const signedIn = await sessions.current(request);
    // The visit is recorded before the token exists, so that the session's sign-out reaches
    // every client that may hold a token or a session from it (docs/design.md section 2). A
    // session ended meanwhile records nothing and gets no token.
    if (!signedIn || !(await sessions.recordVisit(signedIn, client.id))) {
      return reply.redirect(`/login?return_to=${encodeURIComponent(request.url)}`, 303);
    }

    const key = keyRing.signingKey(now());
    // For the client's "sign out of everything" (end-session.ts): valid while the session may live.
    const logoutHint = await mintLogoutHint(key, {
      issuer: config.publicUrl,
      clientId: client.id,
      sub: signedIn.user.id,
      sid: signedIn.session.sid,
      ttlSec: Math.min(
        LOGOUT_HINT_MAX_LIFETIME_SEC,
        Math.max(1, Math.ceil((signedIn.session.expiresAt - now()) / 1000)),
      ),
      now: now(),
    });
    const token = await mintHandoffToken(key, {
      issuer: config.publicUrl,
      clientId: client.id,
      sub: signedIn.user.id,
      nonce: state,
      authTimeMs: signedIn.session.createdAt,
      sid: signedIn.session.sid,
      name: signedIn.user.name,
      email: signedIn.user.email,
      logoutHint,
      ttlSec: config.handoffTokenTtlSec,
      now: now(),
    });
    metrics.handoffIssued({ client: client.id });
    return sendPage(reply, formPostPage({ action: redirectUri, token, clientName: client.name }));
  });
}
