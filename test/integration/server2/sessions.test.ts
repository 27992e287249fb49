import { formPost, setCookieOf } from '@jwt-handoff/testkit';
import { describe, expect, it } from 'vitest';
import {
  Browser,
  expectErrorPage,
  expectJsonError,
  PUBLIC_URL,
  postCallback,
  type Response,
  type Server2Harness,
  signIn,
  signOut,
  signOutForm,
  startHandoff,
  startServer2,
  txnOf,
} from './helpers.js';

describe('POST /logout', () => {
  it('ends the session and sends the browser to /signed-out', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    await signIn(server, browser);
    const sessionId = browser.cookies.get('s2_session') as string;

    const response = await signOut(browser);

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/signed-out');
    expect(setCookieOf(response, 's2_session')).toMatchObject({
      value: '',
      attributes: expect.objectContaining({ 'max-age': '0', path: '/' }),
    });
    expect(browser.cookies.get('s2_session')).toBeUndefined();
    // The id is dead on the server too, not only forgotten by this browser.
    const replayed = await server.app.inject({ url: '/me', headers: { cookie: `s2_session=${sessionId}` } });
    expectJsonError(replayed, 401, 'session_missing');
  });

  it('lands on a signed-out page that offers to sign in again, not on / (which would sign straight back in)', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    await signIn(server, browser);
    const out = await signOut(browser);
    expect(out.headers.location).toBe('/signed-out');

    const page = await browser.get('/signed-out');

    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toMatch(
      /<a [^>]*href="\/handoff\/start\?return_to=%2F"[^>]*>Sign in with server1<\/a>/,
    );
  });

  it('refuses a sign-out posted from another origin with 403 csrf_failed and keeps the session', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    await signIn(server, browser);

    // With the form's own token: the Origin check refuses by itself.
    const foreign = await browser.postForm('/logout', await signOutForm(browser), {
      origin: 'http://localhost:4001',
    });

    expectErrorPage(foreign, 403, 'csrf_failed');
    expect(setCookieOf(foreign, 's2_session')).toBeUndefined();
    expect((await browser.get('/me')).statusCode).toBe(200);
  });

  it('refuses a sign-out that the browser marks as cross-site', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    await signIn(server, browser);

    const response = await browser.request(
      formPost('/logout', await signOutForm(browser), { 'sec-fetch-site': 'cross-site' }),
    );

    expectErrorPage(response, 403, 'csrf_failed');
    expect((await browser.get('/me')).statusCode).toBe(200);
  });

  it('accepts a sign-out without a session, from this origin', async () => {
    const server = await startServer2();
    const response = await new Browser(server).postForm('/logout', {}, { origin: PUBLIC_URL });

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/signed-out');
  });
});

describe("POST /logout and the session's sign-out token", () => {
  /** Asserts that `response` refused the sign-out and that the browser is still signed in. */
  async function expectRefused(response: Response, browser: Browser): Promise<void> {
    expectErrorPage(response, 403, 'csrf_failed');
    expect(setCookieOf(response, 's2_session')).toBeUndefined();
    expect((await browser.get('/me')).statusCode).toBe(200);
  }

  async function signedIn(server: Server2Harness): Promise<Browser> {
    const browser = new Browser(server);
    await signIn(server, browser);
    return browser;
  }

  it('refuses a post without the token and without Origin or Sec-Fetch-Site', async () => {
    const server = await startServer2();
    const browser = await signedIn(server);

    const response = await browser.request(formPost('/logout', {}));

    await expectRefused(response, browser);
  });

  it('refuses a post without any body', async () => {
    const server = await startServer2();
    const browser = await signedIn(server);

    const response = await browser.request({ method: 'POST', url: '/logout' });

    await expectRefused(response, browser);
  });

  it.each<[string, (own: string, sessionId: string) => string]>([
    ['empty', () => 'csrf_token='],
    ['made up, of the right length', () => `csrf_token=${'A'.repeat(43)}`],
    ['one character off', (own) => `csrf_token=${own.slice(0, -1)}${own.endsWith('A') ? 'B' : 'A'}`],
    ['the session id itself', (_own, sessionId) => `csrf_token=${sessionId}`],
    ['sent twice', (own) => `csrf_token=${own}&csrf_token=${own}`],
  ])('refuses a token that is %s', async (_what, body) => {
    const server = await startServer2();
    const browser = await signedIn(server);
    const { csrf_token: own } = await signOutForm(browser);
    const payload = body(own as string, browser.cookies.get('s2_session') as string);

    const response = await browser.request({ ...formPost('/logout', {}, { origin: PUBLIC_URL }), payload });

    await expectRefused(response, browser);
  });

  it.each([
    ['another user', 'user-bob'],
    ['the same user in another browser', 'user-alice'],
  ])('refuses the token of another session, of %s', async (_whose, sub) => {
    const server = await startServer2();
    const victim = await signedIn(server);
    const other = new Browser(server);
    await signIn(server, other, { claims: { sub } });
    const othersForm = await signOutForm(other);
    expect(othersForm).not.toEqual(await signOutForm(victim));

    const response = await victim.postForm('/logout', othersForm);

    await expectRefused(response, victim);
    expect((await other.get('/me')).statusCode).toBe(200);
  });

  it("accepts the token of the home page's form, even without Origin or Sec-Fetch-Site", async () => {
    const server = await startServer2();
    const browser = await signedIn(server);
    const form = await signOutForm(browser);
    expect(form).toEqual({ csrf_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });

    const response = await browser.request(formPost('/logout', form));

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/signed-out');
    expectJsonError(await browser.get('/me'), 401, 'session_missing');
  });

  it('sends a browser already signed out (in another tab) to the signed-out page', async () => {
    const server = await startServer2();
    const browser = await signedIn(server);
    const staleForm = await signOutForm(browser);
    await signOut(browser);

    const response = await browser.postForm('/logout', staleForm);

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/signed-out');
  });
});

