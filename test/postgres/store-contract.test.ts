// The store contract, checked for both engines: every PostgreSQL store answers as the SQLite one
// does, and where two replicas share the database, the atomic steps stay atomic across them.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { Server1Stores, StoredKey } from '@jwt-handoff/server1';
import { T0_MS } from '@jwt-handoff/testkit';
import { tempDataDir } from '@jwt-handoff/testkit/vitest';
import { exportJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { freshDatabase, openReplicaStores, rowCount } from './helpers.js';

const SESSION_ENV = { SESSION_IDLE_TIMEOUT_MS: '60000', SESSION_ABSOLUTE_TIMEOUT_MS: '3600000' };
const THROTTLE_ENV = {
  LOGIN_MAX_FAILURES_PER_ACCOUNT: '5',
  LOGIN_MAX_FAILURES_PER_ADDRESS: '1000',
  LOGIN_DELAY_AFTER_FAILURES: '1000',
  LOGIN_FAILURE_WINDOW_MS: '60000',
};
const ENV = { ...SESSION_ENV, ...THROTTLE_ENV };

type Engine = 'sqlite' | 'postgres';

/** Two handles on one store: two replicas' pools on PostgreSQL, the same store twice on SQLite. */
async function openPair(engine: Engine): Promise<[Server1Stores, Server1Stores]> {
  if (engine === 'postgres') {
    const url = await freshDatabase();
    const first = await openReplicaStores(url, ENV);
    return [first, await openReplicaStores(url, ENV)];
  }
  const { loadConfig, openStores } = await import('@jwt-handoff/server1');
  const stores = await openStores(loadConfig({ DATA_DIR: tempDataDir('jwt-handoff-sqlite'), ...ENV }), {
    log: { warn: () => {}, info: () => {} },
  });
  const { onTestFinished } = await import('vitest');
  onTestFinished(() => stores.close());
  return [stores, stores];
}

async function newKey(now: number, signFrom = now): Promise<StoredKey> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const kid = randomUUID();
  return {
    kid,
    alg: 'EdDSA',
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA' },
    createdAt: now,
    publishAt: now,
    signFrom,
    retireAt: null,
    unpublishAt: null,
  };
}

async function addUser(stores: Server1Stores, username = 'alice') {
  return stores.users.upsert({
    id: `usr_${randomUUID()}`,
    username,
    name: 'Alice',
    email: 'alice@example.test',
    passwordHash: 'hash-1',
    tokensValidAfter: null,
    createdAt: T0_MS,
  });
}

