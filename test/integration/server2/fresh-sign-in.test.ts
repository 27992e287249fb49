import type { Claims } from '@jwt-handoff/testkit';
import { describe, expect, it } from 'vitest';
import {
  Browser,
  expectErrorPage,
  postCallback,
  type Server2Harness,
  signIn,
  startServer2,
  stateOf,
  txnOf,
} from './helpers.js';

/** The handoff GET /sensitive starts in `browser`, completed with a token of `claims`. */
async function handOffFromSensitive(server: Server2Harness, browser: Browser, claims: Claims = {}) {
  const toStart = await browser.get('/sensitive');
  expect(toStart.statusCode).toBe(303);
  const start = await browser.get(String(toStart.headers.location));
  const authorize = new URL(String(start.headers.location));
  const token = await server.mint({ nonce: stateOf(start), ...claims });
  const txn = txnOf(await postCallback(server, token));
  const complete = await browser.get(`/handoff/complete?txn=${encodeURIComponent(txn)}`);
  return { toStart, authorize, complete };
}

describe('requireSession({ maxAgeSec }) and GET /sensitive (SENSITIVE_MAX_AGE_SEC=300)', () => {
  it('shows the page to a session signed in within max_age', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    await signIn(server, browser, { claims: { auth_time: server.clock.nowSec() - 100 } });

    const page = await browser.get('/sensitive');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Sensitive settings');
  });

  it('sends an older session through a handoff that asks server1 for max_age=300', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    await signIn(server, browser, { claims: { auth_time: server.clock.nowSec() - 100 } });
    server.clock.advance(300_000);

    const toStart = await browser.get('/sensitive');
    expect(toStart.statusCode).toBe(303);
    expect(toStart.headers.location).toBe('/handoff/start?return_to=%2Fsensitive&max_age=300');
    const start = await browser.get(String(toStart.headers.location));
    const authorize = new URL(String(start.headers.location));
    expect(authorize.searchParams.get('max_age')).toBe('300');
    // The rest of the site still takes the older session.
    expect((await browser.get('/')).statusCode).toBe(200);
  });

  it('completes with a fresh auth_time and lands on the page', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    await signIn(server, browser, { claims: { auth_time: server.clock.nowSec() - 1000 } });
    const { complete } = await handOffFromSensitive(server, browser, { auth_time: server.clock.nowSec() });

    expect(complete.statusCode).toBe(303);
    expect(complete.headers.location).toBe('/sensitive');
    expect((await browser.get('/sensitive')).statusCode).toBe(200);
  });

  it.each([
    ['older than max_age (and the leeway)', (now: number) => now - 306],
    ['missing', () => undefined],
    ['not a number', (now: number) => String(now)],
  ])('refuses a returned token whose auth_time is %s: auth_too_old, no session', async (_name, authTime) => {
    const server = await startServer2();
    const browser = new Browser(server);
    const { complete } = await handOffFromSensitive(server, browser, {
      auth_time: authTime(server.clock.nowSec()),
    });

    expectErrorPage(complete, 401, 'auth_too_old');
    expect((await browser.get('/me')).statusCode).toBe(401);
  });

  it('accepts an auth_time just within max_age and the clock leeway', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    const { complete } = await handOffFromSensitive(server, browser, {
      auth_time: server.clock.nowSec() - 305,
    });

    expect(complete.statusCode).toBe(303);
  });

  it('checks the max_age kept in the signed state cookie, even when the URL lost it', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    const start = await browser.get('/handoff/start?return_to=%2Fsensitive&max_age=60');
    // The browser (or anyone on the way) strips max_age from the link to server1: server1 then
    // mints a token from the old sign-in, which the completion refuses.
    const token = await server.mint({ nonce: stateOf(start), auth_time: server.clock.nowSec() - 3600 });
    const txn = txnOf(await postCallback(server, token));
    const complete = await browser.get(`/handoff/complete?txn=${encodeURIComponent(txn)}`);

    expectErrorPage(complete, 401, 'auth_too_old');
  });

  it('a handoff started without max_age gives an old sign-in a session, but not the sensitive page', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    const stripped = await signIn(server, browser, {
      returnTo: '/sensitive',
      claims: { auth_time: server.clock.nowSec() - 3600 },
    });

    expect(stripped.response.headers.location).toBe('/sensitive');
    const again = await browser.get('/sensitive');
    expect(again.statusCode).toBe(303);
    expect(again.headers.location).toContain('max_age=300');
  });

  it.each(['-1', '1.5', 'x', '', '99999999999'])(
    'refuses /handoff/start?max_age=%j with 400 invalid_max_age',
    async (maxAge) => {
      const server = await startServer2();
      const response = await new Browser(server).get(`/handoff/start?return_to=%2F&max_age=${maxAge}`);

      expectErrorPage(response, 400, 'invalid_max_age');
      expect(response.headers['set-cookie']).toBeUndefined();
    },
  );
});

describe('the sensitive page follows SENSITIVE_MAX_AGE_SEC', () => {
  it('with 0, a sign-in in this very second is still recent (within the leeway), an older one is not', async () => {
    const server = await startServer2({ env: { SENSITIVE_MAX_AGE_SEC: '0', CLOCK_TOLERANCE_SEC: '0' } });
    const browser = new Browser(server);
    await signIn(server, browser, { claims: { auth_time: server.clock.nowSec() } });

    expect((await browser.get('/sensitive')).statusCode).toBe(200);
    server.clock.advance(1000);
    const again = await browser.get('/sensitive');
    expect(again.headers.location).toBe('/handoff/start?return_to=%2Fsensitive&max_age=0');
  });
});
