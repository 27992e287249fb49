import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import type { KeySource } from './key-source.js';
import { requireKid } from './require-kid.js';

/** A key source over a JWKS held in memory: always ready. */
export function createLocalKeySource(jwks: JSONWebKeySet): KeySource {
  const getKey = requireKid(createLocalJWKSet(jwks));
  return {
    getKey,
    isReady: () => true,
    refresh: async () => {},
  };
}
