import {
  type BaseClaims,
  createLocalKeySource,
  createMemoryReplayStore,
  createVerifier,
  HANDOFF_PROFILE,
  LOGOUT_PROFILE,
  type ReplayStore,
  SERVICE_PROFILE,
  type TokenProfile,
  VerifiedTokenCache,
  type VerifierOptions,
} from '@jwt-handoff/shared';
import {
  type Claims,
  generateTestKey,
  jwksOf,
  mintToken,
  segmentsOf,
  T0,
  type TestKey,
  testClock,
} from '@jwt-handoff/testkit';
import { errors, type JWTVerifyGetKey } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIENCE, handoffClaims, ISSUER, logoutClaims, serviceClaims } from './helpers/tokens.js';

let key: TestKey;
let otherKey: TestKey;

beforeAll(async () => {
  [key, otherKey] = await Promise.all([generateTestKey('EdDSA'), generateTestKey('EdDSA')]);
});

/**
 * A key source over `keys` that counts its key look-ups (each one is a full verification) and
 * whose keys can be withdrawn, as a JWKS rotation would.
 */
function countingKeySource(keys: TestKey[], options: { withHasKid?: boolean } = {}) {
  const published = new Set(keys.map((k) => k.kid));
  const local = createLocalKeySource(jwksOf(...keys));
  const source = {
    lookups: 0,
    getKey: ((header, token) => {
      source.lookups++;
      if (header.kid === undefined || !published.has(header.kid)) {
        throw new errors.JWKSNoMatchingKey('no key with this kid');
      }
      return local.getKey(header, token);
    }) as JWTVerifyGetKey,
    ...(options.withHasKid === false ? {} : { hasKid: (kid: string) => published.has(kid) }),
    withdraw(kid: string) {
      published.delete(kid);
    },
  };
  return source;
}

function setup(profile: TokenProfile = SERVICE_PROFILE, options: Partial<VerifierOptions> = {}) {
  const clock = testClock();
  const keys = countingKeySource([key, otherKey]);
  const verify = createVerifier({
    profile,
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['EdDSA'],
    keySource: keys,
    now: clock.now,
    ...(profile.singleUse ? { replayStore: createMemoryReplayStore(clock.now) } : {}),
    ...options,
  });
  return { verify, clock, keys };
}

const serviceToken = (claims: Claims = {}, signer = key) =>
  mintToken(signer, serviceClaims(claims), 'service+jwt');

describe('verified-token cache: hits', () => {
  it('answers a second presentation with the same claims and header without a key look-up', async () => {
    const { verify, keys } = setup();
    const token = await serviceToken();
    const first = await verify(token);
    expect(first.ok).toBe(true);
    expect(keys.lookups).toBe(1);
    const second = await verify(token);
    const third = await verify(token);
    expect(keys.lookups).toBe(1);
    if (!first.ok || !second.ok || !third.ok) throw new Error('expected acceptance');
    expect(second.claims).toBe(first.claims);
    expect(third.header).toBe(first.header);
    expect(second.claims).toMatchObject({ sub: 'server1', scope: 'activity:read', iat: T0 });
  });

  it('hands out frozen claims, so one caller cannot change what the next is told', async () => {
    const { verify } = setup();
    const result = await verify(await serviceToken());
    if (!result.ok) throw new Error(result.reason);
    expect(Object.isFrozen(result.claims)).toBe(true);
    expect(Object.isFrozen(result.header)).toBe(true);
    expect(() => {
      (result.claims as BaseClaims).scope = 'admin';
    }).toThrow(TypeError);
  });

  it('is off with verifiedTokenCache: false: every presentation is verified in full', async () => {
    const { verify, keys } = setup(SERVICE_PROFILE, { verifiedTokenCache: false });
    const token = await serviceToken();
    for (let i = 0; i < 3; i++) expect((await verify(token)).ok).toBe(true);
    expect(keys.lookups).toBe(3);
  });

  it('refuses a bad cache option at construction', () => {
    for (const verifiedTokenCache of [{ maxEntries: 0 }, { maxEntries: 1.5 }, { maxEntries: -1 }]) {
      expect(() => setup(SERVICE_PROFILE, { verifiedTokenCache })).toThrow(/verifiedTokenCache/);
    }
  });
});