describe('session timeouts', () => {
  const env = { SESSION_IDLE_TIMEOUT_MS: '120000', SESSION_ABSOLUTE_TIMEOUT_MS: '600000' };

  it('keeps a session alive while it is used within the idle timeout', async () => {
    const server = await startServer2({ env });
    const browser = new Browser(server);
    await signIn(server, browser);

    for (let i = 0; i < 3; i++) {
      server.clock.advance(119_000);
      expect((await browser.get('/me')).statusCode).toBe(200);
    }
  });

  it('ends a session left unused for the idle timeout', async () => {
    const server = await startServer2({ env });
    const browser = new Browser(server);
    await signIn(server, browser);
    server.clock.advance(100_000);
    expect((await browser.get('/me')).statusCode).toBe(200);

    server.clock.advance(120_000);

    expectJsonError(await browser.get('/me'), 401, 'session_missing');
    expect((await browser.get('/')).headers.location).toBe('/handoff/start?return_to=%2F');
  });

  it('ends a session at the absolute timeout however busy it is', async () => {
    const server = await startServer2({ env });
    const browser = new Browser(server);
    await signIn(server, browser);
    // A request every 99 s keeps it from going idle, up to 599 s after sign-in.
    for (const step of [99_000, 99_000, 99_000, 99_000, 99_000, 99_000, 5_000]) {
      server.clock.advance(step);
      expect((await browser.get('/me')).statusCode).toBe(200);
    }

    server.clock.advance(1_000);

    expectJsonError(await browser.get('/me'), 401, 'session_missing');
  });

  it('sets the session cookie without Max-Age or Expires: it ends with the browser', async () => {
    const server = await startServer2({ env });
    const { response } = await signIn(server, new Browser(server));

    const attributes = setCookieOf(response, 's2_session')?.attributes;
    expect(attributes).toMatchObject({ path: '/', httponly: true });
    expect(attributes).not.toHaveProperty('max-age');
    expect(attributes).not.toHaveProperty('expires');
  });
});

describe('a restart on the same DATA_DIR', () => {
  it('keeps the session, and still refuses a replay of the token that started it', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    const { token } = await signIn(server, browser);

    await server.restart();

    const me = await browser.get('/me');
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ sub: 'user-alice' });
    expectJsonError(await postCallback(server, token), 400, 'token_replayed');
  });

  it('completes a handoff started before it, with a txn issued before it', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    const { state } = await startHandoff(browser);
    const txn = txnOf(await postCallback(server, await server.mint({ nonce: state })));

    await server.restart();

    expect((await browser.get(`/handoff/complete?txn=${txn}`)).statusCode).toBe(303);
    expect((await browser.get('/me')).statusCode).toBe(200);
  });

  it('keeps a signed-out session signed out', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    await signIn(server, browser);
    const sessionId = browser.cookies.get('s2_session') as string;
    expect((await signOut(browser)).statusCode).toBe(303);

    await server.restart();

    const replayed = await server.app.inject({ url: '/me', headers: { cookie: `s2_session=${sessionId}` } });
    expectJsonError(replayed, 401, 'session_missing');
  });
});
