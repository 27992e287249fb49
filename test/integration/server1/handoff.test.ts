import { createHash } from 'node:crypto';
import { DEMO_USERS } from '@jwt-handoff/server1';
import { browse, CookieJar, hiddenField } from '@jwt-handoff/testkit';
import { suiteScope } from '@jwt-handoff/testkit/vitest';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  PUBLIC_URL,
  pageReason,
  publishedKeys,
  SERVER2_CALLBACK,
  type Server1Harness,
  signIn,
  startServer1,
  userIdOf,
} from './helpers.js';

const suite = suiteScope();
let server: Server1Harness;
let alice: CookieJar;

beforeAll(async () => {
  server = await startServer1({ scope: suite });
  alice = new CookieJar();
  await signIn(server.app, alice);
});

/** The authorize URL server2 would send a browser to. */
function authorizeUrl(params: Record<string, string | string[]>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const one of [value].flat()) query.append(name, one);
  }
  return `/handoff/authorize?${query}`;
}

const VALID = { client_id: 'server2', redirect_uri: SERVER2_CALLBACK, state: 'state-123' };

async function authorize(params: Record<string, string | string[]>, jar = alice) {
  return browse(server.app, jar, { url: authorizeUrl(params) });
}

describe('GET /handoff/authorize refuses a bad request with a 400 page and no redirect', () => {
  const cases: [string, Record<string, string | string[]>, string][] = [
    ['an unknown client_id', { ...VALID, client_id: 'evil' }, 'invalid_client'],
    ['no client_id', { redirect_uri: SERVER2_CALLBACK, state: 's' }, 'invalid_client'],
    [
      'a redirect_uri with the registered one as prefix',
      { ...VALID, redirect_uri: `${SERVER2_CALLBACK}/x` },
      'invalid_redirect_uri',
    ],
    [
      'a redirect_uri extending the registered path',
      { ...VALID, redirect_uri: `${SERVER2_CALLBACK}2` },
      'invalid_redirect_uri',
    ],
    [
      'a redirect_uri with a trailing slash',
      { ...VALID, redirect_uri: `${SERVER2_CALLBACK}/` },
      'invalid_redirect_uri',
    ],
    [
      'a redirect_uri with an added query',
      { ...VALID, redirect_uri: `${SERVER2_CALLBACK}?next=1` },
      'invalid_redirect_uri',
    ],
    [
      'a redirect_uri on a different port',
      { ...VALID, redirect_uri: 'http://localhost:4003/handoff/callback' },
      'invalid_redirect_uri',
    ],
    [
      'a redirect_uri on another host',
      { ...VALID, redirect_uri: 'http://evil.example/handoff/callback' },
      'invalid_redirect_uri',
    ],
    [
      'a redirect_uri registered for another client',
      { ...VALID, redirect_uri: 'https://reports.example/auth/callback' },
      'invalid_redirect_uri',
    ],
    [
      'a redirect_uri in other letter case',
      { ...VALID, redirect_uri: SERVER2_CALLBACK.toUpperCase() },
      'invalid_redirect_uri',
    ],
    ['no redirect_uri', { client_id: 'server2', state: 's' }, 'invalid_redirect_uri'],
    ['no state', { client_id: 'server2', redirect_uri: SERVER2_CALLBACK }, 'state_missing'],
    ['an empty state', { ...VALID, state: '' }, 'state_missing'],
    ['a repeated client_id', { ...VALID, client_id: ['server2', 'server2'] }, 'invalid_client'],
    [
      'a repeated redirect_uri',
      { ...VALID, redirect_uri: [SERVER2_CALLBACK, SERVER2_CALLBACK] },
      'invalid_redirect_uri',
    ],
    ['a repeated state', { ...VALID, state: ['a', 'b'] }, 'invalid_request'],
    ['a state of 513 characters', { ...VALID, state: 's'.repeat(513) }, 'invalid_request'],
    ['a state with a space', { ...VALID, state: 'a b' }, 'invalid_request'],
    ['a state with a non-ASCII character', { ...VALID, state: 'é' }, 'invalid_request'],
  ];

  it.each(cases)('%s (%s)', async (_what, params, reason) => {
    for (const jar of [alice, new CookieJar()]) {
      const response = await authorize(params, jar);

      expect(response.statusCode).toBe(400);
      expect(response.headers.location).toBeUndefined();
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(pageReason(response.body)).toBe(reason);
      expect(response.body).not.toContain('name="token"');
    }
  });

  it('accepts a state of exactly 512 characters', async () => {
    const response = await authorize({ ...VALID, state: 's'.repeat(512) });

    expect(response.statusCode).toBe(200);
  });
});

describe('GET /handoff/authorize without a session', () => {
  it('sends the browser to /login with return_to pointing back to the authorize URL', async () => {
    const url = authorizeUrl(VALID);

    const response = await server.app.inject({ url });

    expect(response.statusCode).toBe(303);
    const location = new URL(response.headers.location as string, PUBLIC_URL);
    expect(location.origin).toBe(PUBLIC_URL);
    expect(location.pathname).toBe('/login');
    expect(location.searchParams.get('return_to')).toBe(url);
  });

  it('comes back to the handoff once the user has signed in', async () => {
    const jar = new CookieJar();
    const start = await browse(server.app, jar, { url: authorizeUrl(VALID) });
    const loginForm = await browse(server.app, jar, { url: start.headers.location as string });
    expect(hiddenField(loginForm.body, 'return_to')).toBe(authorizeUrl(VALID));

    const signedIn = await signIn(server.app, jar, { returnTo: hiddenField(loginForm.body, 'return_to') });
    expect(signedIn.headers.location).toBe(authorizeUrl(VALID));
    const handoff = await browse(server.app, jar, { url: signedIn.headers.location as string });

    expect(handoff.statusCode).toBe(200);
    expect(hiddenField(handoff.body, 'token')).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });
});

