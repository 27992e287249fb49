import {
  createJwksClient,
  createVerifier,
  JWKS_CLIENT_DEFAULTS,
  type JwksClient,
  type JwksClientOptions,
  KeySourceUnavailableError,
  MetricsRegistry,
  SERVICE_PROFILE,
} from '@jwt-handoff/shared';
import {
  generateTestKey,
  jwksOf,
  mintToken,
  segment,
  segmentsOf,
  type TestKey,
  testClock,
} from '@jwt-handoff/testkit';
import { errors, type JSONWebKeySet } from 'jose';
import { MockAgent } from 'undici';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Handler, json, startServer, type TestServer } from './helpers/http-server.js';
import { AUDIENCE, ISSUER, serviceClaims } from './helpers/tokens.js';

const ORIGIN = 'https://issuer.test';
const JWKS_PATH = '/.well-known/jwks.json';
const JWKS_URL = `${ORIGIN}${JWKS_PATH}`;

let edKey: TestKey;
let esKey: TestKey;
let nextKey: TestKey;
let strangerKey: TestKey;
let otherStrangerKey: TestKey;

beforeAll(async () => {
  [edKey, esKey, nextKey, strangerKey, otherStrangerKey] = await Promise.all([
    generateTestKey('EdDSA'),
    generateTestKey('ES256'),
    generateTestKey('EdDSA'),
    generateTestKey('EdDSA'),
    generateTestKey('ES256'),
  ]);
});

/** What the fake endpoint answers; a Promise body is sent once it resolves (a hanging reply). */
interface Answer {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}
type Responder = (request: { path: string; headers: Record<string, string> }) => Answer;

/** One origin on the MockAgent: answers every GET with `respond`, and logs the requests it saw. */
function fakeOrigin(agent: MockAgent, origin: string) {
  let responder: Responder = () => ({ status: 404 });
  const requests: { path: string; headers: Record<string, string> }[] = [];
  agent
    .get(origin)
    .intercept({ path: () => true, method: 'GET' })
    .reply((opts) => {
      const headers = Object.fromEntries(
        Object.entries((opts.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
      );
      requests.push({ path: opts.path, headers });
      const answer = responder({ path: opts.path, headers });
      const body = answer.body;
      const data = typeof body === 'string' || body instanceof Promise ? body : JSON.stringify(body ?? '');
      return {
        statusCode: answer.status ?? 200,
        data: data as string,
        responseOptions: { headers: answer.headers ?? {} },
      };
    })
    .persist();
  return {
    requests,
    fetches: () => requests.length,
    respond(next: Responder) {
      responder = next;
    },
  };
}

const serve =
  (jwks: JSONWebKeySet, headers: Record<string, string> = {}): Responder =>
  () => ({ body: jwks, headers });
const failWith =
  (status: number): Responder =>
  () => ({ status, body: 'upstream trouble' });

let agent: MockAgent;
let issuer: ReturnType<typeof fakeOrigin>;
const clients: JwksClient[] = [];
const tokenClock = testClock();

beforeEach(() => {
  // Date is faked too: the client's default clock is Date.now, so its cache ages follow the timers.
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
    now: new Date('2030-01-01T00:00:00Z'),
  });
  agent = new MockAgent();
  agent.disableNetConnect();
  issuer = fakeOrigin(agent, ORIGIN);
  issuer.respond(serve(jwksOf(edKey, esKey)));
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await agent.close();
  vi.useRealTimers();
});

function jwksClient(options: Partial<JwksClientOptions> = {}): JwksClient {
  const client = createJwksClient({ url: JWKS_URL, dispatcher: agent, ...options });
  clients.push(client);
  return client;
}

/** A service-token verifier over `keySource`; the tokens' clock stands still, so they never expire. */
function verifierFor(keySource: JwksClient) {
  return createVerifier({
    profile: SERVICE_PROFILE,
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['EdDSA', 'ES256'],
    keySource,
    now: tokenClock.now,
  });
}

const tokenOf = (key: TestKey) => mintToken(key, serviceClaims(), 'service+jwt');

/** Lets pending I/O callbacks and promise chains run without moving the fake clock. */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Moves the fake clock forward in steps, letting fetches complete between them. */
async function advance(ms: number, stepMs = 1_000): Promise<void> {
  for (let left = ms; left > 0; left -= stepMs) {
    await vi.advanceTimersByTimeAsync(Math.min(stepMs, left));
    await flush();
  }
}

/** A reply body that is sent only once `release()` is called. */
function gate() {
  let release: () => void = () => {};
  const body = new Promise<string>((resolve) => {
    release = () => resolve(JSON.stringify(jwksOf(edKey, esKey)));
  });
  return { body, release };
}

