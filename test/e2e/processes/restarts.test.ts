import { Browser, handoff, type ServicePair, signOut, startPair, within } from '@jwt-handoff/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meStatus } from '../support.js';

// What survives stopping and starting the processes: these tests need to control them, so they
// always run against local processes (never against docker-compose services).
describe('restarts and outages of real processes', () => {
  let pair: ServicePair;
  let credentials: { username: string; password: string };

  beforeAll(async () => {
    pair = await startPair({ server1Env: { LOGOUT_RETRY_BASE_MS: '100', LOGOUT_RETRY_MAX_MS: '400' } });
    credentials = { username: 'alice', password: pair.demoPassword };
  });
  afterAll(async () => {
    await pair?.close();
  });

  it('serves the process metrics next to its own on /metrics of both services (runService asks)', async () => {
    for (const [service, own] of [
      [pair.server1, /^server1_sessions \d+$/m],
      [pair.server2, /^server2_jwks_ready 1$/m],
    ] as const) {
      const text = await (await fetch(`${service.url}/metrics`)).text();
      expect(text).toMatch(own);
      expect(text).toMatch(/^process_cpu_user_seconds_total [\d.e+-]+$/m);
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds [\d.e+-]+$/m);
      expect(text).toMatch(/^nodejs_heap_size_used_bytes \d+$/m);
    }
  });

  it('keeps the session and still refuses a replayed token after server2 restarts', async () => {
    const browser = new Browser();
    const run = await handoff(browser, pair.server2.url, credentials);

    expect(await pair.server2.stop()).toBe(0);
    await pair.server2.start();

    expect(await meStatus(browser, pair.server2.url)).toBe(200);
    const replay = await new Browser().fetch(
      'POST',
      `${pair.server2.url}/handoff/callback`,
      new URLSearchParams({ token: run.token }).toString(),
      { accept: 'application/json' },
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

  it('delivers a sign-out made while server2 is down once it is back', async () => {
    const browser = new Browser();
    await handoff(browser, pair.server2.url, credentials);

    expect(await pair.server2.stop()).toBe(0);
    await signOut(browser, `${pair.server1.url}/`);
    const metrics = await (await fetch(`${pair.server1.url}/metrics`)).text();
    expect(metrics).toMatch(/server1_logout_outbox_depth [1-9]/);

    await pair.server2.start();
    await within(3000, async () => (await meStatus(browser, pair.server2.url)) === 401);
    await within(3000, async () =>
      /server1_logout_outbox_depth 0\b/.test(await (await fetch(`${pair.server1.url}/metrics`)).text()),
    );
  });

  it('keeps a queued sign-out across a server1 restart', async () => {
    const browser = new Browser();
    await handoff(browser, pair.server2.url, credentials);

    await pair.server2.stop();
    await signOut(browser, `${pair.server1.url}/`);
    expect(await pair.server1.stop()).toBe(0);
    await pair.server1.start();
    await pair.server2.start();

    await within(3000, async () => (await meStatus(browser, pair.server2.url)) === 401);
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

  it('shuts down promptly on SIGTERM', async () => {
    const started = Date.now();
    expect(await pair.server2.stop()).toBe(0);
    expect(Date.now() - started).toBeLessThan(3000);
    await pair.server2.start();
  });
});
