import { describe, expect, it } from 'vitest';
import {
  Browser,
  logCollector,
  postCallback,
  type Server2Harness,
  signOutForm,
  startHandoff,
  startServer2,
  txnOf,
} from './helpers.js';

/** The secret itself, and its percent-decoded form when a cookie carries it encoded. */
function spellings(secret: string): string[] {
  return [...new Set([secret, decodeURIComponent(secret)])];
}

/** A handoff token and its signature segment. */
function tokenParts(token: string): string[] {
  return [token, token.split('.')[2] as string];
}

async function expiredToken(server: Server2Harness): Promise<string> {
  const now = server.clock.nowSec();
  return server.mint({ iat: now - 120, exp: now - 60 });
}

describe('logs', () => {
  it('never contain a token, a cookie value, an Authorization header, a state, a txn or a sign-out token', async () => {
    const logs = logCollector();
    const server = await startServer2({ env: { LOG_LEVEL: 'trace' }, logStream: logs.stream });
    const browser = new Browser(server);

    const { state } = await startHandoff(browser, '/me');
    const handoffCookie = browser.cookies.get('s2_handoff') as string;
    const token = await server.mint({ nonce: state });
    const txn = txnOf(await postCallback(server, token));
    expect((await browser.get(`/handoff/complete?txn=${txn}`)).statusCode).toBe(303);
    const sessionCookie = browser.cookies.get('s2_session') as string;
    expect((await browser.get('/me')).statusCode).toBe(200);
    expect((await browser.get('/')).statusCode).toBe(200);

    // Refusals log too: a replay, an expired token, a reused txn, and secrets where none belong.
    const rejected = await expiredToken(server);
    expect((await postCallback(server, token)).statusCode).toBe(400);
    expect((await postCallback(server, rejected)).statusCode).toBe(400);
    expect((await browser.get(`/handoff/complete?txn=${txn}`)).statusCode).toBe(400);
    expect((await browser.get('/me', { authorization: `Bearer ${token}` })).statusCode).toBe(200);
    expect(
      (await browser.get(`/no/such/route?token=${token}`, { authorization: `Bearer ${token}` })).statusCode,
    ).toBe(404);
    const { csrf_token: signOutToken } = await signOutForm(browser);
    expect((await browser.postForm('/logout', { csrf_token: signOutToken as string })).statusCode).toBe(303);

    const text = logs.text();
    expect(text).toContain('request completed');
    expect(text).toContain('token_replayed');
    const secrets = [
      ...tokenParts(token),
      ...tokenParts(rejected),
      ...spellings(handoffCookie),
      ...spellings(decodeURIComponent(handoffCookie).split('.')[1] as string),
      sessionCookie,
      signOutToken as string,
      txn,
      state,
    ];
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(20);
      expect(text).not.toContain(secret);
    }
  });

  it('hold one line per answered request, with its method, masked URL, status and time', async () => {
    const logs = logCollector();
    const server = await startServer2({ env: { LOG_LEVEL: 'info' }, logStream: logs.stream });
    const browser = new Browser(server);
    const { state } = await startHandoff(browser, '/me');
    expect((await browser.get('/me')).statusCode).toBe(401);

    const lines = logs
      .text()
      .split('\n')
      .filter((line) => line.includes('"req":'))
      .map(
        (line) =>
          JSON.parse(line) as {
            msg: string;
            req: { method: string; url: string };
            res: { statusCode: number };
            responseTime: number;
          },
      );
    expect(lines.map((line) => [line.msg, line.req.method, line.req.url, line.res.statusCode])).toEqual([
      ['request completed', 'GET', '/handoff/start?return_to=%2Fme', 303],
      ['request completed', 'GET', '/me', 401],
    ]);
    for (const line of lines) expect(line.responseTime).toBeGreaterThanOrEqual(0);
    expect(logs.text()).not.toContain('incoming request');
    expect(logs.text()).not.toContain(state);
  });

  it('mask a one-time value nested in a query value, at every depth', async () => {
    const logs = logCollector();
    const server = await startServer2({ env: { LOG_LEVEL: 'info' }, logStream: logs.stream });
    const browser = new Browser(server);
    const [state, txn, deeper] = ['state', 'txn', 'deeper'].map((name) => `${name}-${'x'.repeat(24)}-secret`);

    // A page that needs a session sends the browser to /handoff/start with the page's URL, its
    // query and all, in return_to: the request that follows logs it one level down.
    const home = await browser.get(`/?txn=${txn}&state=${state}`, { accept: 'text/html' });
    expect(home.statusCode).toBe(303);
    expect((await browser.get(String(home.headers.location))).statusCode).toBe(303);
    const nested = `/handoff/start?return_to=${encodeURIComponent(`/a?return_to=${encodeURIComponent(`/b?state=${deeper}`)}`)}`;
    expect((await browser.get(nested)).statusCode).toBe(303);

    const text = logs.text();
    expect(text).toContain('"url":"/handoff/start?return_to=%2F%3Ftxn%3D***%26state%3D***"');
    for (const secret of [state, txn, deeper]) expect(text).not.toContain(secret);
  });
});
