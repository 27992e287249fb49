import type { SigningAlgorithm, SigningKey } from '@jwt-handoff/shared';
import { type CryptoKey, importJWK, type JWK } from 'jose';
import { type CacheableDocument, cacheableDocument } from '../http/cacheable-document.js';
import type { KeyStore, StoredKey } from '../stores/key-store.js';
import { generateSigningKey } from './generate-key.js';
import { isPublished, isSigning, type KeyState, keyState, nextTransition } from './key-timeline.js';

/** The JWKS document as served: body and its strong ETag. */
export type PublishedJwks = CacheableDocument;

/** One key as `keys list` shows it. */
export interface KeyDescription {
  readonly kid: string;
  readonly alg: string;
  readonly state: KeyState;
  readonly publishAt: number;
  readonly signFrom: number;
  readonly retireAt: number | null;
  readonly unpublishAt: number | null;
  readonly nextTransition: { to: KeyState; at: number } | undefined;
}

/**
 * server1's signing keys: which one signs now and which are published. It holds any number of
 * keys, each with its own timeline (key-timeline.ts), so a new key is published before it signs
 * and an old one stays published after it retires. Keys come from the store (and are re-read by
 * {@link KeyRing.reload}, so a rotation made by the CLI reaches a running server) or, fixed, from
 * the environment.
 */
export class KeyRing {
  private keys: readonly StoredKey[] = [];
  private readonly privateKeys = new Map<string, CryptoKey>();
  private jwksCache: { kids: string; jwks: PublishedJwks } | undefined;

  private constructor(private readonly store: KeyStore | undefined) {}

  /**
   * Keys from the store, generating a first key when none signs at `now`. A first key may sign
   * at once: no verifier can hold a JWKS that lacks it.
   */
  static async fromStore(
    store: KeyStore,
    algorithm: SigningAlgorithm,
    now: number,
    options: { generateFirstKey?: boolean } = {},
  ): Promise<KeyRing> {
    const ring = new KeyRing(store);
    await ring.reload();
    if (options.generateFirstKey !== false && !ring.keys.some((key) => isSigning(key, now))) {
      const generated = await generateSigningKey(algorithm);
      await store.insertFirst(
        { ...generated, createdAt: now, publishAt: now, signFrom: now, retireAt: null, unpublishAt: null },
        now,
      );
      await ring.reload();
    }
    return ring;
  }

  /** A fixed set of keys (from the environment): they never change while the process runs. */
  static async fromKeys(keys: readonly StoredKey[]): Promise<KeyRing> {
    const ring = new KeyRing(undefined);
    await ring.load(keys);
    return ring;
  }

  /** Whether the keys come from the store, and so can be rotated. */
  get rotatable(): boolean {
    return this.store !== undefined;
  }

  /** Re-reads the store; imports only keys not seen before. */
  async reload(): Promise<void> {
    if (this.store) await this.load(await this.store.list());
  }

  /** The newest key that may sign at `now`. */
  signingKey(now: number): SigningKey {
    const key = this.keys.filter((candidate) => isSigning(candidate, now)).at(-1);
    if (!key) throw new Error('no signing key is active: run `npm run keys -- rotate` or restart server1');
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
      this.jwksCache = { kids, jwks: cacheableDocument(body) };
    }
    return this.jwksCache.jwks;
  }

  /** Every key that is not dropped, with its state and next transition at `now`. */
  describe(now: number): KeyDescription[] {
    return this.keys
      .filter((key) => keyState(key, now) !== 'dropped')
      .map((key) => ({
        kid: key.kid,
        alg: key.alg,
        state: keyState(key, now),
        publishAt: key.publishAt,
        signFrom: key.signFrom,
        retireAt: key.retireAt,
        unpublishAt: key.unpublishAt,
        nextTransition: nextTransition(key, now),
      }));
  }

  private async load(keys: readonly StoredKey[]): Promise<void> {
    // A dropped key's private half leaves memory with its row.
    for (const kid of this.privateKeys.keys()) {
      if (!keys.some((key) => key.kid === kid)) this.privateKeys.delete(kid);
    }
    for (const key of keys) {
      if (!this.privateKeys.has(key.kid)) {
        this.privateKeys.set(key.kid, (await importJWK(key.privateJwk, key.alg)) as CryptoKey);
      }
    }
    this.keys = keys;
  }
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
