import { rmSync } from 'node:fs';
import { buildBillingApp } from '@jwt-handoff/example-billing';
import { freePort, type ServicePair, startPair, tempDir } from '@jwt-handoff/testkit';
import type { FastifyInstance } from 'fastify';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from './chromium.js';

// The browser flow in a real Chromium, with server1 and server2 on two different sites.
describe('the handoff in a real browser', () => {
  let pair: ServicePair;
  let browser: { context: BrowserContext; close: () => Promise<void> } | undefined;

  beforeAll(async () => {
    // The sensitive page demands a sign-in at most 1 s old (6 s with the default 5 s leeway).
    pair = await startPair({
      server1Host: 'server1.test',
      server2Host: 'server2.test',
      server2Env: { SENSITIVE_MAX_AGE_SEC: '1' },
    });
  });
  afterAll(async () => {
    await pair?.close();
  });
  afterEach(async () => {
    await browser?.close();
    browser = undefined;
  });

  async function openBrowser(options: { javaScriptEnabled?: boolean } = {}): Promise<Page> {
    browser = await launchBrowser(options);
    return browser.context.pages()[0] ?? browser.context.newPage();
  }

  async function signIn(page: Page, step: string, username = 'alice'): Promise<void> {
    await page.fill('#username', username);
    await page.fill('#password', pair.demoPassword);
    await screenshot(page, `${step}-login-filled`);
    await Promise.all([page.waitForURL(`${pair.server2.url}/`), page.click('button[type=submit]')]);
  }

  async function cookieNames(url: string): Promise<string[]> {
    return (await browser?.context.cookies(url))?.map((cookie) => cookie.name) ?? [];
  }

  it('signs in on server1 and lands back on server2 signed in', async () => {
    const page = await openBrowser();
    await page.goto(`${pair.server2.url}/`);
    expect(page.url()).toMatch(new RegExp(`^${pair.server1.url}/login\\?`));
    await screenshot(page, '1-login-page');

    await signIn(page, '1');
    await expect.poll(() => page.textContent('h1')).toContain('Hello, Alice Liddell');
    await screenshot(page, '1-signed-in-on-server2');
    expect(await page.textContent('#claims')).toContain(pair.server1.url);
    // The Lax state cookie came along on the GET after the cross-site POST, and was cleared.
    expect(await cookieNames(pair.server2.url)).toContain('s2_session');
    expect(await cookieNames(`${pair.server2.url}/handoff/`)).not.toContain('s2_handoff');
  });

  it('needs no password for a second handoff while the server1 session is alive', async () => {
    const page = await openBrowser();
    await page.goto(`${pair.server2.url}/`);
    await signIn(page, '2');

    await Promise.all([
      page.waitForURL(`${pair.server2.url}/signed-out`),
      page.click('text=Sign out of server2'),
    ]);
    await screenshot(page, '2-signed-out-of-server2');
    await Promise.all([page.waitForURL(`${pair.server2.url}/`), page.click('text=Sign in with server1')]);
    await screenshot(page, '2-signed-in-again-without-password');
    expect(await page.textContent('h1')).toContain('Hello, Alice Liddell');
  });

  it('does not replay the token when the user presses Back after the handoff', async () => {
    const page = await openBrowser();
    await page.goto(`${pair.server2.url}/`);
    await signIn(page, '3');
    const sessionBefore = (await browser?.context.cookies(pair.server2.url))?.find(
      (c) => c.name === 's2_session',
    );
    const replaysBefore = await rejections('token_replayed');

    await page.goBack();
    await page.waitForLoadState('load');
    await screenshot(page, '3-after-back-button');

    // Whatever page Back shows, no token was accepted twice and the session was not replaced.
    const sessionAfter = (await browser?.context.cookies(pair.server2.url))?.find(
      (c) => c.name === 's2_session',
    );
    expect(sessionAfter?.value).toBe(sessionBefore?.value);
    expect(await rejections('token_replayed')).toBe(replaysBefore);
    expect(await statusOf(page, `${pair.server2.url}/me`)).toBe(200);
  });

  it('finishes with the <noscript> button in a browser without scripts', async () => {
    const page = await openBrowser({ javaScriptEnabled: false });
    await page.goto(`${pair.server2.url}/`);
    await page.fill('#username', 'alice');
    await page.fill('#password', pair.demoPassword);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/handoff\/authorize/, { timeout: 5000 });
    await screenshot(page, '4-noscript-continue-button');

    await page.click('form[action$="/handoff/callback"] button[type=submit]', { timeout: 5000 });
    await page.waitForURL(`${pair.server2.url}/`, { timeout: 5000 });
    await screenshot(page, '4-noscript-signed-in');
    expect(await page.textContent('h1')).toContain('Hello, Alice Liddell');
  });

  it('ends the server2 session when the user signs out on server1', async () => {
    const page = await openBrowser();
    await page.goto(`${pair.server2.url}/`);
    await signIn(page, '5');

    await page.goto(`${pair.server1.url}/`);
    await screenshot(page, '5-server1-dashboard');
    await Promise.all([
      page.waitForURL(/\/login\?signed_out=1/),
      page.click('form[action="/logout"] button'),
    ]);
    await screenshot(page, '5-signed-out-of-server1');

    await expect.poll(() => statusOf(page, `${pair.server2.url}/me`), { timeout: 2000 }).toBe(401);
    await page.goto(`${pair.server2.url}/`);
    expect(page.url()).toMatch(new RegExp(`^${pair.server1.url}/login`));
    await screenshot(page, '5-server2-asks-to-sign-in-again');
  });

  // As bob: signing out everywhere revokes the user's handoff tokens of that second on server2,
  // which must not touch the other tests' alice.
  it('signs out everywhere with the dashboard button, which posts its sign-out token', async () => {
    const page = await openBrowser();
    await page.goto(`${pair.server2.url}/`);
    await signIn(page, '7', 'bob');

    await page.goto(`${pair.server1.url}/`);
    const token = await page.inputValue('form[action="/logout/everywhere"] input[name="csrf_token"]');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await Promise.all([
      page.waitForURL(/\/login\?signed_out=1/),
      page.click('form[action="/logout/everywhere"] button'),
    ]);
    await screenshot(page, '7-signed-out-everywhere');

    await expect.poll(() => statusOf(page, `${pair.server2.url}/me`), { timeout: 2000 }).toBe(401);
  });

  it('keeps every session cookie out of reach of page scripts (HttpOnly)', async () => {
    const page = await openBrowser();
    await page.goto(`${pair.server2.url}/`);
    await signIn(page, '6');

    expect(await cookieNames(pair.server2.url)).toContain('s2_session');
    expect(await page.evaluate(() => document.cookie)).toBe('');
    await page.goto(`${pair.server1.url}/`);
    expect(await cookieNames(pair.server1.url)).toContain('s1_session');
    expect(await page.evaluate(() => document.cookie)).toBe('');
    await screenshot(page, '6-dashboard-with-activity');
    expect(await page.textContent('body')).toContain('Your activity on server2');
  });

  /** The status of a top-level navigation to `url`, as the user would get it. */
  it('asks for the password again before the sensitive page once the sign-in is old', async () => {
    const page = await openBrowser();
    await page.goto(`${pair.server2.url}/`);
    await signIn(page, '7');
    // Past max_age and the leeway, in whole seconds of auth_time.
    await page.waitForTimeout(7_100);

    await Promise.all([page.waitForURL(/\/login\?reauth=1/), page.click('#sensitive-link')]);
    await screenshot(page, '7-password-asked-again');
    expect(page.url()).toMatch(new RegExp(`^${pair.server1.url}/login\\?`));
    expect(await page.inputValue('#username')).toBe('alice');
    expect(await page.textContent('body')).toContain('enter your password again');
    await page.fill('#password', pair.demoPassword);
    await Promise.all([page.waitForURL(`${pair.server2.url}/sensitive`), page.click('button[type=submit]')]);
    await screenshot(page, '7-sensitive-page');
    expect(await page.textContent('h1')).toContain('Sensitive settings');
    // Signed in again at server1 just now: the page shows the new auth_time.
    const authTime = Number((await page.textContent('#auth-time'))?.split(' ')[0]);
    expect(Date.now() / 1000 - authTime).toBeLessThan(6);
  });

  async function statusOf(page: Page, url: string): Promise<number | undefined> {
    return (await page.goto(url))?.status();
  }

  async function rejections(reason: string): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${new URL(pair.server2.url).port}/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) => l.includes('server2_token_rejections_total') && l.includes(reason));
    return Number(line?.split(' ').at(-1) ?? 0);
  }
});

