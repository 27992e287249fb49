import { join } from 'node:path';
import {
  buildApp,
  createScryptHasher,
  loadConfig,
  type PasswordHasher,
  SCRYPT_DEFAULTS,
} from '@jwt-handoff/server1';
import { browse, CookieJar, formPost, hiddenField, testClock } from '@jwt-handoff/testkit';
import { runningApp, tempDataDir } from '@jwt-handoff/testkit/vitest';
import Database from 'better-sqlite3';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, PUBLIC_URL, pageReason, responseCookie, TEST_CLIENTS } from './helpers.js';

// Cheap scrypt parameters, as in helpers.ts: these tests count and hold hashes, they do not
// need them slow.
const CHEAP = { cost: 2 ** 10, blockSize: 8, parallelization: 1, keyLength: 32 };

/** A hasher that counts the password checks that reach it, and can hold them until released. */
interface CountingHasher extends PasswordHasher {
  /** verify and burn calls so far: the sign-ins whose password was checked. */
  readonly checks: number;
  /** Checks started and not finished yet. */
  readonly inFlight: number;
  /** The most checks ever running at once. */
  readonly maxInFlight: number;
  /** Makes checks wait from now on until {@link CountingHasher.release}. */
  hold(): void;
  release(): void;
}

function countingHasher(inner: PasswordHasher = createScryptHasher(CHEAP)): CountingHasher {
  let checks = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let gate: Promise<void> = Promise.resolve();
  let open = () => {};
  const counted = async <T>(check: () => Promise<T>): Promise<T> => {
    checks++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await gate;
      return await check();
    } finally {
      inFlight--;
    }
  };
  return {
    get checks() {
      return checks;
    },
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    hold() {
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    release: () => open(),
    hash: (password) => inner.hash(password),
    verify: (password, stored) => counted(() => inner.verify(password, stored)),
    burn: (password) => counted(() => inner.burn(password)),
    needsRehash: (stored) => inner.needsRehash(stored),
  };
}

/** server1 built with `passwordHasher` through deps, on `dataDir` (default: a fresh one). */
async function startWith(
  passwordHasher: PasswordHasher,
  env: Record<string, string> = {},
  dataDir = tempDataDir('jwt-handoff-server1'),
) {
  const clock = testClock();
  const config = loadConfig({
    PUBLIC_URL,
    DATA_DIR: dataDir,
    CLIENTS: JSON.stringify(TEST_CLIENTS),
    SEED_DEMO_USERS: 'true',
    DEMO_PASSWORD,
    LOG_LEVEL: 'silent',
    ...env,
  });
  return runningApp(() => buildApp(config, { now: clock.now, passwordHasher }), { clock, dataDir });
}

/** A login form's CSRF token, with its cookie, to post any number of sign-ins with. */
async function loginForm(app: FastifyInstance) {
  const jar = new CookieJar();
  const form = await browse(app, jar, { url: '/login' });
  return { jar, csrfToken: hiddenField(form.body, 'csrf_token') };
}

/** POSTs one sign-in from `address` with the form of {@link loginForm}. */
function postLogin(
  app: FastifyInstance,
  form: Awaited<ReturnType<typeof loginForm>>,
  username: string,
  password: string,
  address: string,
): Promise<LightMyRequestResponse> {
  return app.inject({
    ...formPost(
      '/login',
      { csrf_token: form.csrfToken, return_to: '/', username, password },
      { cookie: form.jar.header('/login') ?? '' },
    ),
    remoteAddress: address,
  });
}

const statusCounts = (responses: readonly LightMyRequestResponse[]) =>
  responses.reduce<Record<number, number>>((counts, { statusCode }) => {
    counts[statusCode] = (counts[statusCode] ?? 0) + 1;
    return counts;
  }, {});

