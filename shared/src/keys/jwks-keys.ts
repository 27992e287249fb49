import { type CryptoKey, importJWK, type JWK } from 'jose';
import type { SigningAlgorithm } from '../tokens/verifier.js';

/** One usable public key of a JWKS, bound to the one algorithm it was published for. */
export interface VerificationKey {
  readonly alg: SigningAlgorithm;
  readonly key: CryptoKey;
}

/** Thrown when a document is not a JWKS or holds no usable key. */
export class InvalidJwksError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidJwksError';
  }
}

// Members that only a private (or symmetric) key has: a JWKS that carries them is a leak on the
// issuer's side, and such an entry is never a key we should verify with.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;

/**
 * Imports the keys of a JWKS document that can verify our tokens, by kid. A key is kept only when
 * it names its own `alg` and that alg is allowed: importing with the key's alg (never the token's)
 * means a token can never make us use a key with an algorithm it was not published for. Keys
 * that fail any check are skipped rather than failing the whole set, so that one odd entry (a key
 * type for another consumer) does not take the issuer's other keys down with it.
 */
export async function importKeySet(
  document: unknown,
  algorithms: readonly SigningAlgorithm[],
): Promise<Map<string, VerificationKey>> {
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (typeof document !== 'object' || document === null || !Array.isArray(keys)) {
    throw new InvalidJwksError('the document is not a JWKS ({"keys": [...]})');
  }
  const byKid = new Map<string, VerificationKey>();
  const ambiguous = new Set<string>();
  for (const candidate of keys) {
    const imported = await importOne(candidate, algorithms);
    if (!imported) continue;
    const [kid, key] = imported;
    // Two entries under one kid leave the choice of key to list order; refuse to guess.
    if (byKid.has(kid) || ambiguous.has(kid)) {
      byKid.delete(kid);
      ambiguous.add(kid);
      continue;
    }
    byKid.set(kid, key);
  }
  if (byKid.size === 0) throw new InvalidJwksError('the JWKS holds no usable key');
  return byKid;
}

async function importOne(
  candidate: unknown,
  algorithms: readonly SigningAlgorithm[],
): Promise<[string, VerificationKey] | undefined> {
  if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) return undefined;
  const jwk = candidate as JWK;
  if (typeof jwk.kid !== 'string' || jwk.kid.length === 0) return undefined;
  const alg = jwk.alg as SigningAlgorithm | undefined;
  if (typeof alg !== 'string' || !algorithms.includes(alg)) return undefined;
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify')))
    return undefined;
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) return undefined;
  try {
    const key = await importJWK(jwk, alg);
    // importJWK returns raw bytes only for symmetric keys, which the checks above already refused.
    if (key instanceof Uint8Array) return undefined;
    return [jwk.kid, { alg, key }];
  } catch {
    return undefined;
  }
}
