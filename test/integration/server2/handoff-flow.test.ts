import { setCookieOf, setCookiesOf } from '@jwt-handoff/testkit';
import { describe, expect, it } from 'vitest';
import {
  Browser,
  CLIENT_ID,
  expectJsonError,
  ISSUER_URL,
  PUBLIC_URL,
  postCallback,
  signIn,
  startHandoff,
  startServer2,
  stateOf,
  txnOf,
} from './helpers.js';

describe('the browser handoff, end to end', () => {
  it('sends a browser without a session from / to /handoff/start, returning to /', async () => {
    const server = await startServer2();
    const response = await new Browser(server).get('/');

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/handoff/start?return_to=%2F');
  });

  it('answers GET /me without a session with 401 session_missing', async () => {
    const server = await startServer2();
    const response = await new Browser(server).get('/me');

    expectJsonError(response, 401, 'session_missing');
  });

  it('starts a handoff: sets the signed s2_handoff cookie and sends the browser to server1', async () => {
    const server = await startServer2();
    const { response, state } = await startHandoff(new Browser(server), '/me');

    const authorize = new URL(String(response.headers.location));
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${ISSUER_URL}/handoff/authorize`);
    expect([...authorize.searchParams]).toEqual([
      ['client_id', CLIENT_ID],
      ['redirect_uri', `${PUBLIC_URL}/handoff/callback`],
      ['state', state],
    ]);
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(response.headers['cache-control']).toBe('no-store');

    expect(setCookiesOf(response).map((cookie) => cookie.name)).toEqual(['s2_handoff']);
    const cookie = setCookieOf(response, 's2_handoff');
    expect(cookie?.attributes).toEqual({
      'max-age': '600',
      path: '/handoff',
      httponly: true,
      samesite: 'Lax',
    });
    // Signed and opaque: the state is inside, but the cookie is not just the state.
    expect(cookie?.value).not.toBe(state);
  });

  it('gives every start a new state', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    const first = await startHandoff(browser);
    const second = await startHandoff(browser);

    expect(first.state).not.toBe(second.state);
  });

  it('turns the posted token into a one-time txn without setting any cookie', async () => {
    const server = await startServer2();
    const { state } = await startHandoff(new Browser(server));
    const callback = await postCallback(server, await server.mint({ nonce: state }));

    const txn = txnOf(callback);
    expect(txn).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(callback.headers['cache-control']).toBe('no-store');
    expect(callback.headers['set-cookie']).toBeUndefined();
  });

  it('completes the handoff: a new s2_session, s2_handoff cleared, back to return_to', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    const { response } = await signIn(server, browser, { returnTo: '/me?view=full' });

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/me?view=full');
    expect(response.headers['cache-control']).toBe('no-store');

    const session = setCookieOf(response, 's2_session');
    expect(session?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // No Max-Age or Expires: the cookie ends with the browser; the timeouts are the server's.
    expect(session?.attributes).toEqual({ path: '/', httponly: true, samesite: 'Lax' });
    const handoff = setCookieOf(response, 's2_handoff');
    expect(handoff?.value).toBe('');
    expect(handoff?.attributes).toMatchObject({ 'max-age': '0', path: '/handoff' });

    expect(browser.cookies.get('s2_session')).toBe(session?.value);
    expect(browser.cookies.get('s2_handoff')).toBeUndefined();
  });

  it('then answers GET /me with who the user is', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    const { token } = await signIn(server, browser);

    const response = await browser.get('/me');

    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const me = response.json();
    expect(me).toMatchObject({
      sub: 'user-alice',
      name: 'Alice Example',
      email: 'alice@example.test',
      iss: ISSUER_URL,
    });
    expect(JSON.stringify(me)).not.toContain(token);
  });

  it('then shows the user and the verified claims on the home page', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    await signIn(server, browser);

    const response = await browser.get('/');

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toContain('<h1>Hello, Alice Example</h1>');
    expect(response.body).toContain('<table id="claims">');
    for (const value of [ISSUER_URL, 'user-alice', CLIENT_ID, 'alice@example.test', 'sid-hash-alice']) {
      expect(response.body).toContain(`<code>${value}</code>`);
    }
  });

  it('escapes claim values on the home page', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    await signIn(server, browser, { claims: { name: '<img src=x onerror=alert(1)>' } });

    const response = await browser.get('/');

    expect(response.body).not.toContain('<img src=x');
    expect(response.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('sends the browser to / when return_to is left out', async () => {
    const server = await startServer2();
    const { response } = await signIn(server, new Browser(server));

    expect(response.headers.location).toBe('/');
  });

  it.each([
    '//evil.example',
    '/\\evil.example',
    'https:evil.example',
    'https://evil.example',
    '%2F%2Fevil.example',
    '/..//evil.example',
    '/%2E%2E//evil.example',
    ' //evil.example',
    '/\t/evil.example',
  ])('lands on / after complete when return_to is %j', async (returnTo) => {
    const server = await startServer2();
    const { response } = await signIn(server, new Browser(server), { returnTo });

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/');
  });

  it('lands on / when an encoded //evil.example arrives raw in the start URL', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    const state = stateOf(await browser.get('/handoff/start?return_to=%2F%2Fevil.example'));
    const txn = txnOf(await postCallback(server, await server.mint({ nonce: state })));

    const response = await browser.get(`/handoff/complete?txn=${txn}`);

    expect(response.headers.location).toBe('/');
  });

  it('keeps the session cookies Secure and prefixed when PUBLIC_URL is https', async () => {
    const server = await startServer2({ env: { PUBLIC_URL: 'https://app.example' } });
    const browser = new Browser(server);
    const { response: start } = await startHandoff(browser);

    expect(new URL(String(start.headers.location)).searchParams.get('redirect_uri')).toBe(
      'https://app.example/handoff/callback',
    );
    // __Host-, so no sibling host can plant one; the prefix requires Path=/.
    expect(setCookieOf(start, '__Host-s2_handoff')?.attributes).toEqual({
      'max-age': '600',
      path: '/',
      httponly: true,
      secure: true,
      samesite: 'Lax',
    });
    expect(setCookieOf(start, '__Secure-s2_handoff')).toBeUndefined();

    const txn = txnOf(await postCallback(server, await server.mint({ nonce: stateOf(start) })));
    const complete = await browser.get(`/handoff/complete?txn=${txn}`);

    expect(complete.statusCode).toBe(303);
    expect(setCookieOf(complete, '__Host-s2_handoff')).toMatchObject({
      value: '',
      attributes: { path: '/' },
    });
    expect(setCookieOf(complete, '__Host-s2_session')?.attributes).toMatchObject({ secure: true, path: '/' });
    expect((await browser.get('/me')).statusCode).toBe(200);
  });
});

describe('session fixation', () => {
  it('replaces a session id planted before the handoff with a new one', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    browser.cookies.set('s2_session', 'chosen-by-the-attacker');

    const { response } = await signIn(server, browser);

    const issued = setCookieOf(response, 's2_session')?.value;
    expect(issued).toBeTruthy();
    expect(issued).not.toBe('chosen-by-the-attacker');
    const planted = await server.app.inject({
      url: '/me',
      headers: { cookie: 's2_session=chosen-by-the-attacker' },
    });
    expectJsonError(planted, 401, 'session_missing');
  });

  it('gives a browser that signs in again a new session id and ends the old one', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    await signIn(server, browser);
    const before = browser.cookies.get('s2_session') as string;

    await signIn(server, browser, { claims: { sub: 'user-bob', name: 'Bob' } });
    const after = browser.cookies.get('s2_session') as string;

    expect(after).not.toBe(before);
    const old = await server.app.inject({ url: '/me', headers: { cookie: `s2_session=${before}` } });
    expectJsonError(old, 401, 'session_missing');
    expect((await browser.get('/me')).json()).toMatchObject({ sub: 'user-bob' });
  });
});
