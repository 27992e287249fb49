import { randomUUID } from 'node:crypto';
import {
  createRedisRelyingStores,
  createSqliteRelyingStores,
  type HandoffClaims,
  type RelyingStores,
  startTrace,
  traceCheck,
  type VerificationTrace,
} from '@jwt-handoff/shared';
import { type TestClock, testClock } from '@jwt-handoff/testkit';
import { type Scope, suiteScope, tempDataDir } from '@jwt-handoff/testkit/vitest';
import { Redis } from 'ioredis';
import { beforeAll, expect, it } from 'vitest';
import { describeWithRedis, type RedisServer, startRedisServer } from '../redis-server.js';

const TIMEOUTS = { idleMs: 60_000, absoluteMs: 3_600_000 };
const ISSUER = 'http://localhost:4001';
/** A verifier's trace, as the handoff stores it beside the claims (plain JSON). */
const TRACE: VerificationTrace = (() => {
  const trace = startTrace('eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl', 1_700_000_000_000);
  traceCheck(trace, 'nonce', 'nonce equals the state cookie', [{ label: 'nonce', text: 'n-1' }]);
  return trace;
})();

/** Two handles on one store, as two replicas hold it (for SQLite, the same object twice). */
interface StorePair {
  readonly a: RelyingStores;
  readonly b: RelyingStores;
  readonly clock: TestClock;
}

