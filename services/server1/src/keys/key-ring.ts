import { createHash } from 'node:crypto';
import type { SigningAlgorithm, SigningKey } from '@jwt-handoff/shared';
import { type CryptoKey, importJWK, type JWK } from 'jose';
import type { KeyStore, StoredKey } from '../stores/key-store.js';
import { generateSigningKey } from './generate-key.js';

/** The JWKS document as served: body and its strong ETag. */
export interface PublishedJwks {
  readonly body: string;
  readonly etag: string;
}

/**
 * server1's signing keys: which one signs now, and which are published. Keys are read from the
 * store once and imported once; the store supports any number of keys at once, each with its own
 * timeline, so that rotation can publish a key before it signs and keep it after it retires.
 */
export class KeyRing {
  private jwksCache: { kids: string; jwks: PublishedJwks } | undefined;

  private constructor(
    private readonly keys: readonly StoredKey[],
    private readonly privateKeys: ReadonlyMap<string, CryptoKey>,
  ) {}

  /**
   * Loads the keys, generating and storing a first key when none signs at `now`. A first key
   * may sign at once: no verifier can hold a stale JWKS that lacks it.
   */
  static async open(store: KeyStore, algorithm: SigningAlgorithm, now: number): Promise<KeyRing> {
    let keys = await store.list();
    if (!keys.some((key) => isSigning(key, now))) {
      const generated = await generateSigningKey(algorithm);
      await store.insert({
        ...generated,
        createdAt: now,
        publishAt: now,
        signFrom: now,
        retireAt: null,
        unpublishAt: null,
      });
      keys = await store.list();
    }
    const privateKeys = new Map<string, CryptoKey>();
    for (const key of keys) {
      privateKeys.set(key.kid, (await importJWK(key.privateJwk, key.alg)) as CryptoKey);
    }
    return new KeyRing(keys, privateKeys);
  }

  /** The newest key that may sign at `now`. */
  signingKey(now: number): SigningKey {
    const key = this.keys.filter((candidate) => isSigning(candidate, now)).at(-1);
    if (!key) throw new Error('no signing key is active; restart server1 to generate one');
    return {
      kid: key.kid,
      alg: key.alg as SigningAlgorithm,
      privateKey: this.privateKeys.get(key.kid) as CryptoKey,
    };
  }

  /** The JWKS of the keys published at `now`: public members only. */
  jwks(now: number): PublishedJwks {
    const published = this.keys.filter((key) => isPublished(key, now));
    const kids = published.map((key) => key.kid).join(',');
    if (this.jwksCache?.kids !== kids) {
      const body = JSON.stringify({ keys: published.map((key) => publicMembers(key.publicJwk)) });
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      this.jwksCache = { kids, jwks: { body, etag } };
    }
    return this.jwksCache.jwks;
  }
}

function isSigning(key: StoredKey, now: number): boolean {
  return key.signFrom <= now && (key.retireAt === null || key.retireAt > now);
}

function isPublished(key: StoredKey, now: number): boolean {
  return key.publishAt <= now && (key.unpublishAt === null || key.unpublishAt > now);
}

// An allowlist, not a denylist: whatever else a stored JWK holds (d, p, q, ...) never leaves.
const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'kid', 'alg', 'use'] as const;

function publicMembers(jwk: JWK): JWK {
  const out: JWK = {};
  for (const member of PUBLIC_MEMBERS) {
    if (jwk[member] !== undefined) (out as Record<string, unknown>)[member] = jwk[member];
  }
  return out;
}