describe('the state through a sign-in', () => {
  it('comes back unchanged as the nonce, whatever printable characters it holds', async () => {
    const state = `<script>"x"</script>'&amp;%41#?=/\\~${'z'.repeat(400)}`;
    const jar = new CookieJar();
    const start = await browse(server.app, jar, { url: authorizeUrl({ ...VALID, state }) });
    const loginForm = await browse(server.app, jar, { url: start.headers.location as string });
    const signedIn = await signIn(server.app, jar, { returnTo: hiddenField(loginForm.body, 'return_to') });

    const handoff = await browse(server.app, jar, { url: signedIn.headers.location as string });

    expect(handoff.statusCode).toBe(200);
    const { payload } = await jwtVerify(
      hiddenField(handoff.body, 'token'),
      createLocalJWKSet(await publishedKeys(server.app)),
      {
        currentDate: new Date(server.clock.now()),
      },
    );
    expect(payload.nonce).toBe(state);
  });
});

describe('GET /handoff/authorize with a session', () => {
  it('answers with a form that posts a token to the redirect_uri', async () => {
    const response = await authorize(VALID);

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toContain(`<form method="post" action="${SERVER2_CALLBACK}">`);
    expect(hiddenField(response.body, 'token')).toBeTruthy();
  });

  it('has a <noscript> button for browsers without scripts', async () => {
    const response = await authorize(VALID);

    expect(response.body).toMatch(/<noscript>[\s\S]*<button type="submit">[\s\S]*<\/noscript>/);
  });

  it('forbids caching, Referer and framing, and allows only its own script and a post to the client', async () => {
    const response = await authorize(VALID);

    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    const csp = String(response.headers['content-security-policy']);
    const script = /<script>([\s\S]*?)<\/script>/.exec(response.body)?.[1] as string;
    const scriptHash = createHash('sha256').update(script).digest('base64');
    expect(csp).toContain(`script-src 'sha256-${scriptHash}'`);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain('form-action http://localhost:4002');
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it("allows the form to post only to the origin of the requesting client's redirect_uri", async () => {
    const response = await authorize({
      client_id: 'reports',
      redirect_uri: 'https://reports.example/auth/callback',
      state: 'r',
    });

    expect(response.statusCode).toBe(200);
    expect(String(response.headers['content-security-policy'])).toContain(
      'form-action https://reports.example;',
    );
  });

  it('mints a handoff+jwt signed with EdDSA by the key the JWKS publishes', async () => {
    const token = hiddenField((await authorize(VALID)).body, 'token');
    const jwks = await publishedKeys(server.app);

    const header = decodeProtectedHeader(token);

    expect(header).toEqual({ alg: 'EdDSA', typ: 'handoff+jwt', kid: jwks.keys[0]?.kid });
    const { protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
      algorithms: ['EdDSA'],
      typ: 'handoff+jwt',
      issuer: PUBLIC_URL,
      audience: 'server2',
      currentDate: new Date(server.clock.now()),
    });
    expect(protectedHeader.kid).toBe(jwks.keys[0]?.kid);
  });

  it('puts the user, the client, the state and the session into the claims', async () => {
    const jar = new CookieJar();
    await signIn(server.app, jar);
    const signedInAt = server.clock.nowSec();
    server.clock.advance(90_000);

    const token = hiddenField((await authorize({ ...VALID, state: 'xyz-789' }, jar)).body, 'token');
    const { payload } = await jwtVerify(token, createLocalJWKSet(await publishedKeys(server.app)), {
      currentDate: new Date(server.clock.now()),
    });

    const alice = DEMO_USERS.find((user) => user.username === 'alice');
    expect(payload).toMatchObject({
      iss: PUBLIC_URL,
      aud: 'server2',
      sub: await userIdOf(server.app, jar),
      nonce: 'xyz-789',
      iat: server.clock.nowSec(),
      auth_time: signedInAt,
      name: alice?.name,
      email: alice?.email,
    });
    expect((payload.exp as number) - (payload.iat as number)).toBe(60);
    expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(payload.sid).toEqual(expect.any(String));
  });

  it('gives each token its own jti and one sid per session', async () => {
    const first = hiddenField((await authorize(VALID)).body, 'token');
    const second = hiddenField((await authorize(VALID)).body, 'token');
    const verify = async (token: string) =>
      (
        await jwtVerify(token, createLocalJWKSet(await publishedKeys(server.app)), {
          currentDate: new Date(server.clock.now()),
        })
      ).payload;

    const [a, b] = [await verify(first), await verify(second)];

    expect(a.jti).not.toBe(b.jti);
    expect(a.sid).toBe(b.sid);
  });

  it('never puts the session id, or the hash it is stored under, in the sid claim', async () => {
    const sessionId = alice.get('s1_session') as string;

    const token = hiddenField((await authorize(VALID)).body, 'token');
    const { payload } = await jwtVerify(token, createLocalJWKSet(await publishedKeys(server.app)), {
      currentDate: new Date(server.clock.now()),
    });

    expect(payload.sid).not.toBe(sessionId);
    expect(payload.sid).not.toBe(createHash('sha256').update(sessionId).digest('base64url'));
    expect(token).not.toContain(sessionId);
  });

  it('counts the tokens it issues in /metrics', async () => {
    await authorize(VALID);

    const metrics = await server.app.inject({ url: '/metrics' });

    expect(metrics.body).toMatch(/^server1_handoff_tokens_issued_total\{client="server2"\} \d+$/m);
  });
});
