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
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { LoginThrottle } from '../auth/login-throttle.js';
import type { PasswordHasher } from '../auth/password-hasher.js';
import type { Server1Config } from '../config.js';
import type { Server1Metrics } from '../metrics.js';
import type { SessionManager } from '../session/session-manager.js';
import type { UserStore } from '../stores/user-store.js';
import { loginPage } from '../views/pages.js';

// The same words for an unknown user and a wrong password: the page must not tell which.
const INVALID_CREDENTIALS = 'The username or password is not right.';
const MAX_FIELD_LENGTH = 1024;

/** What the sign-in routes use. */
export interface LoginRouteOptions {
  /** `publicUrl`: the only origin the form may be posted from, and the CSRF cookie's scope. */
  config: Pick<Server1Config, 'publicUrl'>;
  users: Pick<UserStore, 'findByUsername'>;
  sessions: Pick<SessionManager, 'current' | 'start'>;
  passwordHasher: Pick<PasswordHasher, 'verify' | 'burn'>;
  loginThrottle: LoginThrottle;
  metrics: Pick<Server1Metrics, 'login'>;
  /** The clock, in milliseconds since the epoch. */
  now: () => number;
}

/**
 * GET and POST /login. The login form is protected against CSRF by a double-submit
 * token (a SameSite=Strict cookie that must equal the hidden field) and by the Origin check;
 * failed attempts are throttled per account and per address.
 */
export async function loginRoutes(app: FastifyInstance, options: LoginRouteOptions): Promise<void> {
  const { config, sessions, users, passwordHasher, loginThrottle, metrics, now } = options;
  const csrfCookie = cookieSpec(config.publicUrl, 's1_login_csrf');
  const csrfCookieOptions = { ...csrfCookie.options, sameSite: 'strict' as const, maxAge: 3600 };

  const showForm = (
    reply: FastifyReply,
    csrfToken: string,
    fields: Parameters<typeof loginPage>[0],
    status = 200,
  ) => {
    reply.setCookie(csrfCookie.name, csrfToken, csrfCookieOptions);
    return sendPage(reply, loginPage({ ...fields, csrfToken }), status);
  };

  app.get('/login', { config: { html: true } }, async (request, reply) => {
    // No querystring schema: whatever the query holds, the form is shown (an unusable return_to
    // becomes "/"), never a 400.
    const query = request.query as { return_to?: unknown; signed_out?: unknown };
    const returnTo = safeReturnTo(query.return_to);
    if (await sessions.current(request)) return reply.redirect(returnTo, 303);
    // Reuse the browser's token if it has one, so two open tabs both still work.
    const existing = request.cookies[csrfCookie.name];
    const csrfToken = existing && existing.length === 43 ? existing : randomId();
    const notice = query.signed_out === '1' ? 'You have signed out.' : undefined;
    return showForm(reply, csrfToken, { csrfToken, returnTo, notice });
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

    const retryAfter = loginThrottle.retryAfterSec(username, request.ip, now());
    if (retryAfter > 0) {
      metrics.login({ outcome: 'throttled' });
      throw new AppError('rate_limited', 'Too many failed sign-ins. Wait a while and try again.', {
        headers: { 'retry-after': String(retryAfter) },
      });
    }

    const user = username ? await users.findByUsername(username) : undefined;
    // An unknown user costs the same hashing time as a wrong password, so response time does
    // not reveal which usernames exist.
    const valid = user ? await passwordHasher.verify(password, user.passwordHash) : await burn(password);
    if (!user || !valid) {
      loginThrottle.recordFailure(username, request.ip, now());
      metrics.login({ outcome: 'failure' });
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

    loginThrottle.recordSuccess(username);
    await sessions.start(request, reply, user);
    metrics.login({ outcome: 'success' });
    reply.clearCookie(csrfCookie.name, csrfCookieOptions);
    return reply.redirect(returnTo, 303);
  });

  async function burn(password: string): Promise<false> {
    await passwordHasher.burn(password);
    return false;
  }
}