/** Waits (on real time, briefly) until `condition` holds. */
async function until(condition: () => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The promise, with whether it has settled yet. */
function tracked<T>(promise: Promise<T>) {
  const state = { promise, settled: false };
  promise.then(
    () => {
      state.settled = true;
    },
    () => {
      state.settled = true;
    },
  );
  return state;
}

describe('concurrent sign-ins', () => {
  it('checks only the allowance of 200 concurrent wrong passwords at one account from one address, and refuses the right one sent last', async () => {
    const hasher = countingHasher();
    const server = await startWith(hasher);
    const form = await loginForm(server.app);

    const responses = await Promise.all([
      ...Array.from({ length: 200 }, () => postLogin(server.app, form, 'alice', 'wrong', '203.0.113.1')),
      postLogin(server.app, form, 'alice', DEMO_PASSWORD, '203.0.113.1'),
    ]);

    // LOGIN_DELAY_AFTER_FAILURES defaults to 5: the five free failures of the pair, no more.
    expect(hasher.checks).toBe(5);
    expect(statusCounts(responses)).toEqual({ 401: 5, 429: 196 });
    const last = responses[200] as LightMyRequestResponse;
    expect(last.statusCode).toBe(429);
    expect(pageReason(last.body)).toBe('rate_limited');
    expect(responseCookie(last, 's1_session')).toBeUndefined();
  });

  it('checks no more than the per-account ceiling of 200 concurrent wrong passwords from 200 addresses', async () => {
    const hasher = countingHasher();
    // Room for every hash at once, so that only the throttle can hold them back.
    const server = await startWith(hasher, {
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '100',
      LOGIN_MAX_CONCURRENT_HASHES: '256',
      LOGIN_MAX_QUEUED_HASHES: '1000',
    });
    const form = await loginForm(server.app);

    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        postLogin(server.app, form, 'alice', 'wrong', `10.0.${i >> 8}.${i & 255}`),
      ),
    );

    expect(hasher.checks).toBe(100);
    expect(statusCounts(responses)).toEqual({ 401: 100, 429: 100 });
  });

  it('lets the owner sign in from another address during a burst of 400 wrong passwords', async () => {
    const hasher = countingHasher();
    const server = await startWith(hasher);
    const form = await loginForm(server.app);

    const responses = await Promise.all([
      ...Array.from({ length: 400 }, () => postLogin(server.app, form, 'alice', 'wrong', '203.0.113.1')),
      postLogin(server.app, form, 'alice', DEMO_PASSWORD, '192.0.2.7'),
    ]);

    expect((responses[400] as LightMyRequestResponse).statusCode).toBe(303);
    // The burst's five free failures and the owner's sign-in: the thread pool never saw the rest.
    expect(hasher.checks).toBe(6);
  });
});

describe('the bound on concurrent password hashes', () => {
  it('computes at most LOGIN_MAX_CONCURRENT_HASHES at once, queues LOGIN_MAX_QUEUED_HASHES more, and turns the next away with 429 login_busy', async () => {
    const hasher = countingHasher();
    const server = await startWith(hasher, {
      LOGIN_MAX_CONCURRENT_HASHES: '2',
      LOGIN_MAX_QUEUED_HASHES: '1',
    });
    const form = await loginForm(server.app);
    hasher.hold();

    const first = [
      postLogin(server.app, form, 'mallory', 'wrong', '203.0.113.1'),
      postLogin(server.app, form, 'bob', 'wrong', '203.0.113.2'),
    ];
    await until(() => hasher.inFlight === 2);
    const queued = tracked(postLogin(server.app, form, 'alice', DEMO_PASSWORD, '192.0.2.7'));
    const turnedAway = tracked(postLogin(server.app, form, 'bob', DEMO_PASSWORD, '192.0.2.8'));
    await until(() => turnedAway.settled || hasher.inFlight > 2);

    expect(hasher.inFlight).toBe(2);
    expect(queued.settled).toBe(false);
    const busy = await turnedAway.promise;
    expect(busy.statusCode).toBe(429);
    expect(pageReason(busy.body)).toBe('login_busy');
    expect(busy.headers['retry-after']).toBe('1');
    expect(responseCookie(busy, 's1_session')).toBeUndefined();

    hasher.release();
    expect((await Promise.all(first)).map((response) => response.statusCode)).toEqual([401, 401]);
    expect((await queued.promise).statusCode).toBe(303);
    expect(hasher.maxInFlight).toBe(2);
    expect(hasher.checks).toBe(3);
  });

  it('does not count a sign-in turned away as busy against its account or address', async () => {
    const hasher = countingHasher();
    const server = await startWith(hasher, {
      LOGIN_MAX_CONCURRENT_HASHES: '1',
      LOGIN_MAX_QUEUED_HASHES: '0',
      LOGIN_DELAY_AFTER_FAILURES: '1',
      LOGIN_MAX_FAILURES_PER_ADDRESS: '1',
    });
    const form = await loginForm(server.app);
    hasher.hold();
    const holding = postLogin(server.app, form, 'bob', 'wrong', '203.0.113.1');
    await until(() => hasher.inFlight === 1);

    const busy = await postLogin(server.app, form, 'alice', 'wrong', '192.0.2.7');
    expect(pageReason(busy.body)).toBe('login_busy');
    hasher.release();
    await holding;

    // Counted, that attempt would have used up the pair's one free failure and the address's one.
    expect((await postLogin(server.app, form, 'alice', DEMO_PASSWORD, '192.0.2.7')).statusCode).toBe(303);
  });
});

