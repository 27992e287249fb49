import { createLocalKeySource, type KeySource } from '@jwt-handoff/shared';
import type { JSONWebKeySet } from 'jose';
import type { KeyRing } from './key-ring.js';

/**
 * server1's own published keys as a {@link KeySource}, for the tokens it verifies itself (logout
 * hints): exactly what its JWKS publishes at the time, so a hint signed by a dropped or revoked
 * key is refused like any other token of that key. Rebuilt only when the JWKS changes (its ETag).
 */
export function ownKeySource(keyRing: Pick<KeyRing, 'jwks'>, now: () => number): KeySource {
  let built: { etag: string; source: KeySource } | undefined;
  const current = (): KeySource => {
    const jwks = keyRing.jwks(now());
    if (built?.etag !== jwks.etag)
      built = { etag: jwks.etag, source: createLocalKeySource(JSON.parse(jwks.body) as JSONWebKeySet) };
    return built.source;
  };
  return {
    getKey: (header, token) => current().getKey(header, token),
    isReady: () => true,
    refresh: async () => {},
    hasKid: (kid) => current().hasKid?.(kid) === true,
  };
}
