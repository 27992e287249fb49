import { browse, CookieJar, formPost, hiddenField } from '@jwt-handoff/testkit';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, pageReason, responseCookie, type Server1Harness, startServer1 } from './helpers.js';

const MAX_PER_ACCOUNT = 3;
const MAX_PER_ADDRESS = 5;
const WINDOW_MS = 10 * 60_000;

let server: Server1Harness;

// The throttle lives in the app's memory: each test starts with a clean count.
beforeEach(async () => {
  server = await startServer1({
    env: {
      LOGIN_MAX_FAILURES_PER_ACCOUNT: String(MAX_PER_ACCOUNT),
      LOGIN_MAX_FAILURES_PER_ADDRESS: String(MAX_PER_ADDRESS),
      LOGIN_FAILURE_WINDOW_MS: String(WINDOW_MS),
    },
  });
});

/** One sign-in attempt from `address` with a fresh login form. */
async function attempt(username: string, password: string, address = '203.0.113.1') {
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

function expectThrottled(response: Awaited<ReturnType<typeof attempt>>) {
  expect(response.statusCode).toBe(429);
  expect(pageReason(response.body)).toBe('rate_limited');
  const retryAfter = Number(response.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
  expect(responseCookie(response, 's1_session')).toBeUndefined();
}

describe('per-account throttle', () => {
  it(`answers 429 with Retry-After once an account has ${MAX_PER_ACCOUNT} failures`, async () => {
    for (let i = 0; i < MAX_PER_ACCOUNT; i++) {
      expect((await attempt('alice', 'wrong')).statusCode).toBe(401);
    }

    expectThrottled(await attempt('alice', 'wrong'));
  });

  it('refuses even the right password while the account is locked', async () => {
    for (let i = 0; i < MAX_PER_ACCOUNT; i++) await attempt('alice', 'wrong');

    expectThrottled(await attempt('alice', DEMO_PASSWORD));
  });

  it('counts failures for one account across addresses and letter case', async () => {
    for (let i = 0; i < MAX_PER_ACCOUNT; i++) {
      await attempt(i % 2 === 0 ? 'alice' : 'ALICE', 'wrong', `198.51.100.${i + 1}`);
    }

    expectThrottled(await attempt('alice', DEMO_PASSWORD, '198.51.100.99'));
  });

  it('forgets the failures of an account once it signs in', async () => {
    for (let i = 0; i < MAX_PER_ACCOUNT - 1; i++) await attempt('alice', 'wrong');
    expect((await attempt('alice', DEMO_PASSWORD)).statusCode).toBe(303);

    for (let i = 0; i < MAX_PER_ACCOUNT - 1; i++) await attempt('alice', 'wrong', `198.51.100.${i + 1}`);

    expect((await attempt('alice', DEMO_PASSWORD, '198.51.100.99')).statusCode).toBe(303);
  });

  it('leaves other accounts alone', async () => {
    for (let i = 0; i < MAX_PER_ACCOUNT; i++) await attempt('alice', 'wrong');

    expect((await attempt('bob', DEMO_PASSWORD)).statusCode).toBe(303);
  });

  it('lets the account sign in again after the window has passed', async () => {
    for (let i = 0; i < MAX_PER_ACCOUNT; i++) await attempt('alice', 'wrong');
    const throttled = await attempt('alice', DEMO_PASSWORD);
    expectThrottled(throttled);

    server.clock.advance(Number(throttled.headers['retry-after']) * 1000);

    expect((await attempt('alice', DEMO_PASSWORD)).statusCode).toBe(303);
  });
});

describe('per-address throttle', () => {
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

  it('does not hold back another address', async () => {
    for (let i = 0; i < MAX_PER_ADDRESS; i++) await attempt(`user${i}`, 'wrong');

    expect((await attempt('bob', DEMO_PASSWORD, '192.0.2.7')).statusCode).toBe(303);
  });

  it('lets the address sign in again after the window has passed', async () => {
    for (let i = 0; i < MAX_PER_ADDRESS; i++) await attempt(`user${i}`, 'wrong');
    expectThrottled(await attempt('bob', DEMO_PASSWORD));

    server.clock.advance(WINDOW_MS);

    expect((await attempt('bob', DEMO_PASSWORD)).statusCode).toBe(303);
  });
});
