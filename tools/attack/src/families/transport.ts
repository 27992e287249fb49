import { type Attack, notRun, type Outcome, refused, succeeded } from '../attack.js';
import type { AttackContext } from '../context.js';
import { isDeletion, parseSetCookie, type SetCookie } from '../http/cookie-jar.js';
import type { HttpResponse } from '../http/recording-client.js';
import { judgeRefusal } from '../judge.js';
import { JWT_LIKE } from '../jws/compact.js';
import { apiCall, backchannelPost, WHERE } from '../targets.js';
import { authorize } from './handoff-flow.js';

/** Every cookie `service` set during the run, the last setting of each name. */
function cookiesSetBy(context: AttackContext, base: string): SetCookie[] {
  const origin = new URL(base).origin;
  const cookies = new Map<string, SetCookie>();
  for (const exchange of context.http.exchanges) {
    if (new URL(exchange.url).origin !== origin) continue;
    for (const cookie of exchange.setCookies.map(parseSetCookie))
      if (!isDeletion(cookie)) cookies.set(cookie.name, cookie);
  }
  return [...cookies.values()];
}

/** What is wrong with a cookie's attributes (docs/design.md section 5), given whether the service is on https. */
function cookieProblems(cookie: SetCookie, https: boolean): string[] {
  const problems: string[] = [];
  const sameSite = String(cookie.attributes.samesite ?? '').toLowerCase();
  if (cookie.attributes.httponly !== true) problems.push('not HttpOnly');
  if (sameSite !== 'lax' && sameSite !== 'strict') problems.push(`SameSite=${sameSite || '(none given)'}`);
  if (https) {
    if (cookie.attributes.secure !== true) problems.push('not Secure');
    const hostOnly = cookie.attributes.path === '/' && cookie.attributes.domain === undefined;
    if (!cookie.name.startsWith(hostOnly ? '__Host-' : '__Secure-'))
      problems.push(`no ${hostOnly ? '__Host-' : '__Secure-'} prefix`);
  }
  return problems.map((problem) => `${cookie.name} ${problem}`);
}

function cookieFlags(service: 'server1' | 'server2'): Attack {
  return {
    id: `cookie-flags-${service}`,
    family: 'transport',
    title: `${service}'s cookies: HttpOnly, SameSite; on https Secure and __Host-/__Secure-`,
    where: `${service} Set-Cookie (whole run)`,
    expected: 'every cookie flagged',
    async run(context) {
      const base = context.deployment[service];
      const cookies = cookiesSetBy(context, base);
      if (cookies.length === 0) return notRun(`${service} set no cookie during the run`);
      const problems = cookies.flatMap((cookie) => cookieProblems(cookie, base.startsWith('https:')));
      const names = cookies
        .map((cookie) => `${cookie.name} (${String(cookie.attributes.samesite)})`)
        .join(', ');
      return problems.length === 0
        ? refused(`${names}: HttpOnly${base.startsWith('https:') ? ', Secure, prefixed' : ''}`)
        : succeeded(problems.join('; '));
    },
  };
}

/** A header check of server1's form_post page, the page that carries a token. */
function formPostHeader(
  id: string,
  title: string,
  expected: string,
  check: (response: HttpResponse) => string | undefined,
): Attack {
  return {
    id,
    family: 'transport',
    title,
    where: 'server1 form_post page (GET /handoff/authorize)',
    expected,
    async run(context) {
      const problem = check(context.deployment.formPostPage);
      return problem === undefined ? refused(expected) : succeeded(problem);
    },
  };
}

/** The directives of a Content-Security-Policy header. */
function csp(response: HttpResponse): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const directive of (response.headers['content-security-policy'] ?? '').split(';')) {
    const [name, ...values] = directive.trim().split(/\s+/);
    if (name) directives.set(name.toLowerCase(), values);
  }
  return directives;
}

/** An oversized or mistyped request: any 4xx (with one of `reasons`), never a 5xx. */
function oversized(
  id: string,
  title: string,
  where: string,
  reasons: readonly string[],
  send: (context: AttackContext) => Promise<HttpResponse>,
): Attack {
  return {
    id,
    family: 'transport',
    title,
    where,
    expected: reasons.length > 0 ? `4xx ${reasons.join(' | ')}` : '4xx, not 5xx',
    async run(context): Promise<Outcome> {
      const response = await send(context).catch((err: Error) => err);
      // Closing the connection on an oversized request is a refusal too; a crash shows in /readyz.
      if (response instanceof Error) return refused(`connection closed (${response.message})`);
      return judgeRefusal(response, reasons);
    },
  };
}

const junkToken = (bytes: number) => `eyJ${'A'.repeat(bytes)}.eyJ.sig`;
const form = (fields: Record<string, string>) => ({
  'content-type': 'application/x-www-form-urlencoded',
  ...fields,
});

