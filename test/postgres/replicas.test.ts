// Two server1 replicas (two apps) on one real PostgreSQL database: what a deployment behind a
// load balancer needs of them (issue 11, properties 5 to 7).
import {
  browse,
  CookieJar,
  formPost,
  freePort,
  hiddenField,
  startService,
  testClock,
  waitFor,
} from '@jwt-handoff/testkit';
import { tempDataDir } from '@jwt-handoff/testkit/vitest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  clientsWith,
  DEMO_PASSWORD,
  type FakeClient,
  handOff,
  handoffToken,
  pageReason,
  publishedKids,
  runKeysCli,
  signIn,
  signOutWithForm,
  startFakeClient,
  startServer1,
} from '../integration/server1/helpers.js';
import { freshDatabase, openReplicaStores, rowCount, startReplicas } from './helpers.js';

describe('sessions and the login throttle across replicas', () => {
  const LIMIT = 5;
  const env = {
    LOGIN_MAX_FAILURES_PER_ACCOUNT: String(LIMIT),
    // Only the account limit binds in the burst: one address sends it all.
    LOGIN_MAX_FAILURES_PER_ADDRESS: '1000',
    LOGIN_DELAY_AFTER_FAILURES: '1000',
    LOGIN_MAX_QUEUED_HASHES: '1000',
  };

  it('accepts at replica B a session started at replica A, and a sign-out at B ends it at A', async () => {
    const { a, b } = await startReplicas({ env });
    const jar = new CookieJar();
    expect((await signIn(a.app, jar)).statusCode).toBe(303);

    const atB = await browse(b.app, jar, { url: '/' });
    expect(atB.statusCode).toBe(200);
    expect(atB.body).toContain('Alice');

    await signOutWithForm(b.app, jar);
    const atA = await browse(a.app, jar, { url: '/' });
    expect(atA.statusCode).toBe(303);
    expect(atA.headers.location).toMatch(/^\/login/);
  });

  it(`lets exactly ${LIMIT} of 40 concurrent wrong passwords, spread over both replicas, be tried`, async () => {
    const { a, b, databaseUrl } = await startReplicas({ env });
    const jar = new CookieJar();
    const form = await browse(a.app, jar, { url: '/login' });
    const post = formPost('/login', {
      csrf_token: hiddenField(form.body, 'csrf_token'),
      return_to: '/',
      username: 'alice',
      password: 'wrong password',
    });

    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, n) => browse(n % 2 ? a.app : b.app, jar, post)),
    );

    const reasons = answers.map((answer) => `${answer.statusCode} ${pageReason(answer.body)}`);
    expect(reasons.filter((r) => r === '401 invalid_credentials')).toHaveLength(LIMIT);
    expect(reasons.filter((r) => r === '429 rate_limited')).toHaveLength(40 - LIMIT);
    // Each replica answered some of the burst; the database counted the tried ones, once each.
    expect(await rowCount(databaseUrl, "login_failures WHERE key = 'account:alice'")).toBe(LIMIT);
    // The right password is refused too until the window has passed: the limit holds at both.
    const right = await browse(
      b.app,
      jar,
      formPost('/login', {
        csrf_token: hiddenField(form.body, 'csrf_token'),
        return_to: '/',
        username: 'alice',
        password: DEMO_PASSWORD,
      }),
    );
    expect(right.statusCode).toBe(429);
  });
});

