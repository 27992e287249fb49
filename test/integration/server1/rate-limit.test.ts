import { loadConfig } from '@jwt-handoff/server1';
import { browse, CookieJar, formPost, hiddenField } from '@jwt-handoff/testkit';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, pageReason, responseCookie, type Server1Harness, startServer1 } from './helpers.js';

const WINDOW_MS = 10 * 60_000;
const ATTACKER = '203.0.113.1';
const OWNER = '192.0.2.7';

let server: Server1Harness;

/** A fresh server1 for each test of the block (the throttle lives in the app's memory). */
function useServer(env: Record<string, string> = {}) {
  beforeEach(async () => {
    server = await startServer1({ env: { LOGIN_FAILURE_WINDOW_MS: String(WINDOW_MS), ...env } });
  });
}

/** One sign-in attempt from `address` with a fresh login form. */
async function attempt(username: string, password: string, address = ATTACKER) {
  const jar = new CookieJar();
  const form = await browse(server.app, jar, { url: '/login', remoteAddress: address });
  return browse(server.app, jar, {
    ...formPost('/login', {
      csrf_token: hiddenField(form.body, 'csrf_token'),
      return_to: '/',
      username,
      password,
    }),
    remoteAddress: address,
  });
}

/** Asserts a 429 `rate_limited` without a session; returns its Retry-After in seconds. */
function expectThrottled(response: Awaited<ReturnType<typeof attempt>>): number {
  expect(response.statusCode).toBe(429);
  expect(pageReason(response.body)).toBe('rate_limited');
  const retryAfter = Number(response.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
  expect(responseCookie(response, 's1_session')).toBeUndefined();
  return retryAfter;
}

describe('failures of one account from one address: growing delays, not a lock', () => {
  const FREE = 3;
  useServer({ LOGIN_DELAY_AFTER_FAILURES: String(FREE), LOGIN_DELAY_BASE_MS: '1000' });

  it(`lets ${FREE} failures through, then answers 429 with a Retry-After of 1 s`, async () => {
    for (let i = 0; i < FREE; i++) {
      expect((await attempt('alice', 'wrong')).statusCode).toBe(401);
    }

    expect(expectThrottled(await attempt('alice', 'wrong'))).toBe(1);
  });

  it('doubles the wait after each further failure', async () => {
    for (let i = 0; i < FREE; i++) await attempt('alice', 'wrong');

    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const wait = expectThrottled(await attempt('alice', 'wrong'));
      waits.push(wait);
      server.clock.advance(wait * 1000);
      expect((await attempt('alice', 'wrong')).statusCode).toBe(401);
    }

    expect(waits).toEqual([1, 2, 4, 8]);
    expect(expectThrottled(await attempt('alice', 'wrong'))).toBe(16);
  });

  it("counts a browser's redirected failures too, and tells the browser when it may try again", async () => {
    const html = { accept: 'text/html,*/*;q=0.8' };
    const jar = new CookieJar();
    const browserAttempt = async () => {
      const form = await browse(server.app, jar, { url: '/login', headers: html, remoteAddress: ATTACKER });
      return browse(server.app, jar, {
        ...formPost(
          '/login',
          {
            csrf_token: hiddenField(form.body, 'csrf_token'),
            return_to: '/',
            username: 'alice',
            password: 'wrong',
          },
          html,
        ),
        remoteAddress: ATTACKER,
      });
    };
    for (let i = 0; i < FREE; i++) expect((await browserAttempt()).statusCode).toBe(303);
    // Wait out the first delay (1 s) and fail again: the next delay is 2 s.
    server.clock.advance(expectThrottled(await browserAttempt()) * 1000);
    expect((await browserAttempt()).statusCode).toBe(303);

    const throttled = await browserAttempt();

    expect(expectThrottled(throttled)).toBe(2);
    expect(throttled.body).toContain('data-retry-after="2"');
    expect(throttled.body).toContain('You can try again in <strong>2 s</strong>.');
    expect(throttled.body).toContain('<h1>Please wait before trying again</h1>');
  });

  it('refuses even the right password during the wait, and takes it once the wait is over', async () => {
    for (let i = 0; i < FREE; i++) await attempt('alice', 'wrong');
    const wait = expectThrottled(await attempt('alice', DEMO_PASSWORD));

    server.clock.advance(wait * 1000);

    expect((await attempt('alice', DEMO_PASSWORD)).statusCode).toBe(303);
  });

  it('counts the same account whatever the letter case', async () => {
    for (let i = 0; i < FREE; i++) await attempt(i % 2 === 0 ? 'alice' : 'ALICE', 'wrong');

    expectThrottled(await attempt('Alice', 'wrong'));
  });

  it('starts the count again once the account signs in from that address', async () => {
    for (let i = 0; i < FREE - 1; i++) await attempt('alice', 'wrong');
    expect((await attempt('alice', DEMO_PASSWORD)).statusCode).toBe(303);

    for (let i = 0; i < FREE; i++) {
      expect((await attempt('alice', 'wrong')).statusCode).toBe(401);
    }
    expectThrottled(await attempt('alice', 'wrong'));
  });

  it('does not hold back the same address on another account', async () => {
    for (let i = 0; i < FREE; i++) await attempt('alice', 'wrong');

    expect((await attempt('bob', DEMO_PASSWORD)).statusCode).toBe(303);
  });
});

