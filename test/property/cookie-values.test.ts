import { CookieJar } from '@jwt-handoff/testkit';
import { suiteScope } from '@jwt-handoff/testkit/vitest';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  SERVER2_CALLBACK,
  type Server1Harness,
  signIn as signInToServer1,
  startServer1,
} from '../integration/server1/helpers.js';
import {
  Browser,
  postCallback,
  type Server2Harness,
  signCookieValue,
  signIn as signInToServer2,
  startHandoff,
  startServer2,
  txnOf,
} from '../integration/server2/helpers.js';
import { PROPERTY_TIMEOUT_MS, runOptions } from './run-options.js';

const SESSION_SECRET = 'a-session-secret-known-to-the-property-tests-0123';

// The cookies each service reads, under their plain names (http) and the prefixed ones https gives.
const SERVER1_COOKIES = ['s1_session', 's1_login_csrf', '__Host-s1_session', '__Host-s1_login_csrf'];
const SERVER2_COOKIES = [
  's2_session',
  's2_handoff',
  '__Host-s2_session',
  '__Host-s2_handoff',
  '__Secure-s2_handoff',
];

/** A character HTTP allows in a header value: HTAB, visible ASCII and space, and obs-text (0x80-0xFF). */
const headerChar = fc
  .oneof(
    { arbitrary: fc.integer({ min: 0x20, max: 0x7e }), weight: 6 },
    { arbitrary: fc.constant(0x09), weight: 1 },
    { arbitrary: fc.integer({ min: 0x80, max: 0xff }), weight: 2 },
  )
  .map((code) => String.fromCharCode(code));

/** `text` as node's HTTP parser hands it over: its UTF-8 bytes, one latin1 character each. */
function asHeaderBytes(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

const base64url = (text: string) => Buffer.from(text).toString('base64url');

/** A cookie value: header text, percent-encoded anything, look-alikes of our own cookies, huge. */
function cookieValue(): fc.Arbitrary<string> {
  const jsonLike = fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value) ?? 'null');
  // Objects shaped a little or a lot like the state cookie's payload ({s, r, e}).
  const statePayload = fc
    .record(
      {
        s: fc.oneof(fc.string(), fc.jsonValue()),
        r: fc.oneof(fc.string({ unit: 'binary' }), fc.jsonValue()),
        e: fc.oneof(fc.integer(), fc.double(), fc.jsonValue()),
      },
      { requiredKeys: [] },
    )
    .map((payload) => JSON.stringify(payload));
  return fc.oneof(
    fc.string({ unit: headerChar, maxLength: 64 }),
    fc.string({ unit: 'binary', maxLength: 64 }).map(asHeaderBytes),
    // Decoded by the cookie parser into anything, control characters and astral ones included.
    fc
      .string({ unit: 'binary', maxLength: 64 })
      .map((text) => encodeURIComponent(text.replace(/[\ud800-\udfff]/g, ''))),
    fc.string({
      unit: fc.constantFrom(
        '%',
        '%0',
        '%00',
        '%0A',
        '%0D',
        '%7F',
        '%FF',
        '%E2%82',
        '%C3',
        '%25',
        '=',
        ';',
        '"',
        ',',
        ' ',
        'a',
      ),
      maxLength: 24,
    }),
    // 43 characters once decoded: the length of the ids and CSRF tokens the services make.
    fc
      .string({ unit: 'binary', minLength: 43, maxLength: 43 })
      .map((text) => encodeURIComponent(text.replace(/[\ud800-\udfff]/g, 'x'))),
    fc.string({ unit: fc.constantFrom(...'ABCxyz019-_=+/.'.split('')), minLength: 43, maxLength: 43 }),
    fc.constantFrom('', '=', '==', ';', '""', '"quoted"', ' ', '\t', 'a=b', 'null', '[]', '{}', '.', '..'),
    jsonLike,
    jsonLike.map(base64url),
    jsonLike.map((json) => `${base64url(json)}.${base64url(json).slice(0, 43)}`),
    // Correctly signed with the service's secret, so the state cookie's payload is really parsed.
    fc
      .oneof(statePayload.map(base64url), jsonLike.map(base64url), fc.string())
      .map((payload) => signCookieValue(payload, SESSION_SECRET)),
    // Up to 8 KB, repeating a short piece (which shrinks fast).
    fc
      .tuple(
        fc.string({ unit: headerChar, minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1000, max: 8192 }),
      )
      .map(([piece, length]) => piece.repeat(Math.ceil(length / piece.length)).slice(0, length)),
  );
}