describe('scrypt parameters', () => {
  const storedHash = (dataDir: string, username: string): string => {
    const db = new Database(join(dataDir, 'server1.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const row = db
        .prepare<[string], { password_hash: string }>('SELECT password_hash FROM users WHERE username = ?')
        .get(username);
      return row?.password_hash as string;
    } finally {
      db.close();
    }
  };
  const signIn = async (app: FastifyInstance) =>
    postLogin(app, await loginForm(app), 'alice', DEMO_PASSWORD, '192.0.2.7');

  it('hashes with N = 2^17, r = 8, p = 1 by default (OWASP minimum), and verifies what it made', async () => {
    expect(SCRYPT_DEFAULTS).toMatchObject({ cost: 2 ** 17, blockSize: 8, parallelization: 1 });
    const hasher = createScryptHasher();

    const stored = await hasher.hash(DEMO_PASSWORD);

    expect(stored).toMatch(/^scrypt\$131072\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await hasher.verify(DEMO_PASSWORD, stored)).toBe(true);
    expect(hasher.needsRehash(stored)).toBe(false);
    expect(hasher.needsRehash(await createScryptHasher({ ...CHEAP, cost: 2 ** 15 }).hash('x'))).toBe(true);
  });

  it('rehashes a password stored with weaker parameters at its next sign-in, and it still verifies', async () => {
    const dataDir = tempDataDir('jwt-handoff-server1');
    const old = await startWith(createScryptHasher(CHEAP), {}, dataDir);
    await old.stop();
    const before = storedHash(dataDir, 'alice');
    expect(before).toMatch(/^scrypt\$1024\$8\$1\$/);
    const stronger = createScryptHasher({ ...CHEAP, cost: 2 ** 11 });
    const server = await startWith(stronger, { SEED_DEMO_USERS: 'false' }, dataDir);

    expect((await signIn(server.app)).statusCode).toBe(303);

    const after = storedHash(dataDir, 'alice');
    expect(after).toMatch(/^scrypt\$2048\$8\$1\$/);
    expect(await stronger.verify(DEMO_PASSWORD, after)).toBe(true);
    expect(stronger.needsRehash(after)).toBe(false);
    expect((await signIn(server.app)).statusCode).toBe(303);
    expect(storedHash(dataDir, 'alice')).toBe(after);
  });

  it('leaves a hash alone after a wrong password, and one made with stronger parameters', async () => {
    const dataDir = tempDataDir('jwt-handoff-server1');
    const strong = await startWith(createScryptHasher({ ...CHEAP, cost: 2 ** 11 }), {}, dataDir);
    await strong.stop();
    const before = storedHash(dataDir, 'alice');
    const weaker = await startWith(createScryptHasher(CHEAP), { SEED_DEMO_USERS: 'false' }, dataDir);

    const form = await loginForm(weaker.app);
    expect((await postLogin(weaker.app, form, 'alice', 'wrong', '192.0.2.7')).statusCode).toBe(401);
    expect((await signIn(weaker.app)).statusCode).toBe(303);

    expect(storedHash(dataDir, 'alice')).toBe(before);
  });
});
