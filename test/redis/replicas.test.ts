import { createLocalKeySource } from '@jwt-handoff/shared';
import {
  browse,
  CookieJar,
  findForm,
  formPost,
  freePort,
  type TestClock,
  testClock,
  waitFor,
} from '@jwt-handoff/testkit';
import { suiteScope } from '@jwt-handoff/testkit/vitest';
import { beforeAll, expect, it } from 'vitest';
import {
  handoffToken,
  publishedKeys,
  type Server1Harness,
  signIn as signInAtServer1,
  signOutWithForm,
  startServer1,
  TEST_CLIENTS,
} from '../integration/server1/helpers.js';
import {
  expectErrorPage,
  expectJsonError,
  PUBLIC_URL,
  postCallback,
  type Response,
  type Server2Harness,
  startServer2,
  stateOf,
  txnOf,
} from '../integration/server2/helpers.js';
import { describeWithRedis, startRedisServer } from './redis-server.js';

// Two server2 replicas on one Redis, as behind a load balancer: the same PUBLIC_URL and
// SESSION_SECRET, each its own process state (its own app, Redis connection, caches), and a real
// server1 (in this process) minting the tokens with its own keys. Replica A also listens on
// loopback: it is server1's back-channel URL for server2, so a sign-out reaches A alone.
describeWithRedis('two server2 replicas sharing one Redis', () => {
  const scope = suiteScope();
  let clock: TestClock;
  let server1: Server1Harness;
  let a: Server2Harness;
  let b: Server2Harness;

  beforeAll(async () => {
    const redis = await startRedisServer(scope);
    const port = await freePort();
    // Ticking: server1's back-channel dispatcher schedules by this clock and waits in real time.
    clock = testClock(undefined, { ticking: true });
    const clients = TEST_CLIENTS.map((client) =>
      client.id === 'server2'
        ? {
            ...client,
            backchannel_logout_uri: `http://127.0.0.1:${port}/backchannel-logout`,
            api_url: `http://127.0.0.1:${port}`,
          }
        : client,
    );
    server1 = await startServer1({
      clock,
      scope,
      env: { CLIENTS: JSON.stringify(clients), LOGOUT_RETRY_BASE_MS: '20', LOGOUT_RETRY_MAX_MS: '100' },
    });
    const keySource = createLocalKeySource(await publishedKeys(server1.app));
    const env = { REDIS_URL: redis.url, SESSION_SECRET: 'replicas-share-this-secret-0123456789-abcdef' };
    a = await startServer2({ env, keySource, clock, scope });
    b = await startServer2({ env, keySource, clock, scope });
    await a.app.listen({ port, host: '127.0.0.1' });
    await waitFor(
      'both replicas to reach Redis',
      () => a.app.relyingParty.isReady() && b.app.relyingParty.isReady(),
    );
  });

  /** A browser signed in at server1 as `username`. */
  async function signedInAtServer1(username = 'alice'): Promise<CookieJar> {
    const jar = new CookieJar();
    await signInAtServer1(server1.app, jar, { username });
    expect(jar.get('s1_session')).toBeDefined();
    return jar;
  }

  /** A GET by the browser `jar` that the load balancer sends to `replica`. */
  const get = (replica: Server2Harness, jar: CookieJar, url: string): Promise<Response> =>
    browse(replica.app, jar, { method: 'GET', url });
  const me = async (replica: Server2Harness, jar: CookieJar) => (await get(replica, jar, '/me')).statusCode;

  /**
   * The three requests of a handoff, each sent to the replica named: /handoff/start, then the
   * token server1 mints for the browser's state posted to /handoff/callback, then /handoff/complete.
   */
  async function handoff(
    s1: CookieJar,
    route: { start: Server2Harness; callback: Server2Harness; complete: Server2Harness },
    browser = new CookieJar(PUBLIC_URL),
  ) {
    const state = stateOf(await get(route.start, browser, '/handoff/start'));
    const token = await handoffToken(server1.app, s1, state);
    const txn = txnOf(await postCallback(route.callback, token));
    const complete = await get(route.complete, browser, `/handoff/complete?txn=${encodeURIComponent(txn)}`);
    return { browser, token, txn, complete };
  }

  it('refuses at replica B a token consumed at replica A (token_replayed)', async () => {
    const s1 = await signedInAtServer1();
    const token = await handoffToken(server1.app, s1, 'state-replay');
    expect((await postCallback(a, token)).statusCode).toBe(303);
    expectJsonError(await postCallback(b, token), 400, 'token_replayed');
    expectJsonError(await postCallback(a, token), 400, 'token_replayed');
  });

  it('accepts a token posted to both replicas at the same moment exactly once, 50 races out of 50', async () => {
    const s1 = await signedInAtServer1();
    const RACES = 50;
    const winners = { a: 0, b: 0 };
    let acceptedOnce = 0;
    for (let race = 0; race < RACES; race += 1) {
      const token = await handoffToken(server1.app, s1, `race-${race}`);
      const [atA, atB] = await Promise.all([postCallback(a, token), postCallback(b, token)]);
      const accepted = [atA, atB].filter((response) => response.statusCode === 303);
      if (accepted.length === 1) acceptedOnce += 1;
      if (atA.statusCode === 303) winners.a += 1;
      if (atB.statusCode === 303) winners.b += 1;
      expectJsonError(atA.statusCode === 303 ? atB : atA, 400, 'token_replayed');
    }
    console.info(
      `double-spend across two replicas: accepted exactly once in ${acceptedOnce} of ${RACES} races ` +
        `(replica A won ${winners.a}, replica B ${winners.b})`,
    );
    expect(acceptedOnce).toBe(RACES);
  });

  it('completes at replica B a txn parked at replica A, and only once', async () => {
    const s1 = await signedInAtServer1();
    const run = await handoff(s1, { start: a, callback: a, complete: b });
    expect(run.complete.statusCode).toBe(303);
    expect(run.complete.headers.location).toBe('/');
    expect(await me(b, run.browser)).toBe(200);
    expectErrorPage(await get(a, run.browser, `/handoff/complete?txn=${run.txn}`), 400, 'txn_unknown');
    expectErrorPage(await get(b, run.browser, `/handoff/complete?txn=${run.txn}`), 400, 'txn_unknown');
  });

  it('gives a txn completed at both replicas at the same moment to exactly one of them', async () => {
    const s1 = await signedInAtServer1();
    for (let race = 0; race < 10; race += 1) {
      const browser = new CookieJar(PUBLIC_URL);
      const state = stateOf(await get(a, browser, '/handoff/start'));
      const txn = txnOf(await postCallback(b, await handoffToken(server1.app, s1, state)));
      const url = `/handoff/complete?txn=${encodeURIComponent(txn)}`;
      // Two copies of the browser, so that neither sees the other's cookies change.
      const copy = new CookieJar(PUBLIC_URL);
      copy.store({
        url: '/handoff/complete',
        setCookies: [`s2_handoff=${browser.get('s2_handoff')}; Path=/handoff`],
      });
      const [atA, atB] = await Promise.all([get(a, browser, url), get(b, copy, url)]);
      expect([atA.statusCode, atB.statusCode].sort()).toEqual([303, 400]);
      expectErrorPage(atA.statusCode === 303 ? atB : atA, 400, 'txn_unknown');
    }
  });

  it('serves an s2_session started at replica A at replica B, and signing out at B ends it at A', async () => {
    const s1 = await signedInAtServer1();
    const run = await handoff(s1, { start: a, callback: a, complete: a });
    expect(run.complete.statusCode).toBe(303);
    expect(await me(a, run.browser)).toBe(200);
    expect(await me(b, run.browser)).toBe(200);

    const home = await get(b, run.browser, '/');
    const out = await browse(
      b.app,
      run.browser,
      formPost('/logout', findForm(home.body, '/logout').fields, { origin: PUBLIC_URL }),
    );
    expect(out.statusCode).toBe(303);
    expect(await me(a, run.browser)).toBe(401);
    expect(await me(b, run.browser)).toBe(401);
  });

  it("ends the user's sessions on every replica when a back-channel logout reaches one of them", async () => {
    const s1 = await signedInAtServer1('bob');
    // Two browsers of bob's, signed in through different replicas (and another user's, kept).
    const atA = await handoff(s1, { start: a, callback: a, complete: a });
    const atB = await handoff(s1, { start: b, callback: b, complete: b });
    const alice = await handoff(await signedInAtServer1('alice'), { start: b, callback: b, complete: b });
    for (const run of [atA, atB, alice]) expect(await me(b, run.browser)).toBe(200);
    // Minted and parked before the sign-out, used after it.
    const unused = await handoffToken(server1.app, s1, 'minted-before');
    const parkedBrowser = new CookieJar(PUBLIC_URL);
    const parkedState = stateOf(await get(b, parkedBrowser, '/handoff/start'));
    const parkedTxn = txnOf(await postCallback(b, await handoffToken(server1.app, s1, parkedState)));

    // Sign out everywhere at server1: the logout token (sub and tokens-valid-after) goes to A only.
    expect((await signOutWithForm(server1.app, s1, '/logout/everywhere')).statusCode).toBe(303);
    await waitFor('the sign-out to end both sessions', async () => (await me(b, atA.browser)) === 401);
    expect(await me(a, atA.browser)).toBe(401);
    expect(await me(a, atB.browser)).toBe(401);
    expect(await me(b, atB.browser)).toBe(401);
    expect(await me(a, alice.browser)).toBe(200);

    // B, which the logout token never reached, reads the tokens-valid-after time A recorded.
    expectJsonError(await postCallback(b, unused), 400, 'token_revoked');
    expectErrorPage(await get(b, parkedBrowser, `/handoff/complete?txn=${parkedTxn}`), 400, 'token_revoked');
    // A token issued after the sign-out (a new sign-in, a later second) is accepted again.
    clock.advance(1000);
    const again = await handoff(await signedInAtServer1('bob'), { start: b, callback: a, complete: b });
    expect(again.complete.statusCode).toBe(303);
    expect(await me(a, again.browser)).toBe(200);
  });
});