/** One route under test: its service, the request, and what to prepare for each case. */
interface Route {
  readonly service: 'server1' | 'server2';
  readonly name: string;
  /** The URL and any cookies a case needs besides the one under test (a genuine state cookie). */
  prepare(): Promise<{ url: string; cookies: string[] }>;
}

describe('a cookie of any value, on every route that reads cookies', () => {
  const scope = suiteScope();
  let server1: Server1Harness;
  let server2: Server2Harness;
  // The genuine session cookie of a signed-in browser, sent alongside the junk in some cases.
  let session1: string;
  let session2: string;

  beforeAll(async () => {
    [server1, server2] = await Promise.all([
      startServer1({ scope }),
      startServer2({ scope, env: { SESSION_SECRET } }),
    ]);
    const jar = new CookieJar('http://localhost:4001');
    await signInToServer1(server1.app, jar);
    session1 = `s1_session=${jar.get('s1_session')}`;
    const browser = new Browser(server2);
    await signInToServer2(server2, browser);
    session2 = `s2_session=${browser.cookies.get('s2_session')}`;
  });

  const plain = (url: string) => async () => ({ url, cookies: [] });
  const routes: Route[] = [
    { service: 'server2', name: 'GET /', prepare: plain('/') },
    { service: 'server2', name: 'GET /me', prepare: plain('/me') },
    { service: 'server2', name: 'GET /handoff/complete?txn=x', prepare: plain('/handoff/complete?txn=x') },
    {
      // A real pending handoff (its state cookie and txn), so that the state and session cookies are read.
      service: 'server2',
      name: 'GET /handoff/complete with a genuine txn and state cookie',
      prepare: async () => {
        const browser = new Browser(server2);
        const { state } = await startHandoff(browser, '/me');
        const txn = txnOf(await postCallback(server2, await server2.mint({ nonce: state })));
        return {
          url: `/handoff/complete?txn=${txn}`,
          cookies: [`s2_handoff=${browser.cookies.get('s2_handoff')}`],
        };
      },
    },
    { service: 'server1', name: 'GET /', prepare: plain('/') },
    { service: 'server1', name: 'GET /login', prepare: plain('/login?return_to=%2Fsomewhere') },
    {
      service: 'server1',
      name: 'GET /handoff/authorize',
      prepare: plain(
        `/handoff/authorize?${new URLSearchParams({ client_id: 'server2', redirect_uri: SERVER2_CALLBACK, state: 'state-of-a-property-test' })}`,
      ),
    },
  ];
  const casesPerRoute = Math.ceil(10_000 / routes.length);

  it.each(routes.map((route) => [`${route.service} ${route.name}`, route] as const))(
    `never answers 5xx on %s (${casesPerRoute.toLocaleString('en')} cases)`,
    async (_name, route) => {
      const names = route.service === 'server1' ? SERVER1_COOKIES : SERVER2_COOKIES;
      const app = (): FastifyInstance => (route.service === 'server1' ? server1.app : server2.app);
      const session = () => (route.service === 'server1' ? session1 : session2);
      const junk = fc.record({
        name: fc.constantFrom(...names),
        value: cookieValue(),
        // With the browser's genuine session, before or after the junk, or without it.
        session: fc.constantFrom('none', 'before', 'after'),
      });
      await fc.assert(
        fc.asyncProperty(junk, async ({ name, value, session: where }) => {
          const { url, cookies } = await route.prepare();
          const parts = [`${name}=${value}`, ...cookies];
          if (where === 'before') parts.unshift(session());
          if (where === 'after') parts.push(session());

          const response = await app().inject({ method: 'GET', url, headers: { cookie: parts.join('; ') } });

          expect(response.statusCode, `${url} with cookie ${JSON.stringify(parts.join('; '))}`).toBeLessThan(
            500,
          );
        }),
        runOptions(casesPerRoute),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