describe('verified-token cache: what a hit re-checks', () => {
  it('re-checks exp, with the same leeway, on every hit', async () => {
    const { verify, clock, keys } = setup();
    const token = await serviceToken(); // exp = T0 + 60, leeway 5 s
    expect((await verify(token)).ok).toBe(true);
    clock.setSec(T0 + 64);
    expect((await verify(token)).ok).toBe(true);
    expect(keys.lookups).toBe(1);
    clock.setSec(T0 + 65);
    expect(await verify(token)).toMatchObject({ ok: false, reason: 'token_expired' });
    expect(await verify(token)).toMatchObject({ ok: false, reason: 'token_expired' });
  });

  it('re-checks nbf and iat when the clock goes back', async () => {
    const { verify, clock } = setup();
    const token = await serviceToken({ nbf: T0 + 10 });
    clock.setSec(T0 + 10);
    expect((await verify(token)).ok).toBe(true);
    clock.setSec(T0);
    expect(await verify(token)).toMatchObject({ ok: false, reason: 'token_not_yet_valid' });

    const fresh = await serviceToken({ iat: T0 + 20, exp: T0 + 80 });
    clock.setSec(T0 + 20);
    expect((await verify(fresh)).ok).toBe(true);
    clock.setSec(T0 + 10);
    expect(await verify(fresh)).toMatchObject({ ok: false, reason: 'token_not_yet_valid' });
  });

  it('asks the revocation hook on every hit', async () => {
    let revoked = false;
    const asked: string[] = [];
    const { verify, keys } = setup(SERVICE_PROFILE, {
      isRevoked: (claims) => {
        asked.push(claims.jti);
        return revoked;
      },
    });
    const token = await serviceToken();
    expect((await verify(token)).ok).toBe(true);
    revoked = true;
    expect(await verify(token)).toMatchObject({ ok: false, reason: 'token_revoked' });
    revoked = false;
    expect((await verify(token)).ok).toBe(true);
    expect(asked).toHaveLength(3);
    expect(keys.lookups).toBe(1);
  });

  it('drops a token whose kid left the key set, which is then refused as unknown_kid', async () => {
    const { verify, keys } = setup();
    const token = await serviceToken({}, otherKey);
    const unrelated = await serviceToken({}, key);
    expect((await verify(token)).ok).toBe(true);
    expect((await verify(unrelated)).ok).toBe(true);
    keys.withdraw(otherKey.kid);
    expect(await verify(token)).toMatchObject({ ok: false, reason: 'unknown_kid' });
    expect(keys.lookups).toBe(3);
    // The other key's tokens are still served from the cache.
    expect((await verify(unrelated)).ok).toBe(true);
    expect(keys.lookups).toBe(3);
  });

  it('keeps serving a hit when the key source cannot tell which kids it holds', async () => {
    const clock = testClock();
    const keys = countingKeySource([key], { withHasKid: false });
    const verify = createVerifier({
      profile: SERVICE_PROFILE,
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['EdDSA'],
      keySource: keys,
      now: clock.now,
    });
    const token = await serviceToken();
    expect((await verify(token)).ok).toBe(true);
    keys.withdraw(key.kid);
    // Bounded by the token's own expiry (at most 60 s + leeway for a service token).
    expect((await verify(token)).ok).toBe(true);
    clock.setSec(T0 + 65);
    expect(await verify(token)).toMatchObject({ ok: false, reason: 'unknown_kid' });
  });
});