describe.each<Engine>(['postgres', 'sqlite'])('server1 stores on %s', (engine) => {
  describe('users', () => {
    it('finds a user by username whatever its case, and upserts by username', async () => {
      const [stores] = await openPair(engine);
      const alice = await addUser(stores, 'Alice');

      expect(await stores.users.findByUsername('aLICE')).toEqual(alice);
      const again = await stores.users.upsert({ ...alice, id: 'usr_other', name: 'Alice L.' });
      expect(again.id).toBe(alice.id);
      expect(again.name).toBe('Alice L.');
      expect(await stores.users.findById(alice.id)).toEqual(again);
      expect(await stores.users.findById('usr_other')).toBeUndefined();
    });

    it('replaces a password hash only while it is still the one read', async () => {
      const [stores] = await openPair(engine);
      const alice = await addUser(stores);

      expect(await stores.users.replacePasswordHash(alice.id, 'hash-0', 'hash-2')).toBe(false);
      expect(await stores.users.replacePasswordHash(alice.id, 'hash-1', 'hash-2')).toBe(true);
      await stores.users.setTokensValidAfter(alice.id, T0_MS + 5);
      expect(await stores.users.findById(alice.id)).toMatchObject({
        passwordHash: 'hash-2',
        tokensValidAfter: T0_MS + 5,
      });
    });
  });

  describe('sessions', () => {
    it('finds a session created by one replica at the other, until it idles out', async () => {
      const [a, b] = await openPair(engine);
      const alice = await addUser(a);
      const { id, session } = await a.sessions.create(alice.id, T0_MS);

      expect(await b.sessions.touch(id, T0_MS + 1000)).toEqual(session);
      expect(await b.sessions.touch('not-a-session', T0_MS)).toBeUndefined();
      expect(await b.sessions.count()).toBe(1);
      expect(await a.sessions.touch(id, T0_MS + 60_001)).toBeUndefined();
      expect(await b.sessions.count()).toBe(0);
    });

    it('moves a re-authenticated session to a new id at every replica, keeping its sid', async () => {
      const [a, b] = await openPair(engine);
      const alice = await addUser(a);
      const { id, session } = await a.sessions.create(alice.id, T0_MS);
      expect(session.authTime).toBe(T0_MS);

      const renewed = await b.sessions.reauthenticate(session.idHash, T0_MS + 5000);
      expect(renewed).toBeDefined();
      expect(renewed?.session).toMatchObject({ sid: session.sid, userId: alice.id, authTime: T0_MS + 5000 });
      expect(renewed?.id).not.toBe(id);
      expect(await a.sessions.touch(id, T0_MS + 5001)).toBeUndefined();
      expect(await a.sessions.touch(renewed?.id as string, T0_MS + 5001)).toMatchObject({
        authTime: T0_MS + 5000,
      });
      expect(await a.sessions.reauthenticate(session.idHash, T0_MS + 6000)).toBeUndefined();
    });

    it('records visits only of a live session, keeps them past its end, and forgets them on request', async () => {
      const [a, b] = await openPair(engine);
      const alice = await addUser(a);
      const { session } = await a.sessions.create(alice.id, T0_MS);

      expect(await b.sessions.recordVisit(session.sid, 'server2', T0_MS + 1)).toBe(true);
      expect(await a.sessions.recordVisit(session.sid, 'reports', T0_MS + 2)).toBe(true);
      expect(await a.sessions.recordVisit('no-such-sid', 'server2', T0_MS + 2)).toBe(false);
      expect(await b.sessions.deleteAllForUser(alice.id)).toEqual([session]);
      expect(await a.sessions.recordVisit(session.sid, 'billing', T0_MS + 3)).toBe(false);

      const visits = [
        { sid: session.sid, clientId: 'server2' },
        { sid: session.sid, clientId: 'reports' },
      ];
      expect(await a.sessions.visitsOfSession(session.sid, T0_MS + 4)).toEqual(visits);
      expect(await b.sessions.visitsOfUser(alice.id, T0_MS + 4)).toEqual(visits);
      await b.sessions.forgetVisits([visits[0] as (typeof visits)[0]]);
      expect(await a.sessions.visitsOfUser(alice.id, T0_MS + 4)).toEqual([visits[1]]);
    });

    it('purges sessions past their timeouts and visits past keeping', async () => {
      const [a] = await openPair(engine);
      const alice = await addUser(a);
      const { session } = await a.sessions.create(alice.id, T0_MS);
      await a.sessions.recordVisit(session.sid, 'server2', T0_MS);

      expect(await a.sessions.purgeExpired(T0_MS + 60_001)).toBe(1);
      expect(await a.sessions.visitsOfSession(session.sid, T0_MS + 60_001)).toHaveLength(1);
      // Kept one absolute lifetime (3,600,000 ms here) and the minute a repeat visit goes unwritten.
      await a.sessions.purgeExpired(T0_MS + 3_600_001);
      expect(await a.sessions.visitsOfSession(session.sid, 0)).toHaveLength(1);
      await a.sessions.purgeExpired(T0_MS + 3_660_000);
      expect(await a.sessions.visitsOfSession(session.sid, 0)).toEqual([]);
    });

    it('writes a repeat visit within a minute not at all, yet keeps every visit one absolute lifetime after the latest', async () => {
      const [a, b] = await openPair(engine);
      const alice = await addUser(a);
      const { session } = await a.sessions.create(alice.id, T0_MS);
      const absolute = 3_600_000;
      const visits = (at: number) => a.sessions.visitsOfSession(session.sid, at);

      expect(await a.sessions.recordVisit(session.sid, 'server2', T0_MS)).toBe(true);
      // A repeat within the minute, at either replica: answered, not written.
      expect(await b.sessions.recordVisit(session.sid, 'server2', T0_MS + 59_999)).toBe(true);
      expect(await visits(T0_MS + 59_999 + absolute)).toHaveLength(1);
      // Had the repeat been written, the visit would be kept until T0 + 59,999 ms + absolute + 1 min.
      expect(await visits(T0_MS + absolute + 60_000)).toEqual([]);

      // A minute after the last write, the next visit is written again.
      expect(await a.sessions.recordVisit(session.sid, 'server2', T0_MS + 60_000)).toBe(true);
      expect(await visits(T0_MS + 60_000 + absolute)).toHaveLength(1);
      expect(await visits(T0_MS + 120_000 + absolute)).toEqual([]);
    });

    it('answers a repeat visit of an ended session with false, even within the minute', async () => {
      const [a, b] = await openPair(engine);
      const alice = await addUser(a);
      const { session } = await a.sessions.create(alice.id, T0_MS);
      expect(await a.sessions.recordVisit(session.sid, 'server2', T0_MS)).toBe(true);

      await b.sessions.deleteAllForUser(alice.id);

      expect(await a.sessions.recordVisit(session.sid, 'server2', T0_MS + 1)).toBe(false);
      // The visit itself stays, for the sign-out that ended the session to reach its client.
      expect(await a.sessions.visitsOfSession(session.sid, T0_MS + 1)).toHaveLength(1);
    });
  });

  describe('signing keys', () => {
    it('makes one first key when replicas starting together each add one', async () => {
      const [a, b] = await openPair(engine);
      const keys = await Promise.all([newKey(T0_MS), newKey(T0_MS), newKey(T0_MS), newKey(T0_MS)]);

      const added = await Promise.all(keys.map((key, i) => (i % 2 ? a : b).keys.insertFirst(key, T0_MS)));

      expect(added.filter(Boolean)).toHaveLength(1);
      expect(await a.keys.list()).toHaveLength(1);
    });

    it('makes one new key when two replicas rotate at the same moment', async () => {
      const [a, b] = await openPair(engine);
      const first = await newKey(T0_MS);
      await a.keys.insertFirst(first, T0_MS);
      const now = T0_MS + 10_000;
      const retiring = [{ kid: first.kid, retireAt: now + 5000, unpublishAt: now + 9000 }];
      const [nextA, nextB] = await Promise.all([newKey(now, now + 5000), newKey(now, now + 5000)]);

      const rotated = await Promise.all([
        a.keys.rotate(nextA, retiring, now),
        b.keys.rotate(nextB, retiring, now),
      ]);

      expect(rotated.filter(Boolean)).toHaveLength(1);
      const listed = await b.keys.list();
      expect(listed.map((key) => key.kid)).toEqual([first.kid, rotated[0] ? nextA.kid : nextB.kid]);
      expect(listed[0]).toMatchObject({ retireAt: now + 5000, unpublishAt: now + 9000 });
      expect(listed[1]?.privateJwk).toEqual((rotated[0] ? nextA : nextB).privateJwk);
      expect(await a.keys.deleteDropped(now + 9000)).toBe(1);
      expect((await b.keys.list()).map((key) => key.kid)).toEqual([rotated[0] ? nextA.kid : nextB.kid]);
    });
  });

  describe('logout outbox', () => {
    const delivery = (n: number) => ({
      clientId: 'server2',
      sub: `usr_${n}`,
      sid: `sid-${n}`,
      tokensValidAfter: undefined,
    });

    it('leases each due delivery to one claimer; the other gets it only after the lease', async () => {
      const [a, b] = await openPair(engine);
      await a.outbox.enqueue([delivery(1)], T0_MS, 60_000);

      const claimedByA = await a.outbox.claimDue(T0_MS, 20, 5000);
      expect(claimedByA.map((d) => d.sub)).toEqual(['usr_1']);
      expect(await b.outbox.claimDue(T0_MS + 4999, 20, 5000)).toEqual([]);
      expect(await b.outbox.nextDueAt()).toBe(T0_MS + 5000);

      const claimedByB = await b.outbox.claimDue(T0_MS + 5000, 20, 5000);
      expect(claimedByB.map((d) => d.id)).toEqual(claimedByA.map((d) => d.id));
      await b.outbox.delivered(claimedByB[0]?.id as number);
      expect(await a.outbox.depth()).toBe(0);
      expect(await a.outbox.nextDueAt()).toBeUndefined();
    });

    it('gives a delivery back at once on release and on retryLater', async () => {
      const [a, b] = await openPair(engine);
      await a.outbox.enqueue([delivery(1), delivery(2)], T0_MS, 60_000);
      const [first, second] = await a.outbox.claimDue(T0_MS, 20, 5000);

      await a.outbox.release([first?.id as number]);
      await a.outbox.retryLater(second?.id as number, T0_MS + 100, 'HTTP 503');

      expect((await b.outbox.claimDue(T0_MS, 20, 5000)).map((d) => d.sub)).toEqual(['usr_1']);
      const retried = await b.outbox.claimDue(T0_MS + 100, 20, 5000);
      expect(retried).toMatchObject([{ sub: 'usr_2', attempts: 1 }]);
    });

    it('splits 200 due deliveries between two replicas claiming at once, none to both', async () => {
      const [a, b] = await openPair(engine);
      await a.outbox.enqueue(
        Array.from({ length: 200 }, (_, n) => delivery(n)),
        T0_MS,
        60_000,
      );

      const claims = await Promise.all(
        Array.from({ length: 20 }, (_, n) => (n % 2 ? a : b).outbox.claimDue(T0_MS, 20, 5000)),
      );

      const ids = claims.flat().map((d) => d.id);
      expect(ids).toHaveLength(200);
      expect(new Set(ids).size).toBe(200);
    });

    it('drops expired deliveries that nobody holds', async () => {
      const [a] = await openPair(engine);
      await a.outbox.enqueue([delivery(1), delivery(2)], T0_MS, 1000);
      await a.outbox.claimDue(T0_MS, 1, 5000);

      expect((await a.outbox.dropExpired(T0_MS + 1000)).map((d) => d.sub)).toEqual(['usr_2']);
      expect((await a.outbox.dropExpired(T0_MS + 5000)).map((d) => d.sub)).toEqual(['usr_1']);
    });
  });
});

