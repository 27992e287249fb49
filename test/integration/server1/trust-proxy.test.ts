import { browse, CookieJar, formPost, hiddenField } from '@jwt-handoff/testkit';
import { describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, type Server1Harness, startServer1 } from './helpers.js';

// The sign-in throttle counts failures per client address (request.ip): it shows which address
// the service believes a request came from, the one thing TRUST_PROXY decides.
const MAX_PER_ADDRESS = 5;
const PROXY = '10.0.0.2';
const CLIENT = '198.51.100.7';

function start(trustProxy: string): Promise<Server1Harness> {
  return startServer1({
    env: {
      TRUST_PROXY: trustProxy,
      LOGIN_MAX_FAILURES_PER_ADDRESS: String(MAX_PER_ADDRESS),
      // High enough that no account is locked: only the per-address count can answer 429.
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '100',
    },
  });
}

/** One sign-in attempt arriving over a socket from `remoteAddress` with `forwardedFor`. */
async function attempt(
  server: Server1Harness,
  username: string,
  password: string,
  remoteAddress: string,
  forwardedFor?: string,
) {
  const headers = forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor };
  const jar = new CookieJar();
  const form = await browse(server.app, jar, { url: '/login', remoteAddress, headers });
  return browse(server.app, jar, {
    ...formPost(
      '/login',
      { csrf_token: hiddenField(form.body, 'csrf_token'), return_to: '/', username, password },
      headers,
    ),
    remoteAddress,
  });
}

/** A password spray from CLIENT through the proxy, forging a new left-most address each time. */
async function sprayThroughProxy(server: Server1Harness, attempts: number) {
  const statuses: number[] = [];
  for (let i = 0; i < attempts; i++) {
    const response = await attempt(server, `user${i}`, 'wrong', PROXY, `203.0.113.${i + 1}, ${CLIENT}`);
    statuses.push(response.statusCode);
  }
  return statuses;
}

describe('TRUST_PROXY as a hop count', () => {
  it('counts the address the proxy appended, not a forged left-most one', async () => {
    const server = await start('1');

    const statuses = await sprayThroughProxy(server, MAX_PER_ADDRESS + 3);

    expect(statuses.slice(0, MAX_PER_ADDRESS)).toEqual(Array(MAX_PER_ADDRESS).fill(401));
    expect(statuses.slice(MAX_PER_ADDRESS)).toEqual([429, 429, 429]);
  });

  it('keeps apart two clients behind the same proxy', async () => {
    const server = await start('1');
    await sprayThroughProxy(server, MAX_PER_ADDRESS);

    const other = await attempt(server, 'bob', DEMO_PASSWORD, PROXY, '192.0.2.44');

    expect(other.statusCode).toBe(303);
  });
});

describe('TRUST_PROXY as a list of proxy addresses', () => {
  it('counts the address the listed proxy appended, not a forged left-most one', async () => {
    const server = await start('127.0.0.1, 10.0.0.0/8');

    const statuses = await sprayThroughProxy(server, MAX_PER_ADDRESS + 1);

    expect(statuses.at(-1)).toBe(429);
    expect((await attempt(server, 'bob', DEMO_PASSWORD, PROXY, '192.0.2.44')).statusCode).toBe(303);
  });

  it('ignores X-Forwarded-For from a peer that is not a listed proxy', async () => {
    const server = await start('10.0.0.0/8');

    // A direct client that is not a listed proxy: its own header changes nothing, so each new
    // address it claims is still counted against its socket address.
    for (let i = 0; i < MAX_PER_ADDRESS; i++) {
      await attempt(server, `user${i}`, 'wrong', CLIENT, `203.0.113.${i + 1}`);
    }

    expect((await attempt(server, 'bob', DEMO_PASSWORD, CLIENT, '192.0.2.44')).statusCode).toBe(429);
  });
});

describe('without TRUST_PROXY', () => {
  it('counts the socket address and ignores X-Forwarded-For', async () => {
    const server = await startServer1({
      env: { LOGIN_MAX_FAILURES_PER_ADDRESS: String(MAX_PER_ADDRESS), LOGIN_MAX_FAILURES_PER_ACCOUNT: '100' },
    });

    for (let i = 0; i < MAX_PER_ADDRESS; i++) {
      await attempt(server, `user${i}`, 'wrong', CLIENT, `203.0.113.${i + 1}`);
    }

    expect((await attempt(server, 'bob', DEMO_PASSWORD, CLIENT, '192.0.2.44')).statusCode).toBe(429);
  });
});
