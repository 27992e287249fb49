import { CookieJar, type TestClock, waitFor } from '@jwt-handoff/testkit';
import { tempDataDir } from '@jwt-handoff/testkit/vitest';
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BILLING,
  clientsWith,
  type FakeClient,
  handoffToken,
  listedKeys,
  PUBLIC_URL,
  publishedKeys,
  publishedKids,
  runKeysCli,
  type Server1Harness,
  signIn,
  startFakeClient,
  startServer1,
  storedKids,
} from './helpers.js';

// A running server1 re-reads its keys once a second, on a real timer; generous for a loaded machine.
const RELOAD_WAIT_MS = 10_000;
const ENV = { JWKS_MAX_AGE_SEC: '60', KEY_TIMING_MARGIN_MS: '10000' };

let dataDir: string;
let server2: FakeClient;
let billing: FakeClient;

beforeEach(async () => {
  dataDir = tempDataDir('jwt-handoff-server1');
  server2 = await startFakeClient();
  billing = await startFakeClient();
});

afterEach(async () => {
  await Promise.all([server2.close(), billing.close()]);
});

function env(): Record<string, string> {
  return { ...ENV, CLIENTS: clientsWith(server2, billing) };
}

function start(clock?: TestClock): Promise<Server1Harness> {
  return startServer1({ dataDir, env: env(), ...(clock ? { clock } : {}) });
}

/** Runs `keys revoke KID` at the time of `clock` (a server's, running or stopped). */
const revoke = (clock: TestClock, kid: string) => runKeysCli(dataDir, ['revoke', kid], { env: env(), clock });

/** The keys-changed tokens `fake` received, verified against `jwks` as their client would. */
async function keysChangedEvents(fake: FakeClient, audience: string, jwks: JSONWebKeySet) {
  const events: Array<{ kid: string | undefined; typ: string | undefined; claims: JWTPayload }> = [];
  for (const post of fake.logouts) {
    const token = post.fields.get('keys_changed_token');
    if (token === null) continue;
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: PUBLIC_URL,
      audience,
      typ: 'keys-changed+jwt',
      currentDate: new Date((payload0(token).iat as number) * 1000),
    });
    events.push({ kid: protectedHeader.kid, typ: protectedHeader.typ, claims: payload });
  }
  return events;
}

const payload0 = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as JWTPayload;

