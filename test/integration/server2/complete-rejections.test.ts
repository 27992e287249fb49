import { setCookieOf, setCookiesOf } from '@jwt-handoff/testkit';
import { describe, expect, it } from 'vitest';
import {
  Browser,
  expectErrorPage,
  expectJsonError,
  postCallback,
  type Response,
  signCookieValue,
  startHandoff,
  startServer2,
  stateOf,
  txnOf,
} from './helpers.js';

const SESSION_SECRET = 'a-session-secret-known-to-this-test-only-0123456789';

/** A refused completion: an HTML page with the reason, and no session for the browser. */
function expectRefusedPage(response: Response, reason: string): void {
  expectErrorPage(response, 400, reason);
  expect(response.headers.location).toBeUndefined();
  expect(setCookieOf(response, 's2_session')).toBeUndefined();
}

async function expectSignedOut(browser: Browser): Promise<void> {
  expectJsonError(await browser.get('/me'), 401, 'session_missing');
}

/** The base64url JSON payload of an s2_handoff cookie, as server2 writes it. */
function handoffPayload(payload: unknown): string {
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

describe('GET /handoff/complete refuses with txn_unknown', () => {
  it('a txn server2 never issued', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    await startHandoff(browser);

    expectRefusedPage(await browser.get('/handoff/complete?txn=made-up-by-someone'), 'txn_unknown');
    await expectSignedOut(browser);
  });

  it('a request without a txn', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    await startHandoff(browser);

    expectRefusedPage(await browser.get('/handoff/complete'), 'txn_unknown');
    expectRefusedPage(await browser.get('/handoff/complete?txn='), 'txn_unknown');
    await expectSignedOut(browser);
  });

  it('a txn that was already used', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    const { state } = await startHandoff(browser);
    const txn = txnOf(await postCallback(server, await server.mint({ nonce: state })));
    expect((await browser.get(`/handoff/complete?txn=${txn}`)).statusCode).toBe(303);

    expectRefusedPage(await browser.get(`/handoff/complete?txn=${txn}`), 'txn_unknown');
  });

  it('the second of two completions of one txn sent at once', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    const { state } = await startHandoff(browser);
    const txn = txnOf(await postCallback(server, await server.mint({ nonce: state })));

    const url = `/handoff/complete?txn=${txn}`;
    const responses = await Promise.all([browser.get(url), browser.get(url)]);

    expect(responses.map((response) => response.statusCode).sort()).toEqual([303, 400]);
    expectRefusedPage(responses.find((response) => response.statusCode === 400) as Response, 'txn_unknown');
  });

  it('a txn older than 60 s', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    const { state } = await startHandoff(browser);
    const txn = txnOf(await postCallback(server, await server.mint({ nonce: state })));

    server.clock.advance(60_001);

    expectRefusedPage(await browser.get(`/handoff/complete?txn=${txn}`), 'txn_unknown');
    await expectSignedOut(browser);
  });

  it('but completes a txn 59 s old', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    const { state } = await startHandoff(browser);
    const txn = txnOf(await postCallback(server, await server.mint({ nonce: state })));

    server.clock.advance(59_000);

    expect((await browser.get(`/handoff/complete?txn=${txn}`)).statusCode).toBe(303);
    expect((await browser.get('/me')).statusCode).toBe(200);
  });
});