describe('createJwksClient', () => {
  describe('prefetch', () => {
    it('is not ready before refresh() and ready with both keys after it', async () => {
      const client = jwksClient();
      expect(client.isReady()).toBe(false);

      await client.refresh();

      expect(client.isReady()).toBe(true);
      expect(client.stats()).toMatchObject({ fetchCount: 1, kidCount: 2, lastSuccessAtMs: Date.now() });
      const verify = verifierFor(client);
      expect(await verify(await tokenOf(edKey))).toMatchObject({ ok: true });
      expect(await verify(await tokenOf(esKey))).toMatchObject({ ok: true });
      expect(issuer.fetches()).toBe(1);
    });

    it('prefetches in the background once started', async () => {
      const client = jwksClient({ autoStart: true });
      await flush();

      expect(client.isReady()).toBe(true);
      expect(issuer.fetches()).toBe(1);
    });

    it('rejects refresh() with KeySourceUnavailableError when the first fetch fails', async () => {
      issuer.respond(failWith(500));
      const client = jwksClient();

      await expect(client.refresh()).rejects.toBeInstanceOf(KeySourceUnavailableError);
      expect(client.isReady()).toBe(false);
      expect(await verifierFor(client)(await tokenOf(edKey))).toMatchObject({
        ok: false,
        reason: 'jwks_unavailable',
      });
    });

    it('makes concurrent first verifications share one fetch', async () => {
      const client = jwksClient();
      const verify = verifierFor(client);
      const tokens = await Promise.all([tokenOf(edKey), tokenOf(esKey), tokenOf(edKey)]);

      const results = await Promise.all(tokens.map((token) => verify(token)));

      expect(results.map((result) => result.ok)).toEqual([true, true, true]);
      expect(issuer.fetches()).toBe(1);
    });
  });

  describe('background refresh', () => {
    it('refetches at 80% of the fresh time, before the keys expire', async () => {
      const client = jwksClient({ cacheMaxAgeMs: 100_000 });
      client.start();
      await flush();
      expect(issuer.fetches()).toBe(1);

      await advance(79_000);
      expect(issuer.fetches()).toBe(1);
      await advance(1_000);
      expect(issuer.fetches()).toBe(2);
      await advance(80_000);
      expect(issuer.fetches()).toBe(3);
    });

    it('makes no fetch for a verification in steady state', async () => {
      const registry = new MetricsRegistry();
      const client = jwksClient({ cacheMaxAgeMs: 60_000, metrics: registry });
      const verify = verifierFor(client);
      client.start();
      await flush();

      for (let minute = 0; minute < 30; minute += 1) {
        await advance(60_000, 5_000);
        // A fresh token each time, so that the verifier's own token cache cannot hide a fetch.
        const token = await tokenOf(minute % 2 === 0 ? edKey : esKey);
        const before = issuer.fetches();
        expect(await verify(token)).toMatchObject({ ok: true });
        expect(issuer.fetches()).toBe(before);
      }
      expect(await registry.render()).not.toMatch(/^jwks_stale_serves_total /m);
    });

    it('retries a failed refresh with capped exponential back-off', async () => {
      const client = jwksClient({
        cacheMaxAgeMs: 10_000,
        retryInitialDelayMs: 1_000,
        retryMaxDelayMs: 8_000,
        // The jitter's random part at its smallest: the delays are the back-off itself.
        random: () => 0,
      });
      client.start();
      await flush();
      issuer.respond(failWith(503));

      // Refresh due at 8 s fails; retries follow 1, 2, 4, 8, 8 s later.
      await advance(8_000, 500);
      expect(issuer.fetches()).toBe(2);
      const counts: number[] = [];
      for (const delay of [1_000, 2_000, 4_000, 8_000, 8_000]) {
        await advance(delay - 500, 500);
        counts.push(issuer.fetches());
        await advance(500, 500);
      }
      expect(counts).toEqual([2, 3, 4, 5, 6]);
      expect(issuer.fetches()).toBe(7);
      expect(client.stats().consecutiveFailures).toBe(6);
    });

    it('shortens each retry delay by a random part drawn once per failure, so a fleet does not retry in step', async () => {
      const draws = [1, 0.5, 0];
      let drawn = 0;
      const client = jwksClient({
        cacheMaxAgeMs: 10_000,
        retryInitialDelayMs: 1_000,
        retryMaxDelayMs: 8_000,
        retryJitterRatio: 0.5,
        random: () => draws[drawn++] ?? 0,
      });
      client.start();
      await flush();
      issuer.respond(failWith(503));

      // The refresh at 8 s fails: back-off 1 s less half of it; then 2 s less a quarter; then 4 s.
      await advance(8_000, 100);
      expect(issuer.fetches()).toBe(2);
      const counts: number[] = [];
      for (const delay of [500, 1_500, 4_000]) {
        await advance(delay - 100, 100);
        counts.push(issuer.fetches());
        await advance(100, 100);
      }
      expect(counts).toEqual([2, 3, 4]);
      expect(issuer.fetches()).toBe(5);
      // One draw per failure, however often the schedule was looked at in between.
      expect(drawn).toBe(4);
    });

    it('runs on an injected clock and timer pair', async () => {
      let nowMs = 1_000_000;
      const timers = new Map<number, { at: number; run: () => void }>();
      let lastId = 0;
      const client = jwksClient({
        cacheMaxAgeMs: 10_000,
        now: () => nowMs,
        setTimeout: (run, ms) => {
          lastId += 1;
          timers.set(lastId, { at: nowMs + ms, run });
          return lastId;
        },
        clearTimeout: (id) => {
          timers.delete(id as number);
        },
      });
      client.start();
      await flush();
      expect(client.stats().lastSuccessAtMs).toBe(1_000_000);
      expect([...timers.values()].map((timer) => timer.at)).toEqual([1_008_000]);

      nowMs = 1_008_000;
      for (const [id, timer] of [...timers]) {
        if (timer.at > nowMs) continue;
        timers.delete(id);
        timer.run();
      }
      await flush();

      expect(issuer.fetches()).toBe(2);
      expect(client.stats().lastSuccessAtMs).toBe(1_008_000);
      client.stop();
      expect(timers.size).toBe(0);
    });

    it('stops fetching once stopped', async () => {
      const client = jwksClient({ cacheMaxAgeMs: 10_000 });
      client.start();
      await flush();
      client.stop();

      await advance(60_000);

      expect(issuer.fetches()).toBe(1);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('aborts a fetch in flight on close()', async () => {
      const pending = gate();
      issuer.respond(() => ({ body: pending.body }));
      const client = jwksClient();
      const refreshed = client.refresh();

      await client.close();

      await expect(refreshed).rejects.toBeInstanceOf(KeySourceUnavailableError);
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  describe('unknown kid', () => {
    it('answers 100 concurrent lookups of an unknown kid with exactly one refetch', async () => {
      const client = jwksClient({ cooldownMs: 30_000 });
      await client.refresh();
      await advance(30_000);
      const verify = verifierFor(client);
      const token = await tokenOf(strangerKey);

      const results = await Promise.all(Array.from({ length: 100 }, () => verify(token)));

      expect(new Set(results.map((result) => (result.ok ? 'ok' : result.reason)))).toEqual(
        new Set(['unknown_kid']),
      );
      expect(issuer.fetches()).toBe(2);

      // Another unknown kid within the cool-down fails at once, without a fetch.
      expect(await verify(await tokenOf(otherStrangerKey))).toMatchObject({ reason: 'unknown_kid' });
      expect(issuer.fetches()).toBe(2);
    });

    it('refuses an unknown kid with an error that carries no stack trace (a flood must stay cheap)', async () => {
      const client = jwksClient({ cooldownMs: 30_000 });
      await client.refresh();
      await advance(30_000);
      const header = { alg: 'EdDSA', kid: 'made-up-kid' };
      // The first lookup refetches; the second is refused within the cool-down.
      await expect(client.getKey(header, {} as never)).rejects.toThrow();
      const refusal = await Promise.resolve(client.getKey(header, {} as never)).then(
        () => undefined,
        (err: Error) => err,
      );
      expect(refusal).toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
      expect(refusal?.stack ?? '').not.toMatch(/^\s+at /m);
      expect(issuer.fetches()).toBe(2);
    });

    it('picks up a newly published key with one refetch shared by concurrent verifications', async () => {
      const client = jwksClient({ cooldownMs: 30_000 });
      await client.refresh();
      await advance(30_000);
      issuer.respond(serve(jwksOf(edKey, esKey, nextKey)));
      const verify = verifierFor(client);
      const token = await tokenOf(nextKey);

      const results = await Promise.all(Array.from({ length: 20 }, () => verify(token)));

      expect(results.every((result) => result.ok)).toBe(true);
      expect(issuer.fetches()).toBe(2);
    });

    it('refetches for an unknown kid right after the prefetch: only unknown-kid fetches start a cool-down', async () => {
      const registry = new MetricsRegistry();
      const client = jwksClient({ cooldownMs: 30_000, metrics: registry });
      await client.refresh();
      const verify = verifierFor(client);

      expect(await verify(await tokenOf(strangerKey))).toMatchObject({ reason: 'unknown_kid' });
      expect(issuer.fetches()).toBe(2);
      // That refetch starts the cool-down: another unknown kid just before its end fails at once,
      await advance(29_000);
      expect(await verify(await tokenOf(otherStrangerKey))).toMatchObject({ reason: 'unknown_kid' });
      expect(issuer.fetches()).toBe(2);
      expect(await registry.render()).toContain('jwks_unknown_kid_total{reason="cooldown"} 1');
      // and once it is over, gets its refetch.
      await advance(1_000);
      expect(await verify(await tokenOf(otherStrangerKey))).toMatchObject({ reason: 'unknown_kid' });
      expect(issuer.fetches()).toBe(3);
    });

    it.each([
      ['the prefetch', 0],
      ['a background refresh', 80_000],
    ])('finds a key published right after %s on its first use, with one fetch', async (_name, wait) => {
      const client = jwksClient({ cacheMaxAgeMs: 100_000, cooldownMs: 30_000 });
      client.start();
      await flush();
      await advance(wait);
      const fetched = issuer.fetches();
      expect(fetched).toBe(wait === 0 ? 1 : 2);
      issuer.respond(serve(jwksOf(edKey, esKey, nextKey)));

      expect(await verifierFor(client)(await tokenOf(nextKey))).toMatchObject({ ok: true });
      expect(issuer.fetches()).toBe(fetched + 1);
      expect(client.hasKid(nextKey.kid)).toBe(true);
    });

    it('does not let a background refresh restart the cool-down an unknown kid started', async () => {
      const client = jwksClient({ cacheMaxAgeMs: 25_000, cooldownMs: 30_000 });
      client.start();
      await flush();
      const verify = verifierFor(client);
      expect(await verify(await tokenOf(strangerKey))).toMatchObject({ reason: 'unknown_kid' });
      expect(issuer.fetches()).toBe(2);

      // The refresh due 20 s after the unknown-kid fetch runs; the cool-down still ends 30 s after it.
      await advance(20_000);
      expect(issuer.fetches()).toBe(3);
      await advance(10_000);
      expect(await verify(await tokenOf(otherStrangerKey))).toMatchObject({ reason: 'unknown_kid' });
      expect(issuer.fetches()).toBe(4);
    });

    it('still costs the issuer one fetch per cool-down under a flood of made-up kids right after the prefetch', async () => {
      const registry = new MetricsRegistry();
      const client = jwksClient({ cooldownMs: 30_000, metrics: registry });
      await client.refresh();
      const verify = verifierFor(client);
      // Only the header is read before the key is chosen: a made-up signature will do.
      const [, payload] = segmentsOf(await tokenOf(edKey));
      const madeUp = (kid: string) =>
        `${segment({ alg: 'EdDSA', kid, typ: 'service+jwt' })}.${payload}.${'A'.repeat(86)}`;
      const flood = async (round: string) => {
        const tokens = Array.from({ length: 100 }, (_, i) => madeUp(`${round}-${i}`));
        const results = await Promise.all(tokens.map((token) => verify(token)));
        return new Set(results.map((result) => (result.ok ? 'ok' : result.reason)));
      };

      expect(await flood('first')).toEqual(new Set(['unknown_kid']));
      expect(issuer.fetches()).toBe(2);
      await advance(15_000);
      expect(await flood('second')).toEqual(new Set(['unknown_kid']));
      expect(issuer.fetches()).toBe(2);
      expect(await registry.render()).toContain('jwks_unknown_kid_total{reason="cooldown"} 100');
      // Known kids are answered all along, without a fetch.
      expect(await verify(await tokenOf(esKey))).toMatchObject({ ok: true });
      expect(issuer.fetches()).toBe(2);
      await advance(15_000);
      expect(await flood('third')).toEqual(new Set(['unknown_kid']));
      expect(issuer.fetches()).toBe(3);
    });

    it('remembers a kid still unknown after a refetch and refuses it without a fetch', async () => {
      const client = jwksClient({ cooldownMs: 30_000, negativeCacheMs: 120_000 });
      await client.refresh();
      const verify = verifierFor(client);
      const stranger = await tokenOf(strangerKey);
      await advance(30_000);
      expect(await verify(stranger)).toMatchObject({ reason: 'unknown_kid' });
      expect(issuer.fetches()).toBe(2);

      // The cool-down is over, but this kid was just looked up: no fetch for it...
      await advance(30_000);
      expect(await verify(stranger)).toMatchObject({ reason: 'unknown_kid' });
      expect(issuer.fetches()).toBe(2);
      // ...while a kid not yet looked up still gets its refetch,
      expect(await verify(await tokenOf(otherStrangerKey))).toMatchObject({ reason: 'unknown_kid' });
      expect(issuer.fetches()).toBe(3);
      // and once the negative entry has expired, the first kid may trigger one again.
      await advance(90_000);
      expect(await verify(stranger)).toMatchObject({ reason: 'unknown_kid' });
      expect(issuer.fetches()).toBe(4);
    });

    it('negatively caches for the cool-down by default', async () => {
      const registry = new MetricsRegistry();
      const client = jwksClient({ cooldownMs: 10_000, metrics: registry });
      await client.refresh();
      const verify = verifierFor(client);
      const stranger = await tokenOf(strangerKey);
      await advance(10_000);
      await verify(stranger);
      expect(issuer.fetches()).toBe(2);

      await advance(9_000);
      await verify(stranger);
      expect(issuer.fetches()).toBe(2);
      expect(await registry.render()).toContain('jwks_unknown_kid_total{reason="negative_cache"} 1');
      await advance(11_000);
      await verify(stranger);
      expect(issuer.fetches()).toBe(3);
    });

    it('answers a known kid from the cache while an unknown-kid refetch hangs', async () => {
      const client = jwksClient({ cooldownMs: 30_000 });
      await client.refresh();
      await advance(30_000);
      const verify = verifierFor(client);
      const pending = gate();
      issuer.respond(() => ({ body: pending.body }));

      const unknown = verify(await tokenOf(strangerKey));
      await flush();
      expect(issuer.fetches()).toBe(2);
      const knownToken = await tokenOf(edKey);

      // The lookup of a known kid settles within promise jobs alone, before any I/O turn: it
      // does not wait on the refetch (signature checks are async, so this is asked of getKey).
      const lookup = Promise.resolve(
        client.getKey({ alg: 'EdDSA', kid: edKey.kid }, { payload: '', signature: '' }),
      );
      const answeredFirst = await Promise.race([lookup.then(() => true), flush().then(() => false)]);
      expect(answeredFirst).toBe(true);
      // And a whole verification completes while the refetch still hangs.
      expect(await verify(knownToken)).toMatchObject({ ok: true });
      expect(issuer.fetches()).toBe(2);
      pending.release();
      expect(await unknown).toMatchObject({ ok: false, reason: 'unknown_kid' });
    });

    it('refuses a token with no kid without fetching', async () => {
      const client = jwksClient();
      await client.refresh();
      const token = await mintToken(edKey, serviceClaims(), 'service+jwt', { kid: undefined });

      expect(await verifierFor(client)(token)).toMatchObject({ ok: false, reason: 'unknown_kid' });
      await expect(client.getKey({ alg: 'EdDSA' }, { payload: '', signature: '' })).rejects.toBeInstanceOf(
        errors.JWKSNoMatchingKey,
      );
      expect(issuer.fetches()).toBe(1);
    });
  });

  describe('algorithms', () => {
    it('uses a key only with its own alg: another alg in the header is unknown_kid', async () => {
      const client = jwksClient();
      await client.refresh();
      // The Ed25519 key's kid with ES256 in the header: only the header is read before the key
      // is chosen, so a made-up signature is enough to reach the key lookup.
      const [, payload] = segmentsOf(await tokenOf(edKey));
      const token = `${segment({ alg: 'ES256', kid: edKey.kid, typ: 'service+jwt' })}.${payload}.${'A'.repeat(86)}`;

      expect(await verifierFor(client)(token)).toMatchObject({ ok: false, reason: 'unknown_kid' });
      await expect(
        client.getKey({ alg: 'ES256', kid: edKey.kid }, { payload: '', signature: '' }),
      ).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
      expect(issuer.fetches()).toBe(1);
    });

    it('skips keys without an alg, with an alg not allowed, or with private members', async () => {
      const { alg: _alg, ...withoutAlg } = nextKey.publicJwk;
      issuer.respond(
        serve({
          keys: [
            withoutAlg,
            { ...strangerKey.publicJwk, alg: 'HS256' },
            { ...otherStrangerKey.publicJwk, d: 'c2VjcmV0' },
            edKey.publicJwk,
          ],
        }),
      );
      const client = jwksClient({ algorithms: ['EdDSA', 'ES256'] });
      await client.refresh();

      expect(client.stats().kidCount).toBe(1);
      const verify = verifierFor(client);
      expect(await verify(await tokenOf(edKey))).toMatchObject({ ok: true });
      expect(await verify(await tokenOf(nextKey))).toMatchObject({ reason: 'unknown_kid' });
    });

    it('skips keys whose alg is outside the algorithms option', async () => {
      const client = jwksClient({ algorithms: ['EdDSA'] });
      await client.refresh();

      expect(client.stats().kidCount).toBe(1);
      expect(await verifierFor(client)(await tokenOf(esKey))).toMatchObject({ reason: 'unknown_kid' });
    });
  });

  describe('stale-if-error', () => {
    const MAX_BYTES = 4096;
    const padding = 'x'.repeat(2 * MAX_BYTES);
    const cases: [string, Responder, string][] = [
      ['answers 500', failWith(500), 'error'],
      ['never answers', () => ({ body: new Promise<string>(() => {}) }), 'timeout'],
      ['returns a body that is not JSON', () => ({ body: '{"keys": [' }), 'invalid'],
      ['returns JSON that is not a key set', () => ({ body: { keys: 'none' } }), 'invalid'],
      ['returns a key set with no usable key', () => ({ body: { keys: [{ kty: 'OKP' }] } }), 'invalid'],
      [
        'declares an oversized body',
        () => {
          const body = JSON.stringify({ ...jwksOf(edKey), padding });
          return { body, headers: { 'content-length': String(Buffer.byteLength(body)) } };
        },
        'too_large',
      ],
      [
        'streams an oversized body',
        () => ({ body: JSON.stringify({ ...jwksOf(edKey), padding }) }),
        'too_large',
      ],
    ];

    it.each(cases)(
      'keeps verifying with the last good keys when the endpoint %s, until the stale window ends',
      async (_name, failure, outcome) => {
        const registry = new MetricsRegistry();
        const client = jwksClient({
          cacheMaxAgeMs: 60_000,
          maxStaleMs: 600_000,
          maxResponseBytes: MAX_BYTES,
          metrics: registry,
        });
        const verify = verifierFor(client);
        client.start();
        await flush();
        issuer.respond(failure);

        // Fresh for 60 s, then served stale for 600 s more while every refresh fails.
        await advance(659_000, 5_000);
        expect(await verify(await tokenOf(edKey))).toMatchObject({ ok: true });
        expect(client.hasKid(edKey.kid)).toBe(true);
        expect(client.isReady()).toBe(true);
        expect(issuer.fetches()).toBeGreaterThan(5);
        const metrics = await registry.render();
        expect(metrics).toContain(`jwks_fetches_total{outcome="${outcome}"}`);
        expect(metrics).toMatch(/^jwks_stale_serves_total 1$/m);

        await advance(1_000);
        expect(client.isReady()).toBe(false);
        expect(client.hasKid(edKey.kid)).toBe(false);
        const late = verify(await tokenOf(edKey));
        await advance(JWKS_CLIENT_DEFAULTS.timeoutMs);
        expect(await late).toMatchObject({ ok: false, reason: 'jwks_unavailable' });

        // The endpoint comes back: the next background retry recovers without any request's help.
        issuer.respond(serve(jwksOf(edKey, esKey)));
        await advance(JWKS_CLIENT_DEFAULTS.retryMaxDelayMs + JWKS_CLIENT_DEFAULTS.timeoutMs);
        expect(client.isReady()).toBe(true);
        expect(await verify(await tokenOf(edKey))).toMatchObject({ ok: true });
      },
    );

    it('fails a verification at once while a fetch of missing keys is backing off', async () => {
      issuer.respond(failWith(500));
      const client = jwksClient({ retryInitialDelayMs: 10_000 });
      await expect(client.refresh()).rejects.toBeInstanceOf(KeySourceUnavailableError);
      const verify = verifierFor(client);

      expect(await verify(await tokenOf(edKey))).toMatchObject({ reason: 'jwks_unavailable' });
      expect(issuer.fetches()).toBe(1);
      issuer.respond(serve(jwksOf(edKey)));
      await advance(10_000);
      expect(await verify(await tokenOf(edKey))).toMatchObject({ ok: true });
      expect(issuer.fetches()).toBe(2);
    });
  });

  describe('HTTP caching', () => {
    it('revalidates with If-None-Match; a 304 keeps the keys and resets their age', async () => {
      const registry = new MetricsRegistry();
      const jwks = jwksOf(edKey, esKey);
      issuer.respond(({ headers }) =>
        headers['if-none-match'] === '"v1"'
          ? { status: 304, headers: { etag: '"v1"' } }
          : { body: jwks, headers: { etag: '"v1"' } },
      );
      const client = jwksClient({ cacheMaxAgeMs: 60_000, metrics: registry });
      const verify = verifierFor(client);
      client.start();
      await flush();
      expect(issuer.requests[0]?.headers['if-none-match']).toBeUndefined();

      await advance(48_000);
      expect(issuer.fetches()).toBe(2);
      expect(issuer.requests[1]?.headers['if-none-match']).toBe('"v1"');
      expect(client.stats().lastSuccessAtMs).toBe(Date.now());

      // Past the first response's freshness, the revalidated keys are fresh again, not stale.
      await advance(30_000);
      expect(await verify(await tokenOf(esKey))).toMatchObject({ ok: true });
      const metrics = await registry.render();
      expect(metrics).toContain('jwks_fetches_total{outcome="not_modified"} 1');
      expect(metrics).toContain('jwks_cache_age_seconds 30');
      expect(metrics).not.toMatch(/^jwks_stale_serves_total /m);
    });

    it.each([
      ['a shorter max-age wins over cacheMaxAgeMs', 'public, max-age=20', 20_000],
      ['a longer max-age is capped by cacheMaxAgeMs', 'public, max-age=3600', 300_000],
      ['no max-age leaves cacheMaxAgeMs', 'public', 300_000],
      ['max-age=0 is raised to minCacheAgeMs', 'max-age=0', 10_000],
      ['no-cache is raised to minCacheAgeMs', 'no-cache', 10_000],
    ])('Cache-Control: %s', async (_name, cacheControl, freshMs) => {
      issuer.respond(serve(jwksOf(edKey), { 'cache-control': cacheControl }));
      const client = jwksClient({ cacheMaxAgeMs: 300_000, minCacheAgeMs: 10_000 });
      client.start();
      await flush();

      const { freshUntilMs, lastSuccessAtMs } = client.stats();
      expect((freshUntilMs ?? 0) - (lastSuccessAtMs ?? 0)).toBe(freshMs);
      await advance(freshMs * 0.8 - 1_000);
      expect(issuer.fetches()).toBe(1);
      await advance(1_000);
      expect(issuer.fetches()).toBe(2);
    });

    it('never caches for longer than the issuer allows by default: minCacheAgeMs is 1 s', () => {
      // server1's publish lead (max-age + reload interval + margin) relies on it.
      expect(JWKS_CLIENT_DEFAULTS.minCacheAgeMs).toBe(1_000);
    });

    it.each([
      ['max-age=0', 'max-age=0'],
      ['no-cache', 'no-cache'],
      ['no-store', 'public, no-store'],
    ])(
      'Cache-Control: %s keeps keys fresh for 1 s by default, refreshed every 0.8 s and no more often',
      async (_name, cacheControl) => {
        issuer.respond(serve(jwksOf(edKey), { 'cache-control': cacheControl }));
        const client = jwksClient();
        client.start();
        await flush();

        const { freshUntilMs, lastSuccessAtMs } = client.stats();
        expect((freshUntilMs ?? 0) - (lastSuccessAtMs ?? 0)).toBe(1_000);
        await advance(799, 1);
        expect(issuer.fetches()).toBe(1);
        await advance(1, 1);
        expect(issuer.fetches()).toBe(2);
        await advance(8_000, 100);
        expect(issuer.fetches()).toBe(12);
      },
    );

    it('keeps a max-age of 2 s as it is, by default', async () => {
      issuer.respond(serve(jwksOf(edKey), { 'cache-control': 'public, max-age=2' }));
      const client = jwksClient();
      await client.refresh();

      const { freshUntilMs, lastSuccessAtMs } = client.stats();
      expect((freshUntilMs ?? 0) - (lastSuccessAtMs ?? 0)).toBe(2_000);
    });
  });

  describe('redirects', () => {
    it('follows a redirect within the same origin', async () => {
      issuer.respond(({ path }) =>
        path === JWKS_PATH
          ? { status: 302, headers: { location: '/keys/v2.json' } }
          : { body: jwksOf(edKey, esKey) },
      );
      const client = jwksClient();

      await client.refresh();

      expect(issuer.requests.map((request) => request.path)).toEqual([JWKS_PATH, '/keys/v2.json']);
      expect(await verifierFor(client)(await tokenOf(edKey))).toMatchObject({ ok: true });
    });

    it.each([
      ['another host', 'https://elsewhere.test/jwks.json'],
      ['the same host over http', 'http://issuer.test/jwks.json'],
      ['another port', 'https://issuer.test:8443/jwks.json'],
      ['the same origin with credentials', 'https://user:pw@issuer.test/jwks.json'],
    ])('refuses a redirect to %s', async (_name, location) => {
      const elsewhere = fakeOrigin(agent, new URL(location).origin);
      elsewhere.respond(serve(jwksOf(edKey)));
      issuer.respond(({ path }) =>
        path === JWKS_PATH ? { status: 307, headers: { location } } : { body: jwksOf(edKey) },
      );
      const registry = new MetricsRegistry();
      const client = jwksClient({ metrics: registry });

      await expect(client.refresh()).rejects.toBeInstanceOf(KeySourceUnavailableError);
      expect(elsewhere.fetches()).toBe(0);
      expect(issuer.fetches()).toBe(1);
      expect(await registry.render()).toContain('jwks_fetches_total{outcome="redirect"} 1');
    });

    it('gives up after maxRedirects', async () => {
      issuer.respond(({ path }) => {
        const hop = Number(path.split('/').pop()) || 0;
        return { status: 301, headers: { location: `/hop/${hop + 1}` } };
      });
      const client = jwksClient({ maxRedirects: 3 });

      await expect(client.refresh()).rejects.toThrow(/more than 3 redirects/);
      expect(issuer.fetches()).toBe(4);
    });
  });

  describe('refuses a JWKS it should not trust, over a real HTTP server', () => {
    const servers: TestServer[] = [];

    beforeEach(() => {
      // Real sockets and real time: the limits are checked against undici's own I/O and timers.
      vi.useRealTimers();
    });

    afterEach(async () => {
      await Promise.all(servers.splice(0).map((server) => server.close()));
    });

    async function serveOver(handler: Handler): Promise<TestServer> {
      const server = await startServer(handler);
      servers.push(server);
      return server;
    }

    /** A client for `server`, on the global dispatcher, and a service-token verifier that uses it. */
    function realSetup(server: TestServer, options: Partial<JwksClientOptions> = {}) {
      const keySource = createJwksClient({ url: server.url, ...options });
      clients.push(keySource);
      return { keySource, verify: verifierFor(keySource) };
    }

    /** Answers with headers and then never sends the rest of the body. */
    const stallAfterHeaders: Handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"keys":[');
    };

    const cases: [string, Handler][] = [
      [
        'a body that is not JSON',
        (_request, response) => {
          response.setHeader('content-type', 'application/json');
          response.end('{"keys": [');
        },
      ],
      ['JSON that is not a key set', json({ keys: 'none' })],
      [
        'a declared body over maxResponseBytes',
        (_request, response) => {
          response.setHeader('content-type', 'application/json');
          response.end(JSON.stringify({ ...jwksOf(edKey), padding: 'x'.repeat(4096) }));
        },
      ],
      [
        'a chunked body over maxResponseBytes',
        (_request, response) => {
          response.setHeader('content-type', 'application/json');
          // No content-length: the limit must be enforced while reading.
          response.write(`{"keys":${JSON.stringify(jwksOf(edKey).keys)},"padding":"`);
          for (let i = 0; i < 8; i += 1) response.write('x'.repeat(1024));
          response.end('"}');
        },
      ],
    ];

    it.each(cases)('rejects refresh() on %s and reports jwks_unavailable', async (_name, handler) => {
      const server = await serveOver(handler);
      const { keySource, verify } = realSetup(server, { maxResponseBytes: 2048 });

      await expect(keySource.refresh()).rejects.toBeInstanceOf(KeySourceUnavailableError);
      expect(keySource.isReady()).toBe(false);
      expect(await verify(await tokenOf(edKey))).toMatchObject({
        ok: false,
        reason: 'jwks_unavailable',
      });
    });

    it('accepts a body of exactly maxResponseBytes', async () => {
      const body = JSON.stringify(jwksOf(edKey));
      const server = await serveOver(json(jwksOf(edKey)));
      const { keySource } = realSetup(server, { maxResponseBytes: Buffer.byteLength(body) });

      await expect(keySource.refresh()).resolves.toBeUndefined();
    });

    it.each([
      ['never answers', (() => {}) as Handler],
      ['stalls after the headers', stallAfterHeaders],
    ])('gives up after timeoutMs on a server that %s', async (_name, handler) => {
      const server = await serveOver(handler);
      const { keySource, verify } = realSetup(server, { timeoutMs: 200 });

      const started = performance.now();
      await expect(keySource.refresh()).rejects.toBeInstanceOf(KeySourceUnavailableError);
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(await verify(await tokenOf(edKey))).toMatchObject({
        ok: false,
        reason: 'jwks_unavailable',
      });
    });
  });

  it('exposes fetch outcomes, cache age, key count and unknown-kid misses as metrics', async () => {
    const registry = new MetricsRegistry();
    const client = jwksClient({ metrics: registry, cooldownMs: 30_000 });
    const verify = verifierFor(client);
    await client.refresh();
    // A refetch (not found), then another kid within its cool-down, then the first kid again.
    await verify(await tokenOf(strangerKey));
    await verify(await tokenOf(otherStrangerKey));
    await verify(await tokenOf(strangerKey));
    await advance(5_000);
    issuer.respond(failWith(500));
    await expect(client.refresh()).rejects.toThrow();

    const metrics = await registry.render();

    expect(metrics).toContain('# TYPE jwks_fetches_total counter');
    expect(metrics).toContain('jwks_fetches_total{outcome="ok"} 2');
    expect(metrics).toContain('jwks_fetches_total{outcome="error"} 1');
    expect(metrics).toContain('jwks_unknown_kid_total{reason="cooldown"} 1');
    expect(metrics).toContain('jwks_unknown_kid_total{reason="not_found"} 1');
    expect(metrics).toContain('jwks_unknown_kid_total{reason="negative_cache"} 1');
    expect(metrics).toContain('jwks_cache_age_seconds 5');
    expect(metrics).toContain('jwks_keys 2');
  });

  it('registers its metrics under metricPrefix', async () => {
    const registry = new MetricsRegistry();
    const client = jwksClient({ metrics: registry, metricPrefix: 'server1_jwks' });
    await client.refresh();

    expect(await registry.render()).toContain('server1_jwks_fetches_total{outcome="ok"} 1');
  });

  it.each<[string, Partial<JwksClientOptions>]>([
    ['url', { url: 'file:///etc/jwks.json' }],
    ['algorithms', { algorithms: ['HS256' as 'EdDSA'] }],
    ['algorithms', { algorithms: [] }],
    ['timeoutMs', { timeoutMs: 0 }],
    ['refreshAtRatio', { refreshAtRatio: 1.5 }],
    ['retryMaxDelayMs', { retryInitialDelayMs: 5_000, retryMaxDelayMs: 1_000 }],
    ['retryJitterRatio', { retryJitterRatio: 1 }],
    ['retryJitterRatio', { retryJitterRatio: -0.1 }],
  ])('refuses a bad %s option at creation', (name, options) => {
    expect(() => jwksClient(options)).toThrow(new RegExp(`option "${name}"`));
  });
});

describe('revoked and removed kids (emergency revocation)', () => {
  it('refuses a revoked kid at once, and refetches past the unknown-kid cool-down', async () => {
    const client = jwksClient({ cacheMaxAgeMs: 60_000 });
    const verify = verifierFor(client);
    await client.refresh();
    const edToken = await tokenOf(edKey);
    expect(await verify(edToken)).toMatchObject({ ok: true });
    // A made-up kid starts the cool-down: tokens alone could not cause another fetch for 30 s.
    expect(await verify(await tokenOf(strangerKey))).toMatchObject({ reason: 'unknown_kid' });
    expect(issuer.fetches()).toBe(2);

    await client.revokeKids([edKey.kid]);

    expect(issuer.fetches()).toBe(3);
    // The issuer (a replica that has not reloaded yet) still publishes the key: refused anyway.
    expect(await verify(edToken)).toMatchObject({ ok: false, reason: 'key_revoked' });
    expect(await verify(await tokenOf(edKey))).toMatchObject({ ok: false, reason: 'key_revoked' });
    expect(client.hasKid(edKey.kid)).toBe(false);
    expect(await verify(await tokenOf(esKey))).toMatchObject({ ok: true });
  });

  it('keeps a revoked kid refused when the refetch and every later fetch fail: stale-if-error never brings it back', async () => {
    const client = jwksClient({ cacheMaxAgeMs: 60_000, maxStaleMs: 600_000 });
    const verify = verifierFor(client);
    client.start();
    await flush();
    issuer.respond(failWith(500));

    // A failed refetch is not the event's failure: the kid is refused either way.
    await expect(client.revokeKids([edKey.kid])).resolves.toBeUndefined();
    expect(client.stats().consecutiveFailures).toBe(1);
    expect(await verify(await tokenOf(edKey))).toMatchObject({ ok: false, reason: 'key_revoked' });

    // Deep in the stale window, the last good set (which still holds the key) serves the others only.
    await advance(300_000, 5_000);
    expect(client.isReady()).toBe(true);
    expect(await verify(await tokenOf(esKey))).toMatchObject({ ok: true });
    expect(await verify(await tokenOf(edKey))).toMatchObject({ ok: false, reason: 'key_revoked' });
    expect(client.hasKid(edKey.kid)).toBe(false);

    // Nor does the issuer coming back with it (a stale replica, a restored backup).
    issuer.respond(serve(jwksOf(edKey, esKey)));
    await client.refresh();
    expect(await verify(await tokenOf(edKey))).toMatchObject({ ok: false, reason: 'key_revoked' });
  });

  it('keeps a kid that a successful fetch no longer lists refused while later fetches fail', async () => {
    const client = jwksClient({ cacheMaxAgeMs: 60_000, maxStaleMs: 600_000, cooldownMs: 1_000 });
    const verify = verifierFor(client);
    client.start();
    await flush();
    const edToken = await tokenOf(edKey);
    expect(await verify(edToken)).toMatchObject({ ok: true });

    // The issuer drops the key; the next fetch sees it gone, and then the endpoint fails.
    issuer.respond(serve(jwksOf(esKey)));
    await client.refresh();
    issuer.respond(failWith(503));

    expect(await verify(edToken)).toMatchObject({ ok: false, reason: 'unknown_kid' });
    // Through the stale window, with unknown-kid refetches allowed (1 s cool-down) and failing.
    for (let step = 0; step < 10; step++) {
      await advance(30_000, 5_000);
      expect(await verify(await tokenOf(edKey))).toMatchObject({ ok: false, reason: 'unknown_kid' });
      expect(client.hasKid(edKey.kid)).toBe(false);
    }
    expect(client.stats().consecutiveFailures).toBeGreaterThan(3);
    expect(await verify(await tokenOf(esKey))).toMatchObject({ ok: true });
  });

  it('picks up the replacement key an event announces although unknown kids keep the cool-down busy', async () => {
    issuer.respond(serve(jwksOf(edKey)));
    const client = jwksClient();
    const verify = verifierFor(client);
    await client.refresh();
    // An attacker's flood of made-up kids holds the cool-down...
    expect(await verify(await tokenOf(strangerKey))).toMatchObject({ reason: 'unknown_kid' });
    // ...when the issuer replaces its revoked key with a new one.
    issuer.respond(serve(jwksOf(nextKey)));
    expect(await verify(await tokenOf(nextKey))).toMatchObject({ reason: 'unknown_kid' });

    await client.revokeKids([edKey.kid]);

    expect(await verify(await tokenOf(nextKey))).toMatchObject({ ok: true });
    expect(await verify(await tokenOf(edKey))).toMatchObject({ reason: 'key_revoked' });
  });

  it('waits for a fetch in flight and then fetches again, since the issuer may have changed its keys after it began', async () => {
    const client = jwksClient();
    const hanging = gate();
    issuer.respond(() => ({ body: hanging.body }));
    const first = client.refresh();
    await flush();
    expect(issuer.fetches()).toBe(1);

    const revoking = client.revokeKids([edKey.kid]);
    issuer.respond(serve(jwksOf(esKey, nextKey)));
    hanging.release();
    await first;
    await revoking;

    expect(issuer.fetches()).toBe(2);
    expect(client.hasKid(nextKey.kid)).toBe(true);
    expect(client.hasKid(edKey.kid)).toBe(false);
  });
});