describe('npm run keys -- revoke, against a running server1', () => {
  it('drops the signing key from the JWKS, signs with a new key from then on, and tells every client', async () => {
    const server = await start();
    const alice = new CookieJar();
    await signIn(server.app, alice);
    const [revoked] = (await publishedKids(server.app)) as [string];

    const run = await revoke(server.clock, revoked);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`key ${revoked} is revoked: it left the JWKS and never signs again\n`);
    const replacement = /key (\S+) signs from now on \(new\)/.exec(run.stdout)?.[1] as string;
    expect(replacement).toMatch(/^[\w-]{43}$/);
    expect(run.stdout).toContain('keys-changed event queued for 2 client(s): server2, billing\n');
    expect(listedKeys(run.stdout).map((key) => [key.kid, key.state])).toEqual([[replacement, 'current']]);

    await waitFor(
      'the running server1 to drop the revoked key',
      async () => !(await publishedKids(server.app)).includes(revoked),
      RELOAD_WAIT_MS,
    );
    const jwks = await publishedKeys(server.app);
    expect(jwks.keys.map((key) => key.kid)).toEqual([replacement]);
    // Never signs again: its private half is gone from the store, and tokens name the new key.
    expect(storedKids(dataDir)).toEqual([replacement]);
    for (let i = 0; i < 3; i++)
      expect(decodeProtectedHeader(await handoffToken(server.app, alice)).kid).toBe(replacement);

    // One event per client with a back-channel URL, signed by the new key, naming the revoked one.
    await waitFor(
      'both clients to receive the event',
      () => server2.logouts.length + billing.logouts.length >= 2,
    );
    for (const [fake, audience] of [
      [server2, 'server2'],
      [billing, BILLING.id],
    ] as const) {
      const events = await keysChangedEvents(fake, audience, jwks);
      expect(events).toHaveLength(1);
      const [event] = events as [(typeof events)[number]];
      expect(event.kid).toBe(replacement);
      expect(event.typ).toBe('keys-changed+jwt');
      expect(event.claims).toMatchObject({
        iss: PUBLIC_URL,
        sub: PUBLIC_URL,
        aud: audience,
        revoked_kids: [revoked],
      });
      expect(typeof event.claims.jti).toBe('string');
      expect((event.claims.exp as number) - (event.claims.iat as number)).toBeLessThanOrEqual(120);
      expect(fake.logouts[0]?.fields.get('logout_token')).toBeNull();
    }
  }, 30_000);

  it('brings the waiting next key forward when a rotation is under way, and generates none', async () => {
    const server = await start();
    const [current] = (await publishedKids(server.app)) as [string];
    const rotation = await runKeysCli(dataDir, ['rotate'], { env: env(), clock: server.clock });
    expect(rotation.code, rotation.stderr).toBe(0);
    const next = /new key (\S+)/.exec(rotation.stdout)?.[1] as string;

    const run = await revoke(server.clock, current);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`key ${next} signs from now on (the next key, brought forward)\n`);
    await waitFor(
      'the running server1 to drop the revoked key',
      async () => (await publishedKids(server.app)).join() === next,
      RELOAD_WAIT_MS,
    );
    const alice = new CookieJar();
    await signIn(server.app, alice);
    expect(decodeProtectedHeader(await handoffToken(server.app, alice)).kid).toBe(next);
  }, 30_000);

  it('revoking the next key of a rotation keeps the current key signing, for good', async () => {
    const server = await start();
    const [current] = (await publishedKids(server.app)) as [string];
    const rotation = await runKeysCli(dataDir, ['rotate'], { env: env(), clock: server.clock });
    const next = /new key (\S+)/.exec(rotation.stdout)?.[1] as string;

    const run = await revoke(server.clock, next);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain('signs from now on');
    expect(listedKeys(run.stdout)).toEqual([
      expect.objectContaining({ kid: current, state: 'current', stopsSigning: '-' }),
    ]);
    await waitFor(
      'the running server1 to drop the revoked key',
      async () => (await publishedKids(server.app)).join() === current,
      RELOAD_WAIT_MS,
    );
    // Long past the rotation's planned switch: the current key still signs.
    server.clock.advance(24 * 3_600_000);
    const alice = new CookieJar();
    await signIn(server.app, alice);
    expect(decodeProtectedHeader(await handoffToken(server.app, alice)).kid).toBe(current);
  }, 30_000);
});

describe('npm run keys -- revoke, against a stopped server1', () => {
  it('takes effect at the next start: the key is never published nor used, and the events go out then', async () => {
    const first = await start();
    const [revoked] = (await publishedKids(first.app)) as [string];
    await first.stop();

    const run = await revoke(first.clock, revoked);
    expect(run.code, run.stderr).toBe(0);
    expect(server2.logouts).toEqual([]);

    const server = await start(first.clock);
    const jwks = await publishedKeys(server.app);
    expect(jwks.keys.map((key) => key.kid)).not.toContain(revoked);
    const alice = new CookieJar();
    await signIn(server.app, alice);
    expect(decodeProtectedHeader(await handoffToken(server.app, alice)).kid).not.toBe(revoked);
    await waitFor(
      'the queued events to go out',
      () => server2.logouts.length >= 1 && billing.logouts.length >= 1,
    );
    const [event] = await keysChangedEvents(server2, 'server2', jwks);
    expect(event?.claims.revoked_kids).toEqual([revoked]);
  }, 30_000);
});

describe('npm run keys -- revoke refusals', () => {
  it.each([[['revoke']], [['revoke', 'a', 'b']], [['revoke', '']], [['list', 'x']]])(
    'exits 2 with the usage for %j',
    async (args) => {
      const server = await start();
      await server.stop();
      const run = await runKeysCli(dataDir, args, { env: env() });

      expect(run.code).toBe(2);
      expect(run.stderr).toContain('usage: npm run keys -- list | rotate | revoke KID');
    },
  );

  it('refuses a kid that is not published, or already revoked, changing nothing', async () => {
    const server = await start();
    const [kid] = (await publishedKids(server.app)) as [string];
    await server.stop();

    const unknown = await revoke(server.clock, 'no-such-kid');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('keys: no published key has kid no-such-kid (see npm run keys -- list)\n');
    expect(storedKids(dataDir)).toEqual([kid]);

    expect((await revoke(server.clock, kid)).code).toBe(0);
    const again = await revoke(server.clock, kid);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`no published key has kid ${kid}`);
  });
});