describe('login throttle on postgres', () => {
  it('lets exactly the limit of 60 concurrent reservations for one account through, over two replicas', async () => {
    const [a, b] = await openPair('postgres');

    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, n) =>
        (n % 2 ? a : b).loginThrottle.reserve('alice', `192.0.2.${n % 7}`, T0_MS + n),
      ),
    );

    expect(answers.filter((answer) => answer.ok)).toHaveLength(5);
    expect(answers.filter((answer) => !answer.ok)).toHaveLength(55);
  });

  it('hands a refunded attempt back, and forgets the account on success but keeps the address count', async () => {
    const [a, b] = await openPair('postgres');
    const reserved = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => a.loginThrottle.reserve('Alice', '192.0.2.1', T0_MS + n)),
    );
    expect((await b.loginThrottle.reserve('alice', '192.0.2.9', T0_MS + 10)).ok).toBe(false);

    const first = reserved[0];
    if (!first?.ok) throw new Error('expected a reservation');
    await b.loginThrottle.refund(first.attempt);
    const again = await a.loginThrottle.reserve('alice', '192.0.2.9', T0_MS + 11);
    expect(again.ok).toBe(true);
    if (!again.ok) return;
    await a.loginThrottle.succeed(again.attempt);
    const after = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => b.loginThrottle.reserve('alice', '192.0.2.9', T0_MS + 20 + n)),
    );
    expect(after.every((answer) => answer.ok)).toBe(true);
  });

  it('forgets failures once the window has passed, and purges them', async () => {
    const url = await freshDatabase();
    const a = await openReplicaStores(url, ENV);
    for (let n = 0; n < 5; n++) await a.loginThrottle.reserve('alice', '192.0.2.1', T0_MS);
    const refused = await a.loginThrottle.reserve('alice', '192.0.2.1', T0_MS + 59_999);
    expect(refused).toEqual({ ok: false, retryAfterSec: 1 });
    expect((await a.loginThrottle.reserve('alice', '192.0.2.1', T0_MS + 60_000)).ok).toBe(true);

    await a.purgeExpired(T0_MS + 119_999);

    expect(await rowCount(url, 'login_failures')).toBe(3);
    await a.purgeExpired(T0_MS + 120_000);
    expect(await rowCount(url, 'login_failures')).toBe(0);
  });
});
