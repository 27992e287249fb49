import {
  AppError,
  cookieSpec,
  formFields,
  isSameOriginRequest,
  randomId,
  safeReturnTo,
  secretsEqual,
  sendPage,
  textField,
} from '@jwt-handoff/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HashLimiter } from '../auth/hash-limiter.js';
import type { LoginThrottle } from '../auth/login-throttle.js';
import type { PasswordHasher } from '../auth/password-hasher.js';
import type { Server1Config } from '../config.js';
import type { Server1Metrics } from '../metrics.js';
import type { SessionManager } from '../session/session-manager.js';
import type { User, UserStore } from '../stores/user-store.js';
import { loginPage } from '../views/pages.js';
import { requestingClient } from './handoff.js';

// The same words for an unknown user and a wrong password: the page must not tell which.
const INVALID_CREDENTIALS = 'The username or password is not right.';
const MAX_FIELD_LENGTH = 1024;
// The username a failed sign-in hands to the form it redirects to; longer ones are not kept.
const MAX_REMEMBERED_USERNAME = 256;
// When every hashing slot is taken, one comes free within a few hash times: a second.
const BUSY_RETRY_AFTER_SEC = 1;

/** What the sign-in routes use. */
export interface LoginRouteOptions {
  /** `publicUrl`: the only origin the form may be posted from, and the CSRF cookie's scope. */
  config: Pick<Server1Config, 'publicUrl' | 'clients'>;
  users: Pick<UserStore, 'findByUsername' | 'replacePasswordHash'>;
  sessions: Pick<SessionManager, 'current' | 'start'>;
  passwordHasher: PasswordHasher;
  loginThrottle: LoginThrottle;
  /** Bounds the password hashes computed at once; a sign-in beyond it is answered 429 `login_busy`. */
  hashLimiter: HashLimiter;
  metrics: Pick<Server1Metrics, 'login'>;
  /** The clock, in milliseconds since the epoch. */
  now: () => number;
}

/**
 * GET and POST /login. The login form is protected against CSRF by a double-submit
 * token (a SameSite=Strict cookie that must equal the hidden field) and by the Origin check;
 * failed attempts are throttled per (account, address), per account and per address, and the
 * password hashes computed at once are bounded (docs/design.md, "The sign-in throttle").
 */