function claimsFor(sub: string, sid: string | undefined, clock: TestClock): HandoffClaims {
  const iat = clock.nowSec();
  return {
    iss: ISSUER,
    aud: 'server2',
    sub,
    jti: randomUUID(),
    iat,
    exp: iat + 60,
    nonce: 'n',
    auth_time: iat,
    ...(sid === undefined ? {} : { sid }),
  } as HandoffClaims;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// The contract every implementation of RelyingStores keeps (stores.ts), run against SQLite and
// against a real Redis through two connections, as two replicas would hold it. The clock ticks
// with real time, since Redis expires keys by its own clock.
function storeContract(name: string, open: (scope: Scope) => Promise<StorePair>) {
  describeWithRedis(`the ${name} relying stores`, () => {
    const scope = suiteScope();
    let stores: StorePair;
    beforeAll(async () => {
      stores = await open(scope);
    });

    it('marks a jti used once: the first call wins, every later one (from any replica) loses', async () => {
      const { a, b, clock } = stores;
      const jti = randomUUID();
      const exp = clock.nowSec() + 60;
      expect(await a.usedJtis.markUsed(ISSUER, jti, exp)).toBe(true);
      expect(await a.usedJtis.markUsed(ISSUER, jti, exp)).toBe(false);
      expect(await b.usedJtis.markUsed(ISSUER, jti, exp)).toBe(false);
      // The same jti from another issuer is another token.
      expect(await b.usedJtis.markUsed('http://other.example', jti, exp)).toBe(true);
    });

    it('lets exactly one of 50 concurrent presentations of a jti, spread over two replicas, win', async () => {
      const { a, b, clock } = stores;
      const jti = randomUUID();
      const exp = clock.nowSec() + 60;
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).usedJtis.markUsed(ISSUER, jti, exp)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('forgets a used jti once its token has expired', async () => {
      const { a, clock } = stores;
      const jti = randomUUID();
      // Expires within the next second, by the clock the store is given and by Redis's.
      const exp = clock.nowSec() + 1;
      expect(await a.usedJtis.markUsed(ISSUER, jti, exp)).toBe(true);
      expect(await a.usedJtis.markUsed(ISSUER, jti, exp)).toBe(false);
      await sleep(exp * 1000 - clock.now() + 100);
      expect(await a.usedJtis.markUsed(ISSUER, jti, clock.nowSec() + 60)).toBe(true);
    });

    it('counts the used jtis it holds', async () => {
      const { a, b, clock } = stores;
      const before = await a.usedJtis.count();
      await b.usedJtis.markUsed(ISSUER, randomUUID(), clock.nowSec() + 60);
      expect(await a.usedJtis.count()).toBe(before + 1);
    });

    it('hands a txn parked at one replica to another, once', async () => {
      const { a, b, clock } = stores;
      const claims = claimsFor('user-txn', 'sid-txn', clock);
      const idHash = randomUUID();
      await a.txns.put(idHash, { claims, trace: TRACE }, clock.now() + 60_000);
      expect(await b.txns.take(idHash, clock.now())).toEqual({ claims, trace: TRACE });
      expect(await a.txns.take(idHash, clock.now())).toBeUndefined();
      expect(await b.txns.take(idHash, clock.now())).toBeUndefined();
    });

    it('gives a txn to exactly one of 20 concurrent takers', async () => {
      const { a, b, clock } = stores;
      const idHash = randomUUID();
      await a.txns.put(idHash, { claims: claimsFor('user-txn', undefined, clock) }, clock.now() + 60_000);
      const taken = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).txns.take(idHash, clock.now())),
      );
      expect(taken.filter((claims) => claims !== undefined)).toHaveLength(1);
    });

    it('refuses an expired txn', async () => {
      const { a, clock } = stores;
      const idHash = randomUUID();
      await a.txns.put(idHash, { claims: claimsFor('user-txn', undefined, clock) }, clock.now() + 60_000);
      expect(await a.txns.take(idHash, clock.now() + 60_000)).toBeUndefined();
      expect(await a.txns.take(randomUUID(), clock.now())).toBeUndefined();
    });

    it('keeps the newest tokens-valid-after time, whatever order the writes come in', async () => {
      const { a, b } = stores;
      const sub = `user-${randomUUID()}`;
      expect(await a.revocations.tokensValidAfter(sub)).toBeUndefined();
      await a.revocations.revokeUntil(sub, 1_750_000_200);
      await b.revocations.revokeUntil(sub, 1_750_000_100);
      expect(await a.revocations.tokensValidAfter(sub)).toBe(1_750_000_200);
      await Promise.all(
        [1, 5, 3, 9, 2].map((n, i) => (i % 2 ? a : b).revocations.revokeUntil(sub, 1_750_000_300 + n)),
      );
      expect(await b.revocations.tokensValidAfter(sub)).toBe(1_750_000_309);
    });

    it('remembers an ended sid until the later of its times, then forgets it', async () => {
      const { a, b, clock } = stores;
      const sid = `sid-${randomUUID()}`;
      expect(await b.revocations.isSidEnded(sid, clock.now())).toBe(false);
      await a.revocations.endSid(sid, clock.now() + 60_000);
      await b.revocations.endSid(sid, clock.now() + 1_000);
      expect(await b.revocations.isSidEnded(sid, clock.now())).toBe(true);
      expect(await b.revocations.isSidEnded(sid, clock.now() + 30_000)).toBe(true);
      expect(await a.revocations.isSidEnded(sid, clock.now() + 60_001)).toBe(false);
    });

    it('serves a session started at one replica at the other, and ends it everywhere', async () => {
      const { a, b, clock } = stores;
      const at = clock.now();
      const { id, session } = await a.sessions.create({ claims: claimsFor('user-s1', 'sid-s1', clock) }, at);
      expect(session).toMatchObject({ sub: 'user-s1', sid: 'sid-s1', expiresAt: at + TIMEOUTS.absoluteMs });
      expect(await b.sessions.touch(id, clock.now())).toMatchObject({
        idHash: session.idHash,
        sub: 'user-s1',
      });
      // The verifier's trace, kept with the session, reads back the same at the other replica.
      const traced = await a.sessions.create(
        { claims: claimsFor('user-s1', 'sid-s1', clock), trace: TRACE },
        at,
      );
      expect((await b.sessions.touch(traced.id, clock.now()))?.trace).toEqual(TRACE);
      await b.sessions.delete(session.idHash);
      expect(await a.sessions.touch(id, clock.now())).toBeUndefined();
    });

    it('ends the sessions of an issuer session (checking the user when given), and only those', async () => {
      const { a, b, clock } = stores;
      const sub = `user-${randomUUID()}`;
      const sid = `sid-${randomUUID()}`;
      const one = await a.sessions.create({ claims: claimsFor(sub, sid, clock) }, clock.now());
      const two = await b.sessions.create({ claims: claimsFor(sub, sid, clock) }, clock.now());
      const other = await a.sessions.create({ claims: claimsFor(sub, `${sid}-other`, clock) }, clock.now());
      expect(await b.sessions.deleteBySid(sid, 'someone-else')).toBe(0);
      expect(await b.sessions.deleteBySid(sid, sub)).toBe(2);
      expect(await a.sessions.touch(one.id, clock.now())).toBeUndefined();
      expect(await a.sessions.touch(two.id, clock.now())).toBeUndefined();
      expect(await a.sessions.touch(other.id, clock.now())).toBeDefined();
      expect(await a.sessions.deleteBySid(sid, undefined)).toBe(0);
    });

    it("ends every session of a user, lists a user's live sessions newest first, and counts them", async () => {
      const { a, b, clock } = stores;
      const sub = `user-${randomUUID()}`;
      const before = await a.sessions.count();
      const first = await a.sessions.create({ claims: claimsFor(sub, 'sid-x', clock) }, clock.now());
      const second = await b.sessions.create({ claims: claimsFor(sub, undefined, clock) }, clock.now() + 1);
      const bystander = await b.sessions.create(
        { claims: claimsFor(`${sub}-2`, 'sid-x', clock) },
        clock.now(),
      );
      expect(await a.sessions.count()).toBe(before + 3);
      const listed = await b.sessions.listForSub(sub, clock.now() + 1);
      expect(listed.map((session) => session.idHash)).toEqual([second.session.idHash, first.session.idHash]);
      expect(await b.sessions.deleteBySub(sub)).toBe(2);
      expect(await a.sessions.listForSub(sub, clock.now())).toEqual([]);
      expect(await a.sessions.touch(first.id, clock.now())).toBeUndefined();
      expect(await a.sessions.touch(bystander.id, clock.now())).toBeDefined();
      expect(await a.sessions.count()).toBe(before + 1);
    });

    it('ends a session left idle past the idle timeout, and one past its absolute end', async () => {
      const { a, clock } = stores;
      const idle = await a.sessions.create({ claims: claimsFor('user-idle', undefined, clock) }, clock.now());
      expect(await a.sessions.touch(idle.id, clock.now() + TIMEOUTS.idleMs + 1)).toBeUndefined();
      const old = await a.sessions.create({ claims: claimsFor('user-old', undefined, clock) }, clock.now());
      let at = clock.now();
      // Kept alive by a touch every half idle timeout, until its absolute end.
      while (at + TIMEOUTS.idleMs / 2 < old.session.expiresAt) {
        at += TIMEOUTS.idleMs / 2;
        expect(await a.sessions.touch(old.id, at)).toBeDefined();
      }
      expect(await a.sessions.touch(old.id, old.session.expiresAt)).toBeUndefined();
    });

    it("reports a user's most recent handoffs, newest first, keeping the last 20", async () => {
      const { a, b, clock } = stores;
      const sub = `user-${randomUUID()}`;
      const base = clock.now();
      for (let i = 0; i < 25; i += 1) await (i % 2 ? a : b).activity.recordHandoff(sub, base + i * 1000);
      expect(await a.activity.recentHandoffs(sub, 3)).toEqual([base + 24_000, base + 23_000, base + 22_000]);
      expect(await b.activity.recentHandoffs(sub, 100)).toHaveLength(20);
      expect(await b.activity.recentHandoffs('nobody', 5)).toEqual([]);
    });
  });
}

