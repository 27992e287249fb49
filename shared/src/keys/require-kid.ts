import { errors, type JWTVerifyGetKey } from 'jose';

/**
 * Wraps a jose key resolver so that a token must name its key. Without this, jose would pick the
 * only key of a one-key set for a token with no kid; every token we mint carries one, so a token
 * without it is not ours. Embedded key material (jwk, jku, x5u, x5c headers) is never read here.
 */
export function requireKid(getKey: JWTVerifyGetKey): JWTVerifyGetKey {
  return (header, token) => {
    if (typeof header.kid !== 'string' || header.kid.length === 0) {
      throw new errors.JWKSNoMatchingKey('the token header names no kid');
    }
    return getKey(header, token);
  };
}