// RP-initiated logout with both relying apps: server2 and the billing app (examples/billing).
describe('sign out of everything from server2, in a real browser', () => {
  let pair: ServicePair;
  let billing: FastifyInstance;
  let billingUrl: string;
  let billingDir: string;
  let browser: { context: BrowserContext; close: () => Promise<void> } | undefined;

  beforeAll(async () => {
    const port = await freePort();
    billingUrl = `http://localhost:${port}`;
    pair = await startPair({
      server1Host: 'server1.test',
      server2Host: 'server2.test',
      moreClients: [
        {
          id: 'billing',
          redirect_uris: [`${billingUrl}/handoff/callback`],
          backchannel_logout_uri: `http://127.0.0.1:${port}/backchannel-logout`,
        },
      ],
    });
    billingDir = tempDir('billing');
    billing = await buildBillingApp({
      issuer: pair.server1.url,
      jwksUrl: `http://127.0.0.1:${new URL(pair.server1.url).port}/.well-known/jwks.json`,
      publicUrl: billingUrl,
      sessionSecret: 'a-billing-test-secret-of-32-chars-or-more',
      dataDir: billingDir,
    });
    await billing.listen({ port, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await browser?.close();
    await billing?.close();
    await pair?.close();
    if (billingDir) rmSync(billingDir, { recursive: true, force: true });
  });

  it('ends the server1 session and signs the billing app out too', async () => {
    browser = await launchBrowser();
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await page.goto(`${billingUrl}/`);
    await page.fill('#username', 'alice');
    await page.fill('#password', pair.demoPassword);
    await Promise.all([page.waitForURL(`${billingUrl}/`), page.click('button[type=submit]')]);
    expect(await page.textContent('body')).toContain('hello Alice Liddell');
    await page.goto(`${pair.server2.url}/`);
    await page.waitForURL(`${pair.server2.url}/`);
    expect(await page.textContent('h1')).toContain('Hello, Alice Liddell');
    await screenshot(page, '8-signed-in-to-server2-and-billing');

    await Promise.all([
      page.waitForURL(`${pair.server2.url}/signed-out?everywhere=1`),
      page.click('text=Sign out of everything'),
    ]);
    await screenshot(page, '8-signed-out-of-everything');
    expect(await page.textContent('h1')).toContain('You have signed out of everything');

    // server1's session is gone: its dashboard asks for the password.
    await page.goto(`${pair.server1.url}/`);
    expect(page.url()).toMatch(new RegExp(`^${pair.server1.url}/login`));
    expect((await browser.context.cookies(pair.server1.url)).map((cookie) => cookie.name)).not.toContain(
      's1_session',
    );
    // The billing app heard of it through the back-channel.
    await expect
      .poll(async () => (await page.goto(`${billingUrl}/me`))?.status(), { timeout: 3000 })
      .toBe(401);
    await screenshot(page, '8-billing-signed-out');
  });
});