storeContract('SQLite', async (scope) => {
  const clock = testClock(Date.now(), { ticking: true });
  const stores = createSqliteRelyingStores({
    dataDir: tempDataDir('relying-stores', scope),
    sessionTimeouts: TIMEOUTS,
    now: clock.now,
  });
  scope(() => stores.close?.());
  return { a: stores, b: stores, clock };
});

storeContract('Redis', async (scope) => {
  const redisServer = await startRedisServer(scope);
  const clock = testClock(Date.now(), { ticking: true });
  const open = async () => {
    const stores = createRedisRelyingStores({
      url: redisServer.url,
      keyPrefix: 'contract:',
      sessionTimeouts: TIMEOUTS,
      activityRetentionMs: 30 * 24 * 3_600_000,
      now: clock.now,
    });
    scope(() => stores.close?.());
    await waitReady(stores);
    return stores;
  };
  return { a: await open(), b: await open(), clock };
});

async function waitReady(stores: RelyingStores): Promise<void> {
  for (let i = 0; i < 100 && !stores.isReady?.(); i += 1) await sleep(20);
  expect(stores.isReady?.()).toBe(true);
}

describeWithRedis('the Redis relying stores, in Redis', () => {
  const scope = suiteScope();
  let server: RedisServer;
  let redis: Redis;
  beforeAll(async () => {
    server = await startRedisServer(scope);
    redis = new Redis(server.url);
    scope(() => redis.quit());
  });

  function open(keyPrefix: string): RelyingStores {
    const stores = createRedisRelyingStores({
      url: server.url,
      keyPrefix,
      sessionTimeouts: TIMEOUTS,
      activityRetentionMs: 60_000,
    });
    scope(() => stores.close?.());
    return stores;
  }

  it('writes every key under its prefix, each that can expire with a TTL no longer than its life', async () => {
    const stores = open('app-one:');
    await waitReady(stores);
    const now = Date.now();
    const claims = claimsFor('user-ttl', 'sid-ttl', testClock(now));
    await stores.usedJtis.markUsed(ISSUER, 'jti-ttl', Math.floor(now / 1000) + 60);
    await stores.txns.put('txn-ttl', { claims }, now + 60_000);
    await stores.sessions.create({ claims }, now);
    await stores.revocations.endSid('sid-ttl', now + 5_000);
    await stores.revocations.revokeUntil('user-ttl', 1_750_000_000);
    await stores.activity.recordHandoff('user-ttl', now);

    const keys = await redis.keys('*');
    expect(keys.length).toBeGreaterThanOrEqual(7);
    expect(keys.filter((key) => !key.startsWith('app-one:'))).toEqual([]);
    const ttl = async (pattern: string) => redis.pttl((await redis.keys(`app-one:${pattern}`))[0] as string);
    expect(await ttl('jti:*')).toBeGreaterThan(55_000);
    expect(await ttl('jti:*')).toBeLessThanOrEqual(61_000);
    expect(await ttl('txn:*')).toBeLessThanOrEqual(60_000);
    expect(await ttl('session:*')).toBeLessThanOrEqual(TIMEOUTS.idleMs);
    expect(await ttl('session-sub:*')).toBeLessThanOrEqual(TIMEOUTS.absoluteMs);
    expect(await ttl('ended-sid:*')).toBeLessThanOrEqual(5_000);
    expect(await ttl('activity:*')).toBeLessThanOrEqual(60_000);
    // Tokens-valid-after is kept for good, as SQLite keeps it.
    expect(await ttl('tokens-valid-after:*')).toBe(-1);
  });

  it('keeps apps with different prefixes apart', async () => {
    const one = open('app-a:');
    const two = open('app-b:');
    await waitReady(one);
    await waitReady(two);
    const exp = Math.floor(Date.now() / 1000) + 60;
    expect(await one.usedJtis.markUsed(ISSUER, 'shared-jti', exp)).toBe(true);
    expect(await two.usedJtis.markUsed(ISSUER, 'shared-jti', exp)).toBe(true);
  });

  it('refuses a key prefix that SCAN would read as a pattern', () => {
    expect(() => open('app*')).toThrow(/prefix/);
  });
});