describe('an attacker elsewhere (the default limits)', () => {
  useServer();

  it("lets the owner sign in from another address after an attacker's failures elsewhere", async () => {
    for (const address of [ATTACKER, '203.0.113.2', '203.0.113.3']) {
      for (let i = 0; i < 5; i++) {
        expect((await attempt('alice', 'wrong', address)).statusCode).toBe(401);
      }
      expectThrottled(await attempt('alice', DEMO_PASSWORD, address));
    }

    expect((await attempt('alice', DEMO_PASSWORD, OWNER)).statusCode).toBe(303);
  });

  it("keeps the attacker's address waiting after the owner has signed in elsewhere", async () => {
    for (let i = 0; i < 5; i++) await attempt('alice', 'wrong');
    expect((await attempt('alice', DEMO_PASSWORD, OWNER)).statusCode).toBe(303);

    expectThrottled(await attempt('alice', 'wrong'));
  });
});

describe('the per-account ceiling, against guessing from many addresses', () => {
  const MAX_PER_ACCOUNT = 6;
  useServer({ LOGIN_MAX_FAILURES_PER_ACCOUNT: String(MAX_PER_ACCOUNT) });

  it(`answers 429, even to the right password, once an account has ${MAX_PER_ACCOUNT} failures from any addresses`, async () => {
    for (let i = 0; i < MAX_PER_ACCOUNT; i++) {
      const response = await attempt(i % 2 === 0 ? 'alice' : 'ALICE', 'wrong', `198.51.100.${i + 1}`);
      expect(response.statusCode).toBe(401);
    }

    expectThrottled(await attempt('alice', DEMO_PASSWORD, OWNER));
  });

  it('forgets the failures of an account once it signs in', async () => {
    for (let i = 0; i < MAX_PER_ACCOUNT - 1; i++) await attempt('alice', 'wrong', `198.51.100.${i + 1}`);
    expect((await attempt('alice', DEMO_PASSWORD, OWNER)).statusCode).toBe(303);

    for (let i = 0; i < MAX_PER_ACCOUNT - 1; i++) await attempt('alice', 'wrong', `198.51.100.${i + 1}`);

    expect((await attempt('alice', DEMO_PASSWORD, OWNER)).statusCode).toBe(303);
  });

  it('leaves other accounts alone', async () => {
    for (let i = 0; i < MAX_PER_ACCOUNT; i++) await attempt('alice', 'wrong', `198.51.100.${i + 1}`);

    expect((await attempt('bob', DEMO_PASSWORD, OWNER)).statusCode).toBe(303);
  });

  it('lets the account sign in again after the window has passed', async () => {
    for (let i = 0; i < MAX_PER_ACCOUNT; i++) await attempt('alice', 'wrong', `198.51.100.${i + 1}`);
    const throttled = await attempt('alice', DEMO_PASSWORD, OWNER);
    server.clock.advance(expectThrottled(throttled) * 1000);

    expect((await attempt('alice', DEMO_PASSWORD, OWNER)).statusCode).toBe(303);
  });
});

