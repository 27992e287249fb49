import {
  AppError,
  formFields,
  hashSecret,
  randomId,
  refusedToken,
  secretsEqual,
  textField,
} from '@jwt-handoff/shared';
import type { FastifyInstance } from 'fastify';
import type { Server2Context } from '../context.js';

/** How long verified claims wait for the browser's GET /handoff/complete, in milliseconds. */
export const TXN_TTL_MS = 60_000;

/**
 * The relying side of the browser handoff (DESIGN.md section 1): start, callback, complete.
 */
export async function handoffRoutes(app: FastifyInstance, ctx: Server2Context): Promise<void> {
  const { config, sessions, txns, activity, stateCookie, verifyHandoffToken, isRevoked, metrics, now } = ctx;
  const callbackUrl = `${config.publicUrl}/handoff/callback`;

  app.get('/handoff/start', { config: { html: true } }, async (request, reply) => {
    const { return_to: returnTo } = request.query as Record<string, unknown>;
    const { state } = stateCookie.issue(reply, typeof returnTo === 'string' ? returnTo : '/');
    const authorize = new URL('/handoff/authorize', config.issuerUrl);
    authorize.searchParams.set('client_id', config.clientId);
    authorize.searchParams.set('redirect_uri', callbackUrl);
    authorize.searchParams.set('state', state);
    return reply.header('cache-control', 'no-store').redirect(authorize.href, 303);
  });

  // A cross-site POST from server1's page: no SameSite=Lax cookie comes with it, so all this
  // step can do is verify the token and park the claims under a one-time txn.
  app.post('/handoff/callback', async (request, reply) => {
    const token = textField(formFields(request), 'token');
    const result = await verifyHandoffToken(token);
    if (!result.ok) {
      metrics.tokenRejected({ kind: 'handoff', reason: result.reason });
      metrics.handoff({ outcome: 'rejected' });
      throw refusedToken(result);
    }
    const txn = randomId();
    await txns.put(hashSecret(txn), result.claims, now() + TXN_TTL_MS);
    return reply.header('cache-control', 'no-store').redirect(`/handoff/complete?txn=${txn}`, 303);
  });

  // A top-level GET, so the browser sends the Lax s2_handoff cookie: the state it holds must be
  // the nonce the token was minted for, or the token was started by another browser.
  app.get('/handoff/complete', { config: { html: true } }, async (request, reply) => {
    const { txn } = request.query as Record<string, unknown>;
    const claims =
      typeof txn === 'string' && txn.length > 0 ? await txns.take(hashSecret(txn), now()) : undefined;
    if (!claims) {
      metrics.handoff({ outcome: 'rejected' });
      throw new AppError(
        'txn_unknown',
        'This sign-in link was already used or has expired. Please start again.',
      );
    }
    const pending = stateCookie.read(request);
    if (!pending || !secretsEqual(pending.state, claims.nonce)) {
      // The browser's Back button after a handoff re-opens server1's page, which mints a fresh
      // token for the old (already cleared) state. If this browser is already signed in as the
      // same user, nothing is gained by an error page: keep the session as it is and go home.
      // No session is created or changed, so this cannot sign anyone in as someone else.
      const current = await sessions.current(request);
      if (current !== undefined && current.sub === claims.sub) return reply.redirect('/', 303);
      metrics.handoff({ outcome: 'rejected' });
      throw new AppError(
        'state_mismatch',
        'This sign-in was not started in this browser. Please start again.',
      );
    }
    // Checked again here: a sign-out (of that server1 session, or everywhere) may have arrived
    // through the back-channel since the callback.
    if (await isRevoked(claims)) {
      metrics.handoff({ outcome: 'rejected' });
      throw new AppError('token_revoked', 'This sign-in was revoked. Please start again.');
    }
    stateCookie.clear(reply);
    await sessions.start(request, reply, claims);
    await activity.recordHandoff(claims.sub, now());
    metrics.handoff({ outcome: 'completed' });
    return reply.header('cache-control', 'no-store').redirect(pending.returnTo, 303);
  });
}
