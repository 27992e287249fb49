import { HSTS_POLICY } from '@jwt-handoff/shared';
import {
  Browser,
  createTestCa,
  freePort,
  handoff,
  hiddenField,
  parseSetCookie,
  type ServicePair,
  signOut,
  startPair,
  type TestCa,
  testAgent,
  within,
} from '@jwt-handoff/testkit';
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningNginx, startNginx } from './nginx.js';

// server1 and server2 behind nginx, which terminates TLS for two host names with a certificate
// made for the run, as deploy/nginx's template configures it. The services speak plain http on
// loopback and believe one proxy hop (TRUST_PROXY=1). The host names resolve in the test client
// only (testAgent's `hosts`), so nothing in /etc/hosts changes.
const SERVER1_HOST = 'id.localtest';
const SERVER2_HOST = 'app.localtest';
const MAX_FAILURES_PER_ADDRESS = 5;
const HOSTS = { [SERVER1_HOST]: '127.0.0.1', [SERVER2_HOST]: '127.0.0.1', 'other.localtest': '127.0.0.1' };
const THROTTLE_ENV = {
  LOGIN_MAX_FAILURES_PER_ADDRESS: String(MAX_FAILURES_PER_ADDRESS),
  // High enough that no account is locked: only the per-address count can answer 429.
  LOGIN_MAX_FAILURES_PER_ACCOUNT: '100',
};

/**
 * One sign-in on server1 through the proxy, with a forged X-Forwarded-For if given. It asks for
 * JSON, as a scripted spray would: a failure is then 401 (a browser asking for HTML is sent back
 * to the form with a 303 instead, post/redirect/get), and a success is the 303 onwards.
 */
async function signInThrough(
  server1Url: string,
  browser: Browser,
  credentials: { username: string; password: string },
  forwardedFor?: string,
) {
  const form = await browser.open(`${server1Url}/login`);
  const body = new URLSearchParams({
    csrf_token: hiddenField(form.body, 'csrf_token'),
    return_to: '/',
    ...credentials,
  }).toString();
  return browser.fetch('POST', `${server1Url}/login`, body, {
    origin: server1Url,
    accept: 'application/json',
    ...(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }),
  });
}

/**
 * A password spray from 127.0.0.2 through nginx, each attempt on another account and forging
 * another X-Forwarded-For, is throttled after MAX_FAILURES_PER_ADDRESS failures, even when it then
 * claims 127.0.0.3's address with the right password; the client really at 127.0.0.3 signs in.
 */
async function expectThrottleByClientAddress(
  server1Url: string,
  password: string,
  browserAt: (address: string) => Browser,
) {
  const sprayer = browserAt('127.0.0.2');
  const statuses: number[] = [];
  for (let i = 1; i <= MAX_FAILURES_PER_ADDRESS; i++) {
    const credentials = { username: `user${i}`, password: 'wrong' };
    statuses.push((await signInThrough(server1Url, sprayer, credentials, `203.0.113.${i}`)).status);
  }
  expect(statuses).toEqual(Array(MAX_FAILURES_PER_ADDRESS).fill(401));

  // nginx replaced the forged header with the address it accepted the connection from.
  const forged = await signInThrough(server1Url, sprayer, { username: 'alice', password }, '127.0.0.3');
  expect(forged.status).toBe(429);

  // The client really at 127.0.0.3 is counted apart: the count is not nginx's own address's.
  const other = await signInThrough(server1Url, browserAt('127.0.0.3'), { username: 'alice', password });
  expect(other.status).toBe(303);
}

/** One replica of each service behind nginx, as {@link startBehindNginx} starts them. */
interface ProxiedPair {
  readonly ca: TestCa;
  readonly pair: ServicePair;
  readonly server1Url: string;
  readonly server2Url: string;
  /** nginx's plain-http port, which only redirects. */
  readonly httpPort: number;
  /** A browser whose connections come from `address` (loopback has all of 127.0.0.0/8). */
  browserAt(address: string): Browser;
  close(): Promise<void>;
}

/**
 * server1 and server2 behind nginx with a certificate from a CA made for the run (`caName`), both
 * services with `trustProxy` as TRUST_PROXY. One replica of each (their SQLite stores cannot be
 * shared), listed twice in the template's two upstream slots; replicas.test.ts runs two of each
 * for what needs no shared state, and test/topology two of each on PostgreSQL and Redis.
 */
async function startBehindNginx(
  caName: string,
  trustProxy: string,
  server1Env: Record<string, string>,
): Promise<ProxiedPair> {
  const ca = createTestCa(caName);
  const certificate = ca.issue('nginx', [SERVER1_HOST, SERVER2_HOST]);
  const httpsPort = await freePort();
  const httpPort = await freePort();
  const server1Url = `https://${SERVER1_HOST}:${httpsPort}`;
  const server2Url = `https://${SERVER2_HOST}:${httpsPort}`;
  const pair = await startPair({
    publicUrls: { server1: server1Url, server2: server2Url },
    server1Env: { TRUST_PROXY: trustProxy, ...server1Env },
    server2Env: { TRUST_PROXY: trustProxy },
  });
  const server1 = `127.0.0.1:${pair.server1.env.PORT}`;
  const server2 = `127.0.0.1:${pair.server2.env.PORT}`;
  const nginx: RunningNginx = await startNginx({
    hosts: { server1: SERVER1_HOST, server2: SERVER2_HOST },
    httpsPort,
    httpPort,
    certificate,
    replicas: { server1: [server1, server1], server2: [server2, server2] },
  });
  const agents: Agent[] = [];
  return {
    ca,
    pair,
    server1Url,
    server2Url,
    httpPort,
    browserAt(address) {
      const agent = testAgent({ caFiles: [ca.caFile], hosts: HOSTS, localAddress: address });
      agents.push(agent);
      return new Browser({ dispatcher: agent });
    },
    async close() {
      await nginx.stop();
      await pair.close();
      await Promise.all(agents.map((agent) => agent.close()));
      ca.remove();
    },
  };
}

