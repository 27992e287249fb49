import {
  Browser,
  freePort,
  handoff,
  type ServiceProcess,
  signOut,
  startService,
  waitFor,
} from '@jwt-handoff/testkit';
import { suiteScope, tempDataDir } from '@jwt-handoff/testkit/vitest';
import { beforeAll, expect, it } from 'vitest';
import { describeWithRedis, startRedisServer } from './redis-server.js';

const DEMO_PASSWORD = 'replica-demo-password';

// server1 and two server2 processes on one Redis, over real HTTP. Both replicas have the public URL
// of replica A (as behind a load balancer); the browser's cookie jar, like a browser, keys cookies
// by host and not by port, so replica B sees the cookies A set, as it would behind the balancer.
// server1's back-channel URL for server2 is replica B.
describeWithRedis('two server2 processes on one Redis, over real HTTP', () => {
  const scope = suiteScope();
  let server1: ServiceProcess;
  let a: ServiceProcess;
  let b: ServiceProcess;
  let bUrl: string;
  const alice = { username: 'alice', password: DEMO_PASSWORD };

  beforeAll(async () => {
    const redis = await startRedisServer(scope);
    const [port1, portA, portB] = [await freePort(), await freePort(), await freePort()];
    const server2Url = `http://localhost:${portA}`;
    bUrl = `http://localhost:${portB}`;
    server1 = await startService('server1', {
      PORT: String(port1),
      PUBLIC_URL: `http://localhost:${port1}`,
      DATA_DIR: tempDataDir('replicas-server1', scope),
      SEED_DEMO_USERS: 'true',
      DEMO_PASSWORD,
      LOGOUT_RETRY_BASE_MS: '100',
      LOGOUT_RETRY_MAX_MS: '400',
      CLIENTS: JSON.stringify([
        {
          id: 'server2',
          redirect_uris: [`${server2Url}/handoff/callback`],
          backchannel_logout_uri: `http://127.0.0.1:${portB}/backchannel-logout`,
        },
      ]),
    });
    scope(() => server1.stop());
    const replica = (port: number, name: string) => ({
      PORT: String(port),
      PUBLIC_URL: server2Url,
      ISSUER_URL: `http://localhost:${port1}`,
      JWKS_URL: `http://127.0.0.1:${port1}/.well-known/jwks.json`,
      DATA_DIR: tempDataDir(name, scope),
      REDIS_URL: redis.url,
      SESSION_SECRET: 'two-processes-share-this-secret-0123456789',
    });
    [a, b] = await Promise.all([
      startService('server2', replica(portA, 'replica-a')),
      startService('server2', replica(portB, 'replica-b')),
    ]);
    scope(() => Promise.all([a.stop(), b.stop()]));
  });

  /** A token server1 mints for the signed-in `browser`, for the state `state`. */
  async function tokenFor(browser: Browser, state: string): Promise<string> {
    const query = new URLSearchParams({
      client_id: 'server2',
      redirect_uri: `${a.url}/handoff/callback`,
      state,
    });
    const page = await browser.fetch('GET', `${server1.url}/handoff/authorize?${query}`);
    const token = /name="token" value="([^"]+)"/.exec(page.body)?.[1];
    if (!token) throw new Error(`no token (${page.status}):\n${page.body}`);
    return token;
  }

  const postToken = (url: string, token: string) =>
    fetch(`${url}/handoff/callback`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });

  it('accepts a token posted to both processes at the same moment exactly once, 50 races out of 50', async () => {
    const browser = new Browser();
    expect((await handoff(browser, a.url, alice)).page.status).toBe(200);
    const RACES = 50;
    let acceptedOnce = 0;
    const winners = { a: 0, b: 0 };
    for (let race = 0; race < RACES; race += 1) {
      const token = await tokenFor(browser, `race-${race}`);
      const [atA, atB] = await Promise.all([postToken(a.url, token), postToken(bUrl, token)]);
      const statuses = [atA.status, atB.status];
      if (statuses.filter((status) => status === 303).length === 1) acceptedOnce += 1;
      if (atA.status === 303) winners.a += 1;
      if (atB.status === 303) winners.b += 1;
      const refused = atA.status === 303 ? atB : atA;
      expect(refused.status).toBe(400);
      expect(await refused.json()).toEqual({ error: 'invalid_token', reason: 'token_replayed' });
    }
    console.info(
      `double-spend across two server2 processes: accepted exactly once in ${acceptedOnce} of ${RACES} ` +
        `races (process A won ${winners.a}, process B ${winners.b})`,
    );
    expect(acceptedOnce).toBe(RACES);
  });

  it('shares sessions between the processes, and a sign-out delivered to B ends them at A', async () => {
    const browser = new Browser();
    expect((await handoff(browser, a.url, alice)).page.status).toBe(200);
    expect((await browser.fetch('GET', `${a.url}/me`)).status).toBe(200);
    expect((await browser.fetch('GET', `${bUrl}/me`)).status).toBe(200);

    await signOut(browser, `${server1.url}/`, '/logout/everywhere');
    await waitFor('the sign-out to reach replica A through B', async () => {
      return (await browser.fetch('GET', `${a.url}/me`)).status === 401;
    });
    expect((await browser.fetch('GET', `${bUrl}/me`)).status).toBe(401);
  });
});
