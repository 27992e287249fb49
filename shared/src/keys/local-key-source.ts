import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { withoutStackTrace } from '../errors.js';
import { KeyRevokedError, type KeySource } from './key-source.js';
import { requireKid } from './require-kid.js';

/** A key source over a JWKS held in memory: always ready. */
export function createLocalKeySource(jwks: JSONWebKeySet): KeySource {
  const lookUp = requireKid(createLocalJWKSet(jwks));
  const kids = new Set(jwks.keys.map((key) => key.kid).filter((kid) => typeof kid === 'string'));
  // The set is fixed, so revoking a kid only ever takes a key away.
  const revoked = new Set<string>();
  const getKey: JWTVerifyGetKey = (header, token) => {
    if (typeof header.kid === 'string' && revoked.has(header.kid)) {
      const kid = header.kid;
      throw withoutStackTrace(() => new KeyRevokedError(kid));
    }
    return lookUp(header, token);
  };
  return {
    getKey,
    isReady: () => true,
    refresh: async () => {},
    hasKid: (kid) => kids.has(kid) && !revoked.has(kid),
    revokeKids: async (ids) => {
      for (const kid of ids) revoked.add(kid);
    },
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
