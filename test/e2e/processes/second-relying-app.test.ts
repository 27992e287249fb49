import { rmSync } from 'node:fs';
import { buildBillingApp } from '@jwt-handoff/example-billing';
import {
  Browser,
  freePort,
  handoff,
  type ServicePair,
  signOut,
  startPair,
  tempDir,
  within,
} from '@jwt-handoff/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The plugin adopted by another app: examples/billing (the README's example), a plain
// fastify app with another client id, registered at server1 next to server2. One server1 hands
// off to both over real HTTP; the billing app listens in this process, server1 and server2 run
// as processes of their own.
describe('a second relying app on the plugin, next to server2', () => {
  let pair: ServicePair;
  let billing: FastifyInstance;
  let billingUrl: string;
  let dataDir: string;
  const me = async (browser: Browser, url: string) => (await browser.fetch('GET', `${url}/me`)).status;
  const alice = () => ({ username: 'alice', password: pair.demoPassword });

  beforeAll(async () => {
    const port = await freePort();
    billingUrl = `http://localhost:${port}`;
    pair = await startPair({
      server1Env: { LOGOUT_RETRY_BASE_MS: '100', LOGOUT_RETRY_MAX_MS: '400' },
      moreClients: [
        {
          id: 'billing',
          redirect_uris: [`${billingUrl}/handoff/callback`],
          backchannel_logout_uri: `http://127.0.0.1:${port}/backchannel-logout`,
        },
      ],
    });
    dataDir = tempDir('billing');
    billing = await buildBillingApp({
      issuer: pair.server1.url,
      jwksUrl: `http://127.0.0.1:${new URL(pair.server1.url).port}/.well-known/jwks.json`,
      publicUrl: billingUrl,
      sessionSecret: 'a-billing-test-secret-of-32-chars-or-more',
      dataDir,
    });
    await billing.listen({ port, host: '127.0.0.1' });
    await within(5000, async () => billing.relyingParty.isReady());
  });

  afterAll(async () => {
    await billing?.close();
    await pair?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('signs a visitor in through server1 and back, with its own cookies', async () => {
    const browser = new Browser();
    const run = await handoff(browser, billingUrl, alice());

    expect(run.askedForPassword).toBe(true);
    expect(run.page.status).toBe(200);
    expect(run.page.body).toBe('hello Alice Liddell');
    expect(run.page.trail.map((url) => new URL(url).pathname)).toEqual([
      '/handoff/callback',
      '/handoff/complete',
      '/',
    ]);
    expect(run.page.headers.get('set-cookie') ?? '').not.toContain('s2_');
    expect(await me(browser, billingUrl)).toBe(200);
  });

  it('hands one server1 session off to both services, each under its own client id', async () => {
    const browser = new Browser();
    const toBilling = await handoff(browser, billingUrl, alice());
    const toServer2 = await handoff(browser, pair.server2.url, alice());

    expect(toServer2.askedForPassword).toBe(false);
    expect(await me(browser, billingUrl)).toBe(200);
    expect(await me(browser, pair.server2.url)).toBe(200);
    const audience = (token: string) =>
      JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).aud;
    expect(audience(toBilling.token)).toBe('billing');
    expect(audience(toServer2.token)).toBe('server2');
  });

  it('refuses a replayed token, and a token minted for the other service', async () => {
    const toBilling = await handoff(new Browser(), billingUrl, alice());
    const replay = await new Browser().fetch(
      'POST',
      `${billingUrl}/handoff/callback`,
      new URLSearchParams({ token: toBilling.token }).toString(),
      { accept: 'application/json' },
    );
    expect(replay.status).toBe(400);
    expect(JSON.parse(replay.body)).toEqual({ error: 'invalid_token', reason: 'token_replayed' });

    const toServer2 = await handoff(new Browser(), pair.server2.url, alice());
    const elsewhere = await new Browser().fetch(
      'POST',
      `${billingUrl}/handoff/callback`,
      new URLSearchParams({ token: toServer2.token }).toString(),
      { accept: 'application/json' },
    );
    expect(elsewhere.status).toBe(400);
    expect(JSON.parse(elsewhere.body).reason).toBe('invalid_audience');
  });

  it('ends its session, and server2s, within 2 s of signing out on server1', async () => {
    const browser = new Browser();
    await handoff(browser, billingUrl, alice());
    await handoff(browser, pair.server2.url, alice());

    const out = await signOut(browser, `${pair.server1.url}/`);
    expect(out.url).toBe(`${pair.server1.url}/login?signed_out=1`);
    await within(2000, async () => (await me(browser, billingUrl)) === 401);
    await within(2000, async () => (await me(browser, pair.server2.url)) === 401);
  });

  it("'Sign out of everything' at server2 ends server1's session and billing's, and comes back to server2", async () => {
    const browser = new Browser();
    await handoff(browser, billingUrl, alice());
    await handoff(browser, pair.server2.url, alice());

    const out = await signOut(browser, `${pair.server2.url}/`, '/logout/everything');

    // server2 -> server1's end-session (the hint matched: no question) -> server2's /logout/complete.
    expect(out.status).toBe(200);
    expect(out.url).toBe(`${pair.server2.url}/signed-out?everywhere=1`);
    expect(out.trail.map((url) => new URL(url).pathname)).toEqual([
      '/logout/everything',
      '/logout/end-session',
      '/logout/complete',
      '/signed-out',
    ]);
    expect(out.body).toContain('You have signed out of everything');
    expect(await me(browser, pair.server2.url)).toBe(401);
    const dashboard = await browser.open(`${pair.server1.url}/`);
    expect(new URL(dashboard.url).pathname).toBe('/login');
    await within(2000, async () => (await me(browser, billingUrl)) === 401);
  });

  it('asks before signing out when the end-session link carries no hint (a link from anywhere)', async () => {
    const browser = new Browser();
    await handoff(browser, billingUrl, alice());
    const query = new URLSearchParams({
      client_id: 'server2',
      post_logout_redirect_uri: `${pair.server2.url}/logout/complete`,
      state: 'from-elsewhere',
    });

    const page = await browser.open(`${pair.server1.url}/logout/end-session?${query}`);

    expect(page.status).toBe(200);
    expect(page.body).toContain('data-reason="logout_hint_missing"');
    expect(await me(browser, billingUrl)).toBe(200);
    expect(new URL((await browser.open(`${pair.server1.url}/`)).url).pathname).toBe('/');
  });

  it('guards its API with service tokens, challenging in its own realm', async () => {
    const response = await new Browser().fetch('GET', `${billingUrl}/api/invoices`);
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body).reason).toBe('token_missing');
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="billing"');
  });
});
