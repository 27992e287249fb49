import { setCookieOf } from '@jwt-handoff/testkit';
import { describe, expect, it } from 'vitest';
import {
  Browser,
  expectErrorPage,
  expectJsonError,
  PUBLIC_URL,
  postCallback,
  signIn,
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

    const response = await browser.postForm('/logout');

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
    await browser.postForm('/logout');

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

    const foreign = await browser.postForm('/logout', {}, { origin: 'http://localhost:4001' });

    expectErrorPage(foreign, 403, 'csrf_failed');
    expect(setCookieOf(foreign, 's2_session')).toBeUndefined();
    expect((await browser.get('/me')).statusCode).toBe(200);
  });

  it('refuses a sign-out that the browser marks as cross-site', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    await signIn(server, browser);

    const response = await browser.request({
      method: 'POST',
      url: '/logout',
      headers: { 'sec-fetch-site': 'cross-site' },
    });

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
    await browser.postForm('/logout');

    await server.restart();

    const replayed = await server.app.inject({ url: '/me', headers: { cookie: `s2_session=${sessionId}` } });
    expectJsonError(replayed, 401, 'session_missing');
  });
});