describe('verified-token cache: what it never does', () => {
  it('never caches a refusal: a token refused once is verified in full the next time', async () => {
    let revoked = true;
    const { verify, keys } = setup(SERVICE_PROFILE, { isRevoked: () => revoked });
    const token = await serviceToken();
    expect(await verify(token)).toMatchObject({ ok: false, reason: 'token_revoked' });
    expect(await verify(token)).toMatchObject({ ok: false, reason: 'token_revoked' });
    expect(keys.lookups).toBe(2);
    revoked = false;
    expect((await verify(token)).ok).toBe(true);
    expect(keys.lookups).toBe(3);
  });

  it('treats a tampered token string as a different key and verifies it in full', async () => {
    const { verify, keys } = setup();
    const token = await serviceToken();
    expect((await verify(token)).ok).toBe(true);
    const [header, payload, signature] = segmentsOf(token);
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Claims;
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, scope: 'admin' })).toString('base64url');
    expect(await verify(`${header}.${forgedPayload}.${signature}`)).toMatchObject({
      ok: false,
      reason: 'invalid_signature',
    });
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    expect(await verify(`${header}.${payload}.${flipped}`)).toMatchObject({
      ok: false,
      reason: 'invalid_signature',
    });
    expect(keys.lookups).toBe(3);
    // The genuine token is still a hit.
    expect((await verify(token)).ok).toBe(true);
    expect(keys.lookups).toBe(3);
  });

  it('never caches handoff or logout tokens, even with a cache option and a permissive store', async () => {
    // A replay store that lets every presentation through isolates the cache from replay checks.
    const permissive: ReplayStore = { markUsed: async () => true };
    const cases: [TokenProfile, Claims, string][] = [
      [HANDOFF_PROFILE, handoffClaims(), 'handoff+jwt'],
      [LOGOUT_PROFILE, logoutClaims(), 'logout+jwt'],
    ];
    for (const [profile, claims, typ] of cases) {
      const { verify, keys } = setup(profile, {
        replayStore: permissive,
        verifiedTokenCache: { maxEntries: 100 },
      });
      const token = await mintToken(key, claims, typ);
      expect((await verify(token)).ok).toBe(true);
      expect((await verify(token)).ok).toBe(true);
      expect(keys.lookups).toBe(2);
    }
  });

  it('still refuses a replayed handoff token on its second presentation', async () => {
    const { verify } = setup(HANDOFF_PROFILE);
    const token = await mintToken(key, handoffClaims(), 'handoff+jwt');
    expect((await verify(token)).ok).toBe(true);
    expect(await verify(token)).toMatchObject({ ok: false, reason: 'token_replayed' });
  });
});

describe('verified-token cache: bound', () => {
  it('holds at most maxEntries tokens, evicting the least recently used', async () => {
    const { verify, keys } = setup(SERVICE_PROFILE, { verifiedTokenCache: { maxEntries: 2 } });
    const [a, b, c] = await Promise.all([serviceToken(), serviceToken(), serviceToken()]);
    await verify(a);
    await verify(b);
    await verify(a); // a is now the most recently used
    expect(keys.lookups).toBe(2);
    await verify(c); // evicts b
    expect(keys.lookups).toBe(3);
    await verify(a);
    await verify(c);
    expect(keys.lookups).toBe(3);
    await verify(b); // evicted: verified in full again
    expect(keys.lookups).toBe(4);
  });

  it('never grows past its bound, whatever is stored', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 3 });
    const claims = serviceClaims() as unknown as BaseClaims;
    for (let i = 0; i < 50; i++) {
      cache.set(`token-${i}`, { ...claims }, { alg: 'EdDSA' });
      expect(cache.size).toBeLessThanOrEqual(3);
    }
    expect(cache.get('token-49')).toBeDefined();
    expect(cache.get('token-46')).toBeUndefined();
  });

  it('keys by the whole string: a hit needs an identical token, however the string was made', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 10 });
    const claims = serviceClaims() as unknown as BaseClaims;
    const header = 'Bearer aaaa.bbbb.cccc';
    const stored = cache.set(header.slice('Bearer '.length), claims, { alg: 'EdDSA' });
    // Built another way (not the same string object): still the same token, still a hit.
    expect(cache.get(['aaaa', 'bbbb', 'cccc'].join('.'))).toBe(stored);
    // Any other string misses, whether it differs in its last byte, is a prefix, or is longer.
    for (const other of ['aaaa.bbbb.cccd', 'aaaa.bbbb.ccc', 'aaaa.bbbb.cccca', 'Aaaa.bbbb.cccc']) {
      expect(cache.get(other)).toBeUndefined();
    }
  });
});
