import { loadConfig } from '@jwt-handoff/server2';
import { ConfigError, createLocalKeySource, type KeySource } from '@jwt-handoff/shared';
import { generateTestKey, mintToken, type TestKey } from '@jwt-handoff/testkit';
import type { JWTVerifyGetKey } from 'jose';
import { describe, expect, it } from 'vitest';
import { expectJsonError, getActivity, serviceClaims, startServer2 } from './helpers.js';

/**
 * A key source over `key` that counts key look-ups (one per full verification) and can withdraw
 * the key, as server1 would once a rotated-out key's tokens have expired.
 */
function countingKeySource(key: TestKey) {
  const local = createLocalKeySource({ keys: [key.publicJwk] });
  let published = true;
  const counter = { lookups: 0 };
  const keySource: KeySource = {
    getKey: ((header, token) => {
      counter.lookups++;
      return local.getKey(published ? header : { ...header, kid: `${header.kid}-withdrawn` }, token);
    }) as JWTVerifyGetKey,
    isReady: () => true,
    refresh: async () => {},
    hasKid: (kid) => published && kid === key.kid,
  };
  return {
    keySource,
    counter,
    withdraw: () => {
      published = false;
    },
  };
}

async function serverWith(env: Record<string, string>) {
  const key = await generateTestKey();
  const keys = countingKeySource(key);
  const server = await startServer2({ env, keySource: keys.keySource });
  const mintService = (overrides = {}) =>
    mintToken(key, serviceClaims(server.clock, overrides), 'service+jwt');
  return { server, keys, mintService };
}

describe('the verified-token cache on GET /api/users/:sub/activity', () => {
  it.each([
    ['on (the default)', {}, 1],
    ['off', { VERIFIED_TOKEN_CACHE: 'false' }, 2],
  ])('accepts a service token twice with the cache %s', async (_name, env, lookups) => {
    const { server, keys, mintService } = await serverWith(env);
    const token = await mintService();

    for (let i = 0; i < 2; i++) {
      const response = await getActivity(server, 'user-alice', `Bearer ${token}`);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ sub: 'user-alice', active_sessions: 0 });
    }
    expect(keys.counter.lookups).toBe(lookups);
  });

  it('refuses an expired token on its next presentation, although it was cached', async () => {
    const { server, keys, mintService } = await serverWith({});
    const token = await mintService(); // exp = iat + 60 s, leeway 5 s

    expect((await getActivity(server, 'user-alice', `Bearer ${token}`)).statusCode).toBe(200);
    server.clock.advance(64_000);
    expect((await getActivity(server, 'user-alice', `Bearer ${token}`)).statusCode).toBe(200);
    expect(keys.counter.lookups).toBe(1);
    server.clock.advance(1_000);
    expectJsonError(await getActivity(server, 'user-alice', `Bearer ${token}`), 401, 'token_expired');
  });

  it('refuses a cached token once its key has left the key set', async () => {
    const { server, keys, mintService } = await serverWith({});
    const token = await mintService();

    expect((await getActivity(server, 'user-alice', `Bearer ${token}`)).statusCode).toBe(200);
    keys.withdraw();
    expectJsonError(await getActivity(server, 'user-alice', `Bearer ${token}`), 401, 'unknown_kid');
  });

  it('never caches a refusal: a token for another audience stays refused', async () => {
    const { server, mintService } = await serverWith({});
    const token = await mintService({ aud: 'server3' });

    for (let i = 0; i < 2; i++) {
      expectJsonError(await getActivity(server, 'user-alice', `Bearer ${token}`), 401, 'invalid_audience');
    }
  });
});

describe('VERIFIED_TOKEN_CACHE and VERIFIED_TOKEN_CACHE_MAX_ENTRIES', () => {
  it('default to on and 10000 entries', () => {
    expect(loadConfig({})).toMatchObject({ verifiedTokenCache: true, verifiedTokenCacheMaxEntries: 10_000 });
  });

  it('are read from the environment', () => {
    expect(
      loadConfig({ VERIFIED_TOKEN_CACHE: 'false', VERIFIED_TOKEN_CACHE_MAX_ENTRIES: '50' }),
    ).toMatchObject({ verifiedTokenCache: false, verifiedTokenCacheMaxEntries: 50 });
  });

  it.each([
    ['VERIFIED_TOKEN_CACHE', 'sometimes'],
    ['VERIFIED_TOKEN_CACHE_MAX_ENTRIES', '0'],
    ['VERIFIED_TOKEN_CACHE_MAX_ENTRIES', 'many'],
  ])('refuses %s=%j, naming the variable', (name, value) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([expect.stringMatching(new RegExp(`^${name} `))]);
  });
});