describe('per-address throttle', () => {
  const MAX_PER_ADDRESS = 5;
  useServer({ LOGIN_MAX_FAILURES_PER_ADDRESS: String(MAX_PER_ADDRESS) });

  it(`answers 429 once one address has ${MAX_PER_ADDRESS} failures over different usernames`, async () => {
    for (let i = 0; i < MAX_PER_ADDRESS; i++) {
      expect((await attempt(`user${i}`, 'wrong')).statusCode).toBe(401);
    }

    expectThrottled(await attempt('someone-else', 'wrong'));
  });

  it('refuses the right password of an untouched account from that address', async () => {
    for (let i = 0; i < MAX_PER_ADDRESS; i++) await attempt(`user${i}`, 'wrong');

    expectThrottled(await attempt('bob', DEMO_PASSWORD));
  });

  it('keeps counting after a sign-in from that address', async () => {
    for (let i = 0; i < MAX_PER_ADDRESS - 1; i++) await attempt(`user${i}`, 'wrong');
    expect((await attempt('bob', DEMO_PASSWORD)).statusCode).toBe(303);

    expect((await attempt('someone', 'wrong')).statusCode).toBe(401);
    expectThrottled(await attempt('someone-else', 'wrong'));
  });

  it('does not hold back another address', async () => {
    for (let i = 0; i < MAX_PER_ADDRESS; i++) await attempt(`user${i}`, 'wrong');

    expect((await attempt('bob', DEMO_PASSWORD, OWNER)).statusCode).toBe(303);
  });

  it('lets the address sign in again after the window has passed', async () => {
    for (let i = 0; i < MAX_PER_ADDRESS; i++) await attempt(`user${i}`, 'wrong');
    expectThrottled(await attempt('bob', DEMO_PASSWORD));

    server.clock.advance(WINDOW_MS);

    expect((await attempt('bob', DEMO_PASSWORD)).statusCode).toBe(303);
  });
});

describe('the throttle settings', () => {
  it('defaults to growing waits after 5 failures per address, 20 per address and a ceiling of 100 per account', () => {
    expect(loadConfig({})).toMatchObject({
      loginDelayAfterFailures: 5,
      loginDelayBaseMs: 1000,
      loginMaxFailuresPerAccount: 100,
      loginMaxFailuresPerAddress: 20,
      loginFailureWindowMs: 15 * 60_000,
      loginMaxConcurrentHashes: 2,
      loginMaxQueuedHashes: 8,
    });
  });

  it.each([
    ['LOGIN_DELAY_AFTER_FAILURES', { LOGIN_DELAY_AFTER_FAILURES: '0' }],
    ['LOGIN_DELAY_BASE_MS', { LOGIN_DELAY_BASE_MS: '1s' }],
    ['LOGIN_DELAY_BASE_MS', { LOGIN_DELAY_BASE_MS: '120000', LOGIN_FAILURE_WINDOW_MS: '60000' }],
    ['LOGIN_MAX_CONCURRENT_HASHES', { LOGIN_MAX_CONCURRENT_HASHES: '0' }],
    ['LOGIN_MAX_QUEUED_HASHES', { LOGIN_MAX_QUEUED_HASHES: '-1' }],
  ])('refuses to start with a bad %s, naming it', (name, env) => {
    expect(() => loadConfig(env)).toThrow(name);
  });
});
