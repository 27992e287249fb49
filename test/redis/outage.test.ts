import { Browser as HttpBrowser, handoff, type ServicePair, startPair, waitFor } from '@jwt-handoff/testkit';
import { suiteScope } from '@jwt-handoff/testkit/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pageReason } from '../integration/server1/helpers.js';
import {
  Browser,
  expectErrorPage,
  expectJsonError,
  logCollector,
  postBackchannelLogout,
  postCallback,
  type Server2Harness,
  signIn,
  startServer2,
} from '../integration/server2/helpers.js';
import { describeWithRedis, type RedisServer, startRedisServer } from './redis-server.js';

const STORE_UNAVAILABLE = { error: 'temporarily_unavailable', reason: 'store_unavailable' };

/** How long any answer may take while Redis is down or frozen: the connect and command timeouts bound it. */
const BOUND_MS = 2_500;

// server2 on Redis while Redis goes away and comes back, in process: every answer that needs
// the store is a 503 with the reason store_unavailable (never a 500, never an acceptance without
// the replay check), /readyz says not ready, and service resumes without restarting the app.
describeWithRedis('server2 on Redis, when Redis stops and returns', () => {
  const scope = suiteScope();
  const logs = logCollector();
  let redis: RedisServer;
  let server: Server2Harness;
  let signedIn: Browser;

  beforeAll(async () => {
    redis = await startRedisServer(scope);
    server = await startServer2({
      env: { REDIS_URL: redis.url, LOG_LEVEL: 'info' },
      logStream: logs.stream,
      scope,
    });
    await waitFor('server2 to reach Redis', () => server.app.relyingParty.isReady());
  });

  const readyz = () => server.app.inject({ url: '/readyz' });
  /** Sends a request and checks that it was answered within {@link BOUND_MS}. */
  async function timed<T>(request: () => Promise<T>): Promise<T> {
    const started = Date.now();
    const response = await request();
    expect(Date.now() - started).toBeLessThan(BOUND_MS);
    return response;
  }

  it('is ready and signs browsers in while Redis is up', async () => {
    expect((await readyz()).statusCode).toBe(200);
    signedIn = new Browser(server);
    expect((await signIn(server, signedIn)).response.statusCode).toBe(303);
    expect((await signedIn.get('/me')).statusCode).toBe(200);
  });

  it('fails closed while Redis is stopped: 503 store_unavailable, /readyz not ready, no 500', async () => {
    await redis.stop();
    await waitFor('/readyz to turn not ready', async () => (await readyz()).statusCode === 503);
    expect((await readyz()).json()).toEqual({ status: 'not_ready', reason: 'not_ready' });
    // Liveness does not depend on Redis: an orchestrator must not restart the replica for it.
    expect((await server.app.inject({ url: '/healthz' })).statusCode).toBe(200);

    // A valid, never used token: refused, since its jti cannot be checked and recorded.
    const token = await server.mint();
    const callback = await timed(() => postCallback(server, token));
    expectJsonError(callback, 503, 'store_unavailable');
    expect(callback.json()).toEqual(STORE_UNAVAILABLE);
    expect(callback.body).not.toMatch(/\bat .*\.js:\d+/);

    expectErrorPage(
      await timed(() => new Browser(server).get('/handoff/complete?txn=abc')),
      503,
      'store_unavailable',
    );
    expectJsonError(await timed(() => signedIn.get('/me')), 503, 'store_unavailable');
    expectErrorPage(await timed(() => signedIn.get('/', { accept: 'text/html' })), 503, 'store_unavailable');
    // server1 retries a back-channel logout answered 503.
    const logout = await timed(() => postBackchannelLogout(server, { logout_token: '' }));
    expectJsonError(logout, 400, 'token_missing');
    const delivery = await timed(async () =>
      postBackchannelLogout(server, { logout_token: await server.mintLogout() }),
    );
    expectJsonError(delivery, 503, 'store_unavailable');
    // Without a session cookie, no store is asked: a plain 401.
    expectJsonError(await new Browser(server).get('/me'), 401, 'session_missing');
    // Metrics are still served, the store's gauges as NaN.
    const metrics = await timed(() => server.app.inject({ url: '/metrics' }));
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(/^server2_sessions nan$/im);
    expect(metrics.body).toMatch(/^server2_jwks_ready 1$/m);

    const text = logs.text();
    expect(text).toContain('the Redis store cannot be reached');
    expect(text).not.toContain('unhandled error');
    // Reported once, not once per reconnection attempt.
    expect(text.split('the Redis store cannot be reached').length - 1).toBe(1);
  });

  it('recovers by itself when Redis returns, without restarting the app', async () => {
    await redis.start();
    await waitFor('/readyz to turn ready again', async () => (await readyz()).statusCode === 200, 5_000);
    const browser = new Browser(server);
    const run = await signIn(server, browser);
    expect(run.response.statusCode).toBe(303);
    expect((await browser.get('/me')).statusCode).toBe(200);
    expectJsonError(await postCallback(server, run.token), 400, 'token_replayed');
  });

  it('answers within its timeouts, and reports not ready, while Redis is frozen', async () => {
    redis.pause();
    try {
      const token = await server.mint();
      expectJsonError(await timed(() => postCallback(server, token)), 503, 'store_unavailable');
      // The connection is still open, but a command timed out: not ready until one succeeds.
      expect((await readyz()).statusCode).toBe(503);
    } finally {
      redis.resume();
    }
    await waitFor('/readyz to turn ready again', async () => (await readyz()).statusCode === 200, 5_000);
    expect((await signIn(server, new Browser(server))).response.statusCode).toBe(303);
  });
});

// The same outage with server1 and server2 as real processes (server2 on Redis), through the
// browser's whole handoff: the process neither crashes nor needs restarting.
describeWithRedis('server2 as a process on Redis, when Redis stops and returns', () => {
  const scope = suiteScope();
  let redis: RedisServer;
  let pair: ServicePair;
  const alice = () => ({ username: 'alice', password: pair.demoPassword });
  const readyz = async () =>
    (await fetch(`${pair.server2.url.replace('localhost', '127.0.0.1')}/readyz`)).status;

  beforeAll(async () => {
    redis = await startRedisServer(scope);
    pair = await startPair({ server2Env: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'outage-e2e:' } });
  });
  afterAll(async () => {
    await pair?.close();
  });

  it('refuses the handoff with 503 store_unavailable, stays up, and serves again once Redis is back', async () => {
    const before = new HttpBrowser();
    expect((await handoff(before, pair.server2.url, alice())).page.status).toBe(200);

    await redis.stop();
    await waitFor('server2 /readyz to turn not ready', async () => (await readyz()) === 503);
    const during = await handoff(new HttpBrowser(), pair.server2.url, alice());
    // A browser (it asks for HTML) gets the error page, with the reason code on it.
    expect(during.page.status).toBe(503);
    expect(pageReason(during.page.body)).toBe('store_unavailable');
    expect((await before.fetch('GET', `${pair.server2.url}/me`)).status).toBe(503);
    expect(pair.server2.pid()).toBeDefined();

    await redis.start();
    await waitFor('server2 /readyz to turn ready again', async () => (await readyz()) === 200, 5_000);
    const after = await handoff(new HttpBrowser(), pair.server2.url, alice());
    expect(after.page.status).toBe(200);
    expect(pair.server2.pid()).toBeDefined();
    expect(pair.server2.output()).not.toMatch(/unhandled|Unhandled error event/);
  });
});