export async function loginRoutes(app: FastifyInstance, options: LoginRouteOptions): Promise<void> {
  const { config, sessions, users, passwordHasher, loginThrottle, hashLimiter, metrics, now } = options;
  const csrfCookie = cookieSpec(config.publicUrl, 's1_login_csrf');
  const csrfCookieOptions = { ...csrfCookie.options, sameSite: 'strict' as const, maxAge: 3600 };
  // Post/redirect/get after a failed sign-in (docs/design.md, "Signing in"): the POST answers a
  // browser with a 303 back to the form, and this cookie tells that GET to show the failure once.
  // It holds the username typed (never the password), for a minute, for this site only.
  const failedCookie = cookieSpec(config.publicUrl, 's1_login_failed');
  const failedCookieOptions = { ...failedCookie.options, sameSite: 'strict' as const, maxAge: 60 };

  const showForm = (
    reply: FastifyReply,
    csrfToken: string,
    fields: Parameters<typeof loginPage>[0],
    status = 200,
  ) => {
    reply.setCookie(csrfCookie.name, csrfToken, csrfCookieOptions);
    // Says which service asked for this sign-in, when it came from a handoff.
    const requestedBy = requestingClient(fields.returnTo, config.clients)?.name;
    return sendPage(reply, loginPage({ ...fields, csrfToken, requestedBy }), status);
  };

  app.get('/login', { config: { html: true } }, async (request, reply) => {
    // No querystring schema: whatever the query holds, the form is shown (an unusable return_to
    // becomes "/"), never a 400.
    const query = request.query as { return_to?: unknown; signed_out?: unknown; reauth?: unknown };
    const returnTo = safeReturnTo(query.return_to);
    const signedIn = await sessions.current(request);
    // reauth=1: a client asked for a recent sign-in (max_age, prompt=login), so a signed-in
    // browser is shown the form too, its username filled in (docs/design.md, "Fresh sign-in").
    const reauth = query.reauth === '1' && signedIn !== undefined;
    if (signedIn && !reauth) return reply.redirect(returnTo, 303);
    // Reuse the browser's token if it has one, so two open tabs both still work.
    const existing = request.cookies[csrfCookie.name];
    const csrfToken = existing && existing.length === 43 ? existing : randomId();
    const notice = reauth
      ? 'Please enter your password again to continue.'
      : query.signed_out === '1'
        ? 'You have signed out.'
        : undefined;
    const failedAs = request.cookies[failedCookie.name];
    if (failedAs === undefined) {
      return showForm(reply, csrfToken, { csrfToken, returnTo, notice, username: signedIn?.user.username });
    }
    // Shown once: a reload or a later visit shows the plain form.
    reply.clearCookie(failedCookie.name, failedCookieOptions);
    return showForm(reply, csrfToken, {
      csrfToken,
      returnTo,
      notice: reauth ? notice : undefined,
      username: failedAs.slice(0, MAX_REMEMBERED_USERNAME),
      error: INVALID_CREDENTIALS,
      reason: 'invalid_credentials',
    });
  });

  app.post('/login', { config: { html: true } }, async (request, reply) => {
    const fields = formFields(request);
    const csrfToken = request.cookies[csrfCookie.name];
    if (
      !isSameOriginRequest(request, config.publicUrl) ||
      !secretsEqual(textField(fields, 'csrf_token'), csrfToken)
    ) {
      throw new AppError(
        'csrf_failed',
        'This form has expired or was not sent from this site. Reload it and try again.',
      );
    }
    const returnTo = safeReturnTo(textField(fields, 'return_to'));
    const username = (textField(fields, 'username') ?? '').trim().slice(0, MAX_FIELD_LENGTH);
    const password = (textField(fields, 'password') ?? '').slice(0, MAX_FIELD_LENGTH);

    // The attempt is counted as a failure before the password is checked, and handed back if it
    // is right: concurrent guesses each see the others, so no more than the limit are checked.
    const reservation = await loginThrottle.reserve(username, request.ip, now());
    if (!reservation.ok) {
      metrics.login({ outcome: 'throttled' });
      throw new AppError('rate_limited', 'Too many failed sign-ins. Wait a while and try again.', {
        headers: { 'retry-after': String(reservation.retryAfterSec) },
      });
    }
    const { attempt } = reservation;

    const user = username ? await users.findByUsername(username) : undefined;
    const checked = hashLimiter.run(() => checkPassword(user, password));
    if (!checked) {
      // Nothing was checked, so nothing counts against the account or the address.
      await loginThrottle.refund(attempt);
      metrics.login({ outcome: 'busy' });
      throw new AppError('login_busy', 'Signing in is busy right now. Try again in a moment.', {
        headers: { 'retry-after': String(BUSY_RETRY_AFTER_SEC) },
      });
    }
    // Awaited whoever the user is: an unknown user's answer waits for its hash like anyone's.
    const valid = await checked;
    if (!valid || !user) {
      metrics.login({ outcome: 'failure' });
      if (acceptsHtml(request)) {
        // A browser: 303 to the form, so that Back and reload never re-post the password. The
        // attempt is already counted by the throttle; the GET shows the failure, with the same
        // words whoever the user is.
        reply.setCookie(failedCookie.name, username.slice(0, MAX_REMEMBERED_USERNAME), failedCookieOptions);
        return reply
          .header('cache-control', 'no-store')
          .redirect(`/login?return_to=${encodeURIComponent(returnTo)}`, 303);
      }
      // Anything else keeps the contract's answer: 401 invalid_credentials, with the form.
      return showForm(
        reply,
        csrfToken as string,
        {
          csrfToken: csrfToken as string,
          returnTo,
          username,
          error: INVALID_CREDENTIALS,
          reason: 'invalid_credentials',
        },
        401,
      );
    }

    await loginThrottle.succeed(attempt);
    await sessions.start(request, reply, user);
    metrics.login({ outcome: 'success' });
    reply.clearCookie(csrfCookie.name, csrfCookieOptions);
    if (request.cookies[failedCookie.name] !== undefined)
      reply.clearCookie(failedCookie.name, failedCookieOptions);
    return reply.redirect(returnTo, 303);
  });

  /**
   * Checks the password, inside one hashing slot. An unknown user costs the same hashing time as
   * a wrong password, so response time does not reveal which usernames exist. A right password
   * whose hash has weaker parameters than today's is hashed again and stored.
   */
  async function checkPassword(user: User | undefined, password: string): Promise<boolean> {
    if (!user) {
      await passwordHasher.burn(password);
      return false;
    }
    if (!(await passwordHasher.verify(password, user.passwordHash))) return false;
    if (passwordHasher.needsRehash(user.passwordHash)) {
      try {
        await users.replacePasswordHash(user.id, user.passwordHash, await passwordHasher.hash(password));
      } catch (err) {
        // The sign-in stands; the old hash still works and is upgraded at the next one.
        app.log.error({ err }, 'password rehash failed');
      }
    }
    return true;
  }
}

/** Whether the client reads pages (a browser's Accept names text/html), so a redirect suits it. */
function acceptsHtml(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('text/html');
}