/** RFC 9700 sections 4.2, 4.3 and 4.16, OWASP: cookies, caching, Referer and framing of the token page, input limits. */
export const transportAttacks: readonly Attack[] = [
  cookieFlags('server1'),
  cookieFlags('server2'),
  {
    id: 'no-token-in-cookies',
    family: 'transport',
    title: 'no cookie carries a JWT',
    where: 'Set-Cookie of both services (whole run)',
    expected: 'opaque cookie values only',
    async run(context) {
      const cookies = [
        ...cookiesSetBy(context, context.deployment.server1),
        ...cookiesSetBy(context, context.deployment.server2),
      ];
      const carrying = cookies.filter(
        (cookie) => JWT_LIKE.test(cookie.value) || JWT_LIKE.test(cookie.value.replace(/%2E/gi, '.')),
      );
      return carrying.length === 0
        ? refused(`${cookies.length} cookies, none a JWT`)
        : succeeded(`a JWT in ${carrying.map((c) => c.name).join(', ')}`);
    },
  },
  formPostHeader(
    'form-post-no-store',
    'the token page is not cached',
    'Cache-Control: no-store',
    (response) => {
      const value = response.headers['cache-control'] ?? '';
      return /\bno-store\b/i.test(value) ? undefined : `Cache-Control: ${value || '(none)'}`;
    },
  ),
  formPostHeader(
    'form-post-no-referrer',
    'the token page leaks no Referer',
    'Referrer-Policy: no-referrer',
    (response) => {
      const value = response.headers['referrer-policy'] ?? '';
      return value
        .split(',')
        .map((policy) => policy.trim())
        .includes('no-referrer')
        ? undefined
        : `Referrer-Policy: ${value || '(none)'}`;
    },
  ),
  formPostHeader(
    'form-post-frame-ancestors',
    'the token page cannot be framed',
    "CSP frame-ancestors 'none'",
    (response) => {
      const ancestors = csp(response).get('frame-ancestors');
      if (!ancestors)
        return `no frame-ancestors in CSP: ${response.headers['content-security-policy'] ?? '(no CSP)'}`;
      return ancestors.every((source) => source === "'none'" || source === "'self'")
        ? undefined
        : `frame-ancestors ${ancestors.join(' ')}`;
    },
  ),
  {
    id: 'form-post-form-action',
    family: 'transport',
    title: "the token page may post only to the client's origin",
    where: 'server1 form_post page (GET /handoff/authorize)',
    expected: "CSP form-action: the client's origin",
    async run(context) {
      const actions = csp(context.deployment.formPostPage).get('form-action');
      const client = new URL(context.deployment.callbackUrl).origin;
      if (!actions) return succeeded('no form-action in the CSP');
      const wide = actions.filter(
        (source) => source !== client && source !== `${client}/` && source !== context.deployment.callbackUrl,
      );
      return wide.length === 0
        ? refused(`form-action ${actions.join(' ')}`)
        : succeeded(`form-action also allows ${wide.join(' ')}`);
    },
  },
  oversized('callback-token-9kib', 'a 9 KiB token', WHERE.callback, ['token_too_large'], (context) =>
    context.http.send('POST', context.deployment.callbackUrl, {
      headers: form({}),
      body: `token=${junkToken(9 * 1024)}`,
    }),
  ),
  oversized(
    'callback-token-multibyte',
    'a token of 2800 three-byte characters (8400 bytes)',
    WHERE.callback,
    ['token_too_large', 'token_malformed'],
    (context) =>
      context.http.send('POST', context.deployment.callbackUrl, {
        headers: form({}),
        body: `token=${'€'.repeat(2800)}`,
      }),
  ),
  oversized('callback-body-20kib', 'a 20 KiB form body', WHERE.callback, ['body_too_large'], (context) =>
    context.http.send('POST', context.deployment.callbackUrl, {
      headers: form({}),
      body: `token=x&pad=${'p'.repeat(20 * 1024)}`,
    }),
  ),
  oversized(
    'callback-json-body',
    'the token posted as JSON',
    WHERE.callback,
    ['unsupported_media_type'],
    (context) =>
      context.http.send('POST', context.deployment.callbackUrl, {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: junkToken(64) }),
      }),
  ),
  oversized('api-bearer-9kib', 'a 9 KiB Bearer token', WHERE.api, ['token_too_large'], (context) =>
    apiCall(context, junkToken(9 * 1024)),
  ),
  oversized(
    'backchannel-token-9kib',
    'a 9 KiB logout token',
    WHERE.backchannel,
    ['token_too_large'],
    (context) => backchannelPost(context, junkToken(9 * 1024)),
  ),
  oversized('server2-header-40kib', 'a 40 KiB request header', 'server2 GET /me', [], (context) =>
    context.http.send('GET', `${context.deployment.server2}/me`, {
      headers: { 'x-padding': 'p'.repeat(40 * 1024) },
    }),
  ),
  oversized('server2-return-to-30kib', 'a 30 KiB return_to', 'server2 GET /handoff/start', [], (context) =>
    context.http.send(
      'GET',
      `${context.deployment.server2}/handoff/start?return_to=/${'a'.repeat(30 * 1024)}`,
    ),
  ),
  oversized(
    'server1-login-body-20kib',
    'a 20 KiB sign-in form',
    'server1 POST /login',
    ['body_too_large'],
    (context) =>
      context.http.send('POST', `${context.deployment.server1}/login`, {
        headers: form({ origin: new URL(context.deployment.server1).origin }),
        body: `username=alice&password=${'p'.repeat(20 * 1024)}`,
      }),
  ),
  oversized(
    'server1-state-10kib',
    'a 10 KiB state',
    'server1 GET /handoff/authorize',
    ['invalid_request'],
    (context) => authorize(context, { state: 's'.repeat(10 * 1024) }),
  ),
];
