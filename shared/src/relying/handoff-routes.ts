import type { FastifyInstance } from 'fastify';
import { AppError, refusedToken } from '../errors.js';
import { formFields, textField } from '../http/form-body.js';
import { secretsEqual } from '../http/same-origin.js';
import type { SessionCookies } from '../http/session-cookies.js';
import { hashSecret, randomId } from '../http/session-id.js';
import type { HandoffClaims } from '../tokens/handoff-token.js';
import { startTrace, traceCheck } from '../tokens/verification-trace.js';
import type { TokenVerifier } from '../tokens/verifier.js';
import { isRecentSignIn, readMaxAge } from './fresh-sign-in.js';
import type { RelyingMetrics } from './metrics.js';
import type { Revocation } from './revocation.js';
import type { StateCookie } from './state-cookie.js';
import type { ActivityStore, RelyingSession, TxnStore, VerifiedHandoff } from './stores.js';

/** Everything the three handoff routes use. */
export interface HandoffRoutesOptions {
  /**
   * The issuer's authorization endpoint, where /handoff/start sends the browser; a function, since
   * with discovery it is known only once the issuer's document is. It throws an AppError
   * (`discovery_unavailable`) while it is not known.
   */
  authorizationEndpoint: () => Promise<string>;
  /** This service's client id at the issuer. */
  clientId: string;
  /** The absolute URL of POST /handoff/callback, registered at the issuer for this client. */
  callbackUrl: string;
  /** The path of GET /handoff/complete (under the plugin's prefix). */
  completePath: string;
  /** Where a browser that is already signed in as the token's user goes after a stale completion. */
  homePath: string;
  /** How long verified claims wait for the browser's completion, in milliseconds. */
  txnTtlMs: number;
  /** Leeway of the auth_time check against a requested max_age, in seconds (the verifiers' clock leeway). */
  clockToleranceSec: number;
  sessions: Pick<SessionCookies<RelyingSession, VerifiedHandoff>, 'current' | 'start'>;
  txns: TxnStore;
  activity: Pick<ActivityStore, 'recordHandoff'>;
  stateCookie: Pick<StateCookie, 'issue' | 'read' | 'clear'>;
  verifyHandoffToken: TokenVerifier<HandoffClaims>;
  revocation: Pick<Revocation, 'isRevoked'>;
  metrics: Pick<RelyingMetrics, 'handoff' | 'tokenRejected'>;
  now: () => number;
}

/**
 * The relying side of the browser handoff (docs/design.md section 1): start, callback, complete.
 */
export async function handoffRoutes(app: FastifyInstance, options: HandoffRoutesOptions): Promise<void> {
  const { sessions, txns, activity, stateCookie, verifyHandoffToken, revocation, metrics, now } = options;
  const { authorizationEndpoint } = options;

  app.get('/handoff/start', { config: { html: true } }, async (request, reply) => {
    const { return_to: returnTo, max_age: maxAge } = request.query as Record<string, unknown>;
    const maxAgeSec = readMaxAge(maxAge);
    const authorize = new URL(await authorizationEndpoint());
    const { state } = stateCookie.issue(reply, returnTo, maxAgeSec);
    authorize.searchParams.set('client_id', options.clientId);
    authorize.searchParams.set('redirect_uri', options.callbackUrl);
    authorize.searchParams.set('state', state);
    if (maxAgeSec !== undefined) authorize.searchParams.set('max_age', String(maxAgeSec));
    return reply.header('cache-control', 'no-store').redirect(authorize.href, 303);
  });

  // A cross-site POST from the issuer's page: no SameSite=Lax cookie comes with it, so all this
  // step can do is verify the token and park the claims under a one-time txn. Browsers post it
  // (and get a page they can act on when it is refused); programs post it too (and get JSON).
  app.post('/handoff/callback', { config: { html: 'when-accepted' } }, async (request, reply) => {
    const token = textField(formFields(request), 'token');
    // The verifier records what it checks, kept with the session so its page can show it.
    const trace = token ? startTrace(token, now()) : undefined;
    const result = await verifyHandoffToken(token, trace);
    if (!result.ok) {
      metrics.tokenRejected({ kind: 'handoff', reason: result.reason });
      metrics.handoff({ outcome: 'rejected' });
      throw refusedToken(result);
    }
    const txn = randomId();
    await txns.put(hashSecret(txn), { claims: result.claims, trace }, now() + options.txnTtlMs);
    return reply.header('cache-control', 'no-store').redirect(`${options.completePath}?txn=${txn}`, 303);
  });

  // A top-level GET, so the browser sends the Lax state cookie: the state it holds must be the
  // nonce the token was minted for, or the token was started by another browser.
  app.get('/handoff/complete', { config: { html: true } }, async (request, reply) => {
    const { txn } = request.query as Record<string, unknown>;
    const handoff =
      typeof txn === 'string' && txn.length > 0 ? await txns.take(hashSecret(txn), now()) : undefined;
    if (!handoff) {
      metrics.handoff({ outcome: 'rejected' });
      throw new AppError(
        'txn_unknown',
        'This sign-in link was already used or has expired. Please start again.',
      );
    }
    const { claims, trace } = handoff;
    const pending = stateCookie.read(request);
    if (!pending || !secretsEqual(pending.state, claims.nonce)) {
      // The browser's Back button after a handoff re-opens the issuer's page, which mints a fresh
      // token for the old (already cleared) state. If this browser is already signed in as the
      // same user, nothing is gained by an error page: keep the session as it is and go home.
      // No session is created or changed, so this cannot sign anyone in as someone else.
      const current = await sessions.current(request);
      if (current !== undefined && current.sub === claims.sub) return reply.redirect(options.homePath, 303);
      metrics.handoff({ outcome: 'rejected' });
      throw new AppError(
        'state_mismatch',
        'This sign-in was not started in this browser. Please start again.',
      );
    }
    // The max_age this browser's handoff asked for comes from its signed state cookie, not from
    // anything in a URL, so a handoff whose max_age was stripped on the way still gets checked.
    // An issuer that ignored max_age, or a token minted from an old sign-in, is refused here.
    if (
      pending.maxAgeSec !== undefined &&
      !isRecentSignIn(claims.auth_time, pending.maxAgeSec, now(), options.clockToleranceSec)
    ) {
      metrics.handoff({ outcome: 'rejected' });
      throw new AppError(
        'auth_too_old',
        'This service needs you to have signed in recently. Please start again and enter your password.',
      );
    }
    if (trace) {
      traceCheck(trace, 'nonce', 'nonce equals the state in this browser’s handoff cookie', [
        { label: 'nonce', text: claims.nonce },
        { label: 'state cookie', text: pending.state },
        { label: 'checked', atMs: now() },
      ]);
    }
    // Checked again here: a sign-out (of that issuer session, or everywhere) may have arrived
    // through the back-channel since the callback.
    if (await revocation.isRevoked(claims, trace)) {
      metrics.handoff({ outcome: 'rejected' });
      throw new AppError('token_revoked', 'This sign-in was revoked. Please start again.');
    }
    stateCookie.clear(reply);
    await sessions.start(request, reply, handoff);
    await activity.recordHandoff(claims.sub, now());
    metrics.handoff({ outcome: 'completed' });
    return reply.header('cache-control', 'no-store').redirect(pending.returnTo, 303);
  });
}
