import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import type { KeySource } from './key-source.js';
import { requireKid } from './require-kid.js';

/** A key source over a JWKS held in memory: always ready. */
export function createLocalKeySource(jwks: JSONWebKeySet): KeySource {
  const getKey = requireKid(createLocalJWKSet(jwks));
  const kids = new Set(jwks.keys.map((key) => key.kid).filter((kid) => typeof kid === 'string'));
  return {
    getKey,
    isReady: () => true,
    refresh: async () => {},
    hasKid: (kid) => kids.has(kid),
    async getKeyWithOrigin(header, token) {
      const key = await getKey(header, token);
      return {
        key,
        origin: {
          kid: header.kid as string,
          alg: header.alg ?? '',
          source: 'a local key set',
          fetchedAtMs: undefined,
          fetched: false,
        },
      };
    },
  };
}