describe('GET /handoff/complete refuses with state_mismatch', () => {
  it('a browser without the s2_handoff cookie', async () => {
    const server = await startServer2();
    const { state } = await startHandoff(new Browser(server));
    const txn = txnOf(await postCallback(server, await server.mint({ nonce: state })));
    const otherBrowser = new Browser(server);

    expectRefusedPage(await otherBrowser.get(`/handoff/complete?txn=${txn}`), 'state_mismatch');
    await expectSignedOut(otherBrowser);
  });

  it("login CSRF: the attacker's token completing in the victim's browser, which started its own handoff", async () => {
    const server = await startServer2();
    const attacker = new Browser(server);
    const victim = new Browser(server);
    const attackerStart = await startHandoff(attacker);
    await startHandoff(victim);
    // The attacker signs in at server1 as themselves and stops before their own completion...
    const attackerToken = await server.mint({ sub: 'user-mallory', nonce: attackerStart.state });
    const txn = txnOf(await postCallback(server, attackerToken));

    // ...then lures the victim's browser to the completion URL.
    const response = await victim.get(`/handoff/complete?txn=${txn}`);

    expectRefusedPage(response, 'state_mismatch');
    await expectSignedOut(victim);
    // The refused txn is spent: it cannot be completed afterwards either.
    expectRefusedPage(await attacker.get(`/handoff/complete?txn=${txn}`), 'txn_unknown');
  });

  it("login CSRF over https: a state cookie planted by a sibling host, holding the attacker's own state", async () => {
    const server = await startServer2({ env: { PUBLIC_URL: 'https://app.example' } });
    // The attacker starts a handoff of their own: a genuine, signed state cookie for their state...
    const attacker = await server.app.inject({ url: '/handoff/start' });
    const attackerCookie = setCookiesOf(attacker).find((cookie) => cookie.name.endsWith('s2_handoff'));
    const txn = txnOf(
      await postCallback(server, await server.mint({ sub: 'user-mallory', nonce: stateOf(attacker) })),
    );
    // ...and from evil.example, a sibling of app.example, sets it for the parent domain, as a
    // browser allows for a `__Secure-` name (`Domain=example; Secure`) but never for `__Host-`.
    const victim = new Browser(server);
    victim.cookies.set('__Secure-s2_handoff', attackerCookie?.value as string, '/handoff');

    const response = await victim.get(`/handoff/complete?txn=${txn}`);

    expectRefusedPage(response, 'state_mismatch');
    expect(setCookieOf(response, '__Host-s2_session')).toBeUndefined();
    await expectSignedOut(victim);
  });

  it("a cookie whose payload was swapped for one carrying the token's nonce, under the genuine signature", async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    await startHandoff(browser);
    const [, signature] = decodeURIComponent(browser.cookies.get('s2_handoff') as string).split('.');
    const txn = txnOf(await postCallback(server, await server.mint({ nonce: 'state-chosen-by-attacker' })));
    const payload = handoffPayload({ s: 'state-chosen-by-attacker', r: '/', e: server.clock.now() + 60_000 });
    browser.cookies.set('s2_handoff', encodeURIComponent(`${payload}.${signature}`), '/handoff');

    expectRefusedPage(await browser.get(`/handoff/complete?txn=${txn}`), 'state_mismatch');
    await expectSignedOut(browser);
  });

  it('a cookie whose signature was changed by one character', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    const { state } = await startHandoff(browser);
    const [payload = '', signature = ''] = decodeURIComponent(
      browser.cookies.get('s2_handoff') as string,
    ).split('.');
    const middle = signature.length >> 1;
    const altered = `${signature.slice(0, middle)}${signature[middle] === 'A' ? 'B' : 'A'}${signature.slice(middle + 1)}`;
    browser.cookies.set('s2_handoff', encodeURIComponent(`${payload}.${altered}`), '/handoff');
    const txn = txnOf(await postCallback(server, await server.mint({ nonce: state })));

    expectRefusedPage(await browser.get(`/handoff/complete?txn=${txn}`), 'state_mismatch');
    await expectSignedOut(browser);
  });

  it('a cookie signed with another secret', async () => {
    const server = await startServer2({ env: { SESSION_SECRET } });
    const browser = new Browser(server);
    const token = await server.mint({ nonce: 'forged-state' });
    const txn = txnOf(await postCallback(server, token));
    const payload = handoffPayload({ s: 'forged-state', r: '/', e: server.clock.now() + 60_000 });
    browser.cookies.set(
      's2_handoff',
      encodeURIComponent(signCookieValue(payload, `${SESSION_SECRET}-guess`)),
      '/handoff',
    );

    expectRefusedPage(await browser.get(`/handoff/complete?txn=${txn}`), 'state_mismatch');
  });

  it('a state older than 10 minutes', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    const { state } = await startHandoff(browser);

    server.clock.advance(10 * 60_000 + 1_000);
    // The browser ought to have dropped the cookie (Max-Age=600); server2 does not rely on it.
    const txn = txnOf(await postCallback(server, await server.mint({ nonce: state })));

    expectRefusedPage(await browser.get(`/handoff/complete?txn=${txn}`), 'state_mismatch');
    await expectSignedOut(browser);
  });

  it.each([
    ['not base64 JSON', '%%%'],
    ['JSON null', Buffer.from('null').toString('base64url')],
    ['a state that is not a string', handoffPayload({ s: 42, r: '/', e: Number.MAX_SAFE_INTEGER })],
    ['no expiry', handoffPayload({ s: 'forged-state', r: '/' })],
  ])('a correctly signed cookie holding %s', async (_what, payload) => {
    const server = await startServer2({ env: { SESSION_SECRET } });
    const browser = new Browser(server);
    const txn = txnOf(await postCallback(server, await server.mint({ nonce: 'forged-state' })));
    browser.cookies.set(
      's2_handoff',
      encodeURIComponent(signCookieValue(payload, SESSION_SECRET)),
      '/handoff',
    );

    expectRefusedPage(await browser.get(`/handoff/complete?txn=${txn}`), 'state_mismatch');
  });
});

describe('the state cookie', () => {
  it('is only sent back under /handoff over plain http', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    await startHandoff(browser);

    expect(browser.cookies.header('/handoff/complete?txn=x')).toMatch(/^s2_handoff=/);
    expect(browser.cookies.header('/me')).toBeUndefined();
  });

  it('still cannot send the browser off-site when its return_to was written with the secret', async () => {
    const server = await startServer2({ env: { SESSION_SECRET } });
    const browser = new Browser(server);
    const txn = txnOf(await postCallback(server, await server.mint({ nonce: 'known-state' })));
    const payload = handoffPayload({ s: 'known-state', r: '//evil.example', e: server.clock.now() + 60_000 });
    browser.cookies.set(
      's2_handoff',
      encodeURIComponent(signCookieValue(payload, SESSION_SECRET)),
      '/handoff',
    );

    const response = await browser.get(`/handoff/complete?txn=${txn}`);

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/');
  });
});
