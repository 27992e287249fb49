import { Browser, handoff, type ServicePair, startPair } from '@jwt-handoff/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Polls `check` every 25 ms until it returns true or `timeoutMs` passes; resolves with the wait. */
async function within(timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`not within ${timeoutMs} ms`);
}

const meStatus = async (browser: Browser, server2Url: string) =>
  (await browser.fetch('GET', `${server2Url}/me`)).status;

// Sign-out crossing from server1 to server2 over the back-channel, and the service API call,
// between two real processes.
describe('sign-out that reaches server2, and service calls', () => {
  let pair: ServicePair;
  let credentials: { username: string; password: string };

  beforeAll(async () => {
    // Quick retries, so a delivery queued during an outage lands soon after server2 is back.
    pair = await startPair({ server1Env: { LOGOUT_RETRY_BASE_MS: '100', LOGOUT_RETRY_MAX_MS: '400' } });
    credentials = { username: 'alice', password: pair.demoPassword };
  });
  afterAll(async () => {
    await pair?.close();
  });

  it('ends the server2 session within 2 s of signing out on server1', async () => {
    const browser = new Browser();
    await handoff(browser, pair.server2.url, credentials);
    expect(await meStatus(browser, pair.server2.url)).toBe(200);

    const out = await browser.fetch('POST', `${pair.server1.url}/logout`, '', { origin: pair.server1.url });
    expect(out.status).toBe(303);

    await within(2000, async () => (await meStatus(browser, pair.server2.url)) === 401);
  });

  it('ends only the sessions that came from the server1 session that signed out', async () => {
    const first = new Browser();
    const second = new Browser();
    await handoff(first, pair.server2.url, credentials);
    await handoff(second, pair.server2.url, credentials);

    await first.fetch('POST', `${pair.server1.url}/logout`, '');
    await within(2000, async () => (await meStatus(first, pair.server2.url)) === 401);
    expect(await meStatus(second, pair.server2.url)).toBe(200);
  });

  it('delivers a sign-out made while server2 is down once it is back', async () => {
    const browser = new Browser();
    await handoff(browser, pair.server2.url, credentials);

    expect(await pair.server2.stop()).toBe(0);
    await browser.fetch('POST', `${pair.server1.url}/logout`, '');
    const metrics = await (await fetch(`${pair.server1.url}/metrics`)).text();
    expect(metrics).toMatch(/server1_logout_outbox_depth [1-9]/);

    await pair.server2.start();
    await within(3000, async () => (await meStatus(browser, pair.server2.url)) === 401);
    await within(3000, async () =>
      /server1_logout_outbox_depth 0\b/.test(await (await fetch(`${pair.server1.url}/metrics`)).text()),
    );
  });

  it('refuses a handoff token minted before "sign out everywhere"', async () => {
    const browser = new Browser();
    const signedIn = await handoff(browser, pair.server2.url, credentials);
    expect(signedIn.page.status).toBe(200);

    // A second handoff is started but its token not posted yet.
    const pending = await browser.open(`${pair.server2.url}/handoff/start?return_to=%2F`);
    expect(pending.url).toContain('/handoff/authorize');

    const everywhere = await browser.fetch('POST', `${pair.server1.url}/logout/everywhere`, '');
    expect(everywhere.status).toBe(303);
    await within(2000, async () => (await meStatus(browser, pair.server2.url)) === 401);

    const late = await browser.submitForm(pending, '/handoff/callback');
    expect(late.status).toBe(400);
    expect(JSON.parse(late.body)).toEqual({ error: 'invalid_token', reason: 'token_revoked' });
  });

  it('accepts new handoffs once the revocation second has passed', async () => {
    const browser = new Browser();
    await handoff(browser, pair.server2.url, credentials);
    await browser.fetch('POST', `${pair.server1.url}/logout/everywhere`, '');
    await within(2000, async () => (await meStatus(browser, pair.server2.url)) === 401);
    // Tokens issued in the revocation's own second are refused (documented); the next is fine.
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const again = await handoff(browser, pair.server2.url, credentials);
    expect(again.askedForPassword).toBe(true);
    expect(again.page.status).toBe(200);
  });

  it("shows the user's server2 activity on the server1 dashboard, fetched with a service token", async () => {
    const browser = new Browser();
    await handoff(browser, pair.server2.url, credentials);
    const dashboard = await browser.open(`${pair.server1.url}/`);

    expect(dashboard.status).toBe(200);
    expect(dashboard.body).toContain('Your activity on server2');
    expect(dashboard.body).toMatch(/data-active-sessions>[1-9]/);
    expect(dashboard.body).not.toContain('data-unavailable');
  });

  it('still renders the dashboard within 2 s, with a note, while server2 is down', async () => {
    const browser = new Browser();
    await handoff(browser, pair.server2.url, credentials);
    await pair.server2.stop();
    try {
      const started = Date.now();
      const dashboard = await browser.open(`${pair.server1.url}/`);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(dashboard.status).toBe(200);
      expect(dashboard.body).toContain('data-unavailable');
    } finally {
      await pair.server2.start();
    }
  });
});
