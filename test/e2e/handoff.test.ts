import { Browser, handoff, type ServicePair, startPair } from '@jwt-handoff/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Both services as real processes on loopback ports, with their own temporary data dirs, and a
// script-less browser with a cookie jar walking the flow over real HTTP.
describe('the browser handoff between two real processes', () => {
  let pair: ServicePair;
  let credentials: { username: string; password: string };

  beforeAll(async () => {
    pair = await startPair();
    credentials = { username: 'alice', password: pair.demoPassword };
  });
  afterAll(async () => {
    await pair?.close();
  });

  it('sends a signed-out visitor through server1 sign-in and back to server2 signed in', async () => {
    const browser = new Browser();
    const run = await handoff(browser, pair.server2.url, credentials);

    expect(run.askedForPassword).toBe(true);
    expect(run.page.status).toBe(200);
    expect(run.page.url).toBe(`${pair.server2.url}/`);
    expect(run.page.body).toContain('Hello, Alice Liddell');
    // The walk took the documented route: start, authorize, login, callback, complete.
    const paths = [...run.page.trail].map((url) => new URL(url).pathname);
    expect(paths).toEqual(['/handoff/callback', '/handoff/complete', '/']);

    const me = await browser.fetch('GET', `${pair.server2.url}/me`);
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body)).toMatchObject({ name: 'Alice Liddell', iss: pair.server1.url });
  });

  it('needs no password for a second handoff while the server1 session lives', async () => {
    const browser = new Browser();
    await handoff(browser, pair.server2.url, credentials);
    await browser.fetch('POST', `${pair.server2.url}/logout`, '');
    const second = await handoff(browser, pair.server2.url, credentials, '/me');
    expect(second.askedForPassword).toBe(false);
    expect(second.page.status).toBe(200);
    expect(new URL(second.page.url).pathname).toBe('/me');
  });

  it('refuses a token replayed from another browser', async () => {
    const victim = new Browser();
    const run = await handoff(victim, pair.server2.url, credentials);
    const attacker = new Browser();
    const replay = await attacker.fetch(
      'POST',
      `${pair.server2.url}/handoff/callback`,
      new URLSearchParams({ token: run.token }).toString(),
    );
    expect(replay.status).toBe(400);
    expect(JSON.parse(replay.body)).toEqual({ error: 'invalid_token', reason: 'token_replayed' });
  });

  it('keeps the session and still refuses a replayed token after server2 restarts', async () => {
    const browser = new Browser();
    const run = await handoff(browser, pair.server2.url, credentials);

    expect(await pair.server2.stop()).toBe(0);
    await pair.server2.start();

    const me = await browser.fetch('GET', `${pair.server2.url}/me`);
    expect(me.status).toBe(200);
    const replay = await new Browser().fetch(
      'POST',
      `${pair.server2.url}/handoff/callback`,
      new URLSearchParams({ token: run.token }).toString(),
    );
    expect(JSON.parse(replay.body).reason).toBe('token_replayed');
  });

  it('keeps the signing key across a server1 restart, so server2 keeps verifying', async () => {
    const before = await (await fetch(`${pair.server1.url}/.well-known/jwks.json`)).json();
    expect(await pair.server1.stop()).toBe(0);
    await pair.server1.start();
    const after = await (await fetch(`${pair.server1.url}/.well-known/jwks.json`)).json();
    expect(after).toEqual(before);

    const run = await handoff(new Browser(), pair.server2.url, credentials);
    expect(run.page.status).toBe(200);
  });

  it('answers 401 on /me once the user signs out of server2', async () => {
    const browser = new Browser();
    await handoff(browser, pair.server2.url, credentials);
    const out = await browser.fetch('POST', `${pair.server2.url}/logout`, '', { origin: pair.server2.url });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/signed-out');
    const me = await browser.fetch('GET', `${pair.server2.url}/me`);
    expect(me.status).toBe(401);
    expect(JSON.parse(me.body).reason).toBe('session_missing');
  });

  it('shuts down promptly on SIGTERM', async () => {
    const started = Date.now();
    expect(await pair.server2.stop()).toBe(0);
    expect(Date.now() - started).toBeLessThan(3000);
    await pair.server2.start();
  });
});