describe('server1 and server2 behind nginx over https', () => {
  let proxied: ProxiedPair;
  let pair: ServicePair;
  let server1Url: string;
  let server2Url: string;
  let httpPort: number;
  const browserAt = (address: string) => proxied.browserAt(address);

  const signIn = (browser: Browser, username: string, password: string, forwardedFor?: string) =>
    signInThrough(server1Url, browser, { username, password }, forwardedFor);

  beforeAll(async () => {
    proxied = await startBehindNginx('proxy', '1', {
      ...THROTTLE_ENV,
      LOGOUT_RETRY_BASE_MS: '100',
      LOGOUT_RETRY_MAX_MS: '400',
    });
    ({ pair, server1Url, server2Url, httpPort } = proxied);
  });

  afterAll(async () => {
    await proxied?.close();
  });

  it('hands off through the proxy, and a sign-out on server1 reaches server2', async () => {
    const browser = browserAt('127.0.0.1');

    const run = await handoff(browser, server2Url, { username: 'alice', password: pair.demoPassword });

    expect(run.askedForPassword).toBe(true);
    expect(run.page.status).toBe(200);
    expect(run.page.url).toBe(`${server2Url}/`);
    expect(run.page.trail.every((url) => url.startsWith('https://'))).toBe(true);
    // The only cookies either host set are the __Host- ones.
    expect(browser.cookies.header(`${server1Url}/`)).toMatch(/^(__Host-s1_[a-z_]+=[^;]+(; )?)+$/);
    expect(browser.cookies.header(`${server1Url}/`)).toContain('__Host-s1_session=');
    expect(browser.cookies.header(`${server2Url}/`)).toMatch(/^__Host-s2_session=[^;]+$/);
    expect((await browser.fetch('GET', `${server2Url}/me`)).status).toBe(200);

    await signOut(browser, `${server1Url}/`);
    await within(2000, async () => (await browser.fetch('GET', `${server2Url}/me`)).status === 401);
  });

  it('sends HSTS and sets Secure __Host- cookies on both host names', async () => {
    const browser = browserAt('127.0.0.1');

    const start = await browser.fetch('GET', `${server2Url}/handoff/start?return_to=%2F`);
    const signedIn = await signIn(browser, 'bob', pair.demoPassword);

    expect(start.status).toBe(303);
    expect(signedIn.status).toBe(303);
    for (const [page, cookie] of [
      [start, '__Host-s2_handoff'],
      [signedIn, '__Host-s1_session'],
    ] as const) {
      expect(page.headers.get('strict-transport-security')).toBe(HSTS_POLICY);
      const set = page.headers.getSetCookie().map(parseSetCookie);
      const named = set.find((entry) => entry.name === cookie);
      expect(named?.attributes).toMatchObject({ secure: true, httponly: true, path: '/' });
      expect(named?.attributes.domain).toBeUndefined();
      expect(set.every((entry) => entry.name.startsWith('__Host-'))).toBe(true);
    }
  });

  it("counts sign-in failures by the client's own address, whatever X-Forwarded-For it forges", async () => {
    await expectThrottleByClientAddress(server1Url, pair.demoPassword, browserAt);
  });

  it('redirects plain http to https', async () => {
    const page = await browserAt('127.0.0.1').fetch('GET', `http://${SERVER1_HOST}:${httpPort}/login`);

    expect(page.status).toBe(301);
    expect(page.headers.get('location')).toBe(`https://${SERVER1_HOST}/login`);
  });

  it('answers no TLS handshake for any other host name', async () => {
    const browser = browserAt('127.0.0.1');
    const port = new URL(server1Url).port;

    // nginx answers the handshake with the TLS alert unrecognized_name (112).
    await expect(browser.fetch('GET', `https://other.localtest:${port}/`)).rejects.toThrow(
      expect.objectContaining({
        cause: expect.objectContaining({ message: expect.stringMatching(/unrecognized name/) }),
      }),
    );
  });
});

// TRUST_PROXY as a list: the services believe X-Forwarded-For only from the listed proxy address
// (nginx connects to them from 127.0.0.1), and the same spray is throttled the same way.
describe('server1 behind nginx with TRUST_PROXY listing the proxy', () => {
  let proxied: ProxiedPair;

  beforeAll(async () => {
    proxied = await startBehindNginx('proxy-list', '127.0.0.1/32,::1', THROTTLE_ENV);
  });

  afterAll(async () => {
    await proxied?.close();
  });

  it("counts sign-in failures by the client's own address, whatever X-Forwarded-For it forges", async () => {
    await expectThrottleByClientAddress(proxied.server1Url, proxied.pair.demoPassword, proxied.browserAt);
  });
});