describe('signing keys across replicas', () => {
  // Publish lead: JWKS max-age 10 s + the 1 s reload + no margin = 11 s.
  const env = { JWKS_MAX_AGE_SEC: '10', KEY_TIMING_MARGIN_MS: '0' };
  const LEAD_MS = 11_000;

  /** What each replica publishes and signs with, to compare. */
  async function view(app: Parameters<typeof publishedKids>[0], jar: CookieJar) {
    const jwks = await app.inject({ url: '/.well-known/jwks.json' });
    const token = await handoffToken(app, jar);
    return { jwks: jwks.body, etag: jwks.headers.etag, signsWith: decodeProtectedHeader(token).kid };
  }

  it('sees a rotation by `npm run keys -- rotate` at both replicas: same JWKS, ETag and signing key', async () => {
    const { a, b, clock, databaseUrl } = await startReplicas({ env });
    const jar = new CookieJar();
    await signIn(a.app, jar);
    const before = await view(a.app, jar);
    expect(await view(b.app, jar)).toEqual(before);

    const run = await runKeysCli(a.dataDir, ['rotate'], {
      env: { ...env, DATABASE_URL: databaseUrl },
      clock,
    });
    expect(run.code, run.stderr).toBe(0);
    const newKid = /new key (\S+)/.exec(run.stdout)?.[1] as string;

    for (const app of [a.app, b.app]) {
      await waitFor('the new key in the JWKS', async () => (await publishedKids(app)).includes(newKid), 5000);
    }
    const published = await view(a.app, jar);
    expect(published.signsWith).toBe(before.signsWith);
    expect(published.etag).not.toBe(before.etag);
    expect(await view(b.app, jar)).toEqual(published);

    clock.advance(LEAD_MS);
    const rotated = await view(b.app, jar);
    expect(rotated.signsWith).toBe(newKid);
    expect(await view(a.app, jar)).toEqual(rotated);
  });

  it('sees `npm run keys -- revoke` at both replicas: the key leaves both JWKS, neither signs with it, one event per client queued', async () => {
    const { a, b, clock, databaseUrl } = await startReplicas({ env });
    const jar = new CookieJar();
    await signIn(a.app, jar);
    const before = await view(a.app, jar);
    const revoked = before.signsWith as string;

    const run = await runKeysCli(a.dataDir, ['revoke', revoked], {
      env: { ...env, DATABASE_URL: databaseUrl },
      clock,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`key ${revoked} is revoked`);

    for (const app of [a.app, b.app]) {
      await waitFor(
        'the revoked key gone from the JWKS',
        async () => !(await publishedKids(app)).includes(revoked),
        5000,
      );
    }
    const after = await view(a.app, jar);
    expect(after.signsWith).not.toBe(revoked);
    expect(await view(b.app, jar)).toEqual(after);
    // The keys-changed events wait in the shared outbox (the fake CLIENTS of these replicas
    // have back-channel URLs), as the CLI's output says; a dispatcher sends each once.
    expect(run.stdout).toMatch(/keys-changed event queued for \d+ client/);
  });

  it('makes one key when both replicas reach a scheduled rotation together', async () => {
    const { a, b, clock, databaseUrl } = await startReplicas({
      env: { ...env, KEY_ROTATION_INTERVAL: '1m' },
    });
    expect(await rowCount(databaseUrl, 'signing_keys')).toBe(1);

    clock.advance(60_000);
    for (const app of [a.app, b.app]) {
      await waitFor('a second key in the JWKS', async () => (await publishedKids(app)).length === 2, 5000);
    }
    // Both replicas' maintenance has ticked since (every second), each seeing the rotation due.
    await new Promise((resolve) => setTimeout(resolve, 2500));

    expect(await rowCount(databaseUrl, 'signing_keys')).toBe(2);
    expect(await publishedKids(a.app)).toEqual(await publishedKids(b.app));
  });
});

describe('the logout outbox across replicas', () => {
  let fake: FakeClient;
  beforeAll(async () => {
    fake = await startFakeClient();
  });
  afterAll(() => fake.close());

  it('delivers each of 12 sign-outs made at both replicas exactly once', async () => {
    fake.answerLogouts(200);
    const { a, b, databaseUrl } = await startReplicas({
      env: { CLIENTS: clientsWith(fake) },
      clock: testClock(Date.now(), { ticking: true }),
    });
    const sids: string[] = [];
    for (let n = 0; n < 12; n++) {
      const [here, there] = n % 2 ? [a.app, b.app] : [b.app, a.app];
      const jar = new CookieJar();
      await signIn(here, jar);
      sids.push(decodeJwt(await handOff(here, jar)).sid as string);
      expect((await signOutWithForm(there, jar)).statusCode).toBe(303);
    }

    await waitFor('12 deliveries', () => fake.logouts.length >= 12, 10_000);
    // Long enough for both dispatchers to wake at least once more (they sleep at most 5 s).
    await new Promise((resolve) => setTimeout(resolve, 5500));

    const delivered = fake.logouts.map((logout) => decodeJwt(logout.logoutToken).sid as string);
    expect(delivered.sort()).toEqual([...sids].sort());
    expect(await rowCount(databaseUrl, 'logout_outbox')).toBe(0);
  });
});

describe('a replica that dies holding a delivery', () => {
  let fake: FakeClient;
  beforeAll(async () => {
    fake = await startFakeClient();
  });
  afterAll(() => fake.close());

  it('leaves it to the other replica once its lease has run out; delivered once, nothing lost', async () => {
    const LEASE_MS = 3000;
    const databaseUrl = await freshDatabase();
    const env = {
      DATABASE_URL: databaseUrl,
      CLIENTS: clientsWith(fake),
      LOGOUT_DELIVERY_LEASE_MS: String(LEASE_MS),
      LOGOUT_REQUEST_TIMEOUT_MS: '1000',
    };
    // Replica A is a real process, so that it can die mid-delivery (SIGKILL: no clean-up at all).
    const replicaA = await startService('server1', {
      ...env,
      PORT: String(await freePort()),
      PUBLIC_URL: 'http://localhost:4001',
      DATA_DIR: tempDataDir('jwt-handoff-replica-a'),
    });
    onTestFinished(async () => {
      await replicaA.stop();
    });
    fake.answerLogouts('hang', 200);
    const stores = await openReplicaStores(databaseUrl);
    await stores.outbox.enqueue(
      [{ clientId: 'server2', sub: 'usr_1', sid: 'sid-1', tokensValidAfter: undefined }],
      Date.now(),
      60_000,
    );

    await waitFor('replica A to start the delivery', () => fake.logouts.length === 1, 8000);
    const claimedAt = Date.now();
    process.kill(replicaA.pid() as number, 'SIGKILL');
    await replicaA.stop();
    const b = await startServer1({ env, clock: testClock(Date.now(), { ticking: true }) });

    await waitFor('replica B to deliver it', () => fake.logouts.length === 2, LEASE_MS + 8000);
    const deliveredAfterMs = Date.now() - claimedAt;
    await waitFor('the outbox to empty', async () => (await stores.outbox.depth()) === 0, 2000);

    // Not before A's lease ran out (it was taken shortly before claimedAt), and the same logout.
    expect(deliveredAfterMs).toBeGreaterThanOrEqual(LEASE_MS - 1000);
    expect(fake.logouts[1]?.logoutToken).not.toBe(fake.logouts[0]?.logoutToken);
    expect(decodeJwt(fake.logouts[1]?.logoutToken as string)).toMatchObject({ sub: 'usr_1', sid: 'sid-1' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(fake.logouts).toHaveLength(2);
    expect((await b.app.inject({ url: '/readyz' })).statusCode).toBe(200);
  });
});
