import {
  AppError,
  cookieSpec,
  formFields,
  type HandoffClaims,
  hashSecret,
  randomId,
  refusedToken,
  safeReturnTo,
  secretsEqual,
  type TokenVerifier,
  textField,
} from '@jwt-handoff/shared';
import type { FastifyInstance } from 'fastify';

/** What the hand-rolled handoff routes do; by default what the plugin does. */
export interface NaiveHandoffOptions {
  issuer: string;
  publicUrl: string;
  clientId: string;
  verify: TokenVerifier<HandoffClaims>;
  /** Compare the browser's state with the token's nonce at /handoff/complete. Default true. */
  checkState?: boolean;
  /** Keep return_to to a path of this app. Default true. */
  checkReturnTo?: boolean;
}

const STATE_COOKIE = 's2_handoff';
const STATE_COOKIE_OPTIONS = { signed: true, httpOnly: true, sameSite: 'lax', path: '/handoff' } as const;

/**
 * /handoff/start, /handoff/callback and /handoff/complete written by hand, the way an app that
 * does not use the plugin's routes might, on the plugin's stores and sessions
 * (`app.relyingParty`). Sound unless an option turns a check off.
 */
export function naiveHandoffRoutes(app: FastifyInstance, options: NaiveHandoffOptions): void {
  const rp = app.relyingParty;
  const session = cookieSpec(options.publicUrl, rp.options.sessionCookie);

  app.get('/handoff/start', { config: { html: true } }, async (request, reply) => {
    const { return_to: returnTo } = request.query as Record<string, unknown>;
    const state = randomId();
    const pending = {
      state,
      returnTo: options.checkReturnTo === false ? String(returnTo ?? '/') : safeReturnTo(returnTo),
    };
    reply.setCookie(STATE_COOKIE, Buffer.from(JSON.stringify(pending)).toString('base64url'), {
      ...STATE_COOKIE_OPTIONS,
      maxAge: 600,
    });
    const authorize = new URL(`${options.issuer}/handoff/authorize`);
    authorize.search = new URLSearchParams({
      client_id: options.clientId,
      redirect_uri: `${options.publicUrl}/handoff/callback`,
      state,
    }).toString();
    return reply.redirect(authorize.href, 303);
  });

  app.post('/handoff/callback', async (request, reply) => {
    const result = await options.verify(textField(formFields(request), 'token'));
    if (!result.ok) throw refusedToken(result);
    const txn = randomId();
    await rp.stores.txns.put(hashSecret(txn), { claims: result.claims }, Date.now() + 60_000);
    return reply.redirect(`/handoff/complete?txn=${txn}`, 303);
  });

  app.get('/handoff/complete', { config: { html: true } }, async (request, reply) => {
    const { txn } = request.query as Record<string, unknown>;
    const claims =
      typeof txn === 'string' && txn
        ? (await rp.stores.txns.take(hashSecret(txn), Date.now()))?.claims
        : undefined;
    if (!claims) throw new AppError('txn_unknown', 'unknown txn');
    const raw = request.cookies[STATE_COOKIE];
    const unsigned = raw ? request.unsignCookie(raw) : undefined;
    const pending = unsigned?.valid
      ? (JSON.parse(Buffer.from(String(unsigned.value), 'base64url').toString()) as {
          state: string;
          returnTo: string;
        })
      : undefined;
    if (options.checkState !== false && !secretsEqual(pending?.state, claims.nonce)) {
      throw new AppError('state_mismatch', 'not started in this browser');
    }
    const { id } = await rp.stores.sessions.create({ claims }, Date.now());
    reply.setCookie(session.name, id, { ...session.options, maxAge: 12 * 3600 });
    reply.clearCookie(STATE_COOKIE, STATE_COOKIE_OPTIONS);
    return reply.redirect(pending?.returnTo ?? '/', 303);
  });
}
