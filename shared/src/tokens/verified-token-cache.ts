import { createHash } from 'node:crypto';
import type { JWTHeaderParameters } from 'jose';
import type { BaseClaims } from './claims.js';

/** Options of the verified-token cache (`verifiedTokenCache` of the verifier). */
export interface VerifiedTokenCacheOptions {
  /** The most verified tokens held at once; the least recently used one goes first. */
  maxEntries: number;
}

/** Defaults of {@link VerifiedTokenCacheOptions}. */
export const VERIFIED_TOKEN_CACHE_DEFAULTS: Readonly<VerifiedTokenCacheOptions> = Object.freeze({
  maxEntries: 10_000,
});

/** What the cache keeps of one token that passed full verification. */
export interface CachedVerification<C extends BaseClaims = BaseClaims> {
  readonly claims: C;
  readonly header: JWTHeaderParameters;
}

/**
 * Remembers tokens that passed full verification, so that a reusable token (a service token,
 * presented on every API call for up to a minute) costs one signature check, not one per call.
 *
 * - Keyed by the SHA-256 of the whole token string: every byte of header, payload and signature
 *   is in the key, so a token that differs in any way (a tampered claim, a re-spelled signature)
 *   is a different key and goes through full verification. A collision would need a SHA-256
 *   collision between a token the issuer signed and one the attacker chose. A cheaper hash
 *   (or a non-cryptographic one) would let an attacker search for a string that lands on a
 *   cached entry; the digest costs about a microsecond, against ~50 µs for an Ed25519 check.
 *   Hashing also bounds the key at 32 bytes whatever the token's size.
 * - Holds only successes: a refusal is never cached, so the cache cannot turn a rejection into
 *   an acceptance, only save the repeated work of an acceptance.
 * - Bounded in entries, least recently used first out. An entry is useless once its token has
 *   expired; the verifier drops it on its next hit, and eviction drops the rest.
 *
 * What a hit must still re-check (expiry, not-before, revocation, the key still published) is
 * the verifier's job, because it owns the clock, the leeway and the hooks.
 */
export class VerifiedTokenCache<C extends BaseClaims = BaseClaims> {
  // A Map iterates in insertion order: re-inserting on every hit keeps the least recently used
  // entry first, where eviction takes it.
  private readonly entries = new Map<string, CachedVerification<C>>();
  private readonly maxEntries: number;

  constructor(options: VerifiedTokenCacheOptions = VERIFIED_TOKEN_CACHE_DEFAULTS) {
    if (!Number.isSafeInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new TypeError('verified-token cache option "maxEntries" must be a positive whole number');
    }
    this.maxEntries = options.maxEntries;
  }

  /** The cache key of `token`: the SHA-256 of the whole string. */
  static keyOf(token: string): string {
    return createHash('sha256').update(token).digest('base64');
  }

  /** The entry under `key`, marked as the most recently used; undefined on a miss. */
  get(key: string): CachedVerification<C> | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  /** Stores a verified token's claims and header, evicting the least recently used when full. */
  set(key: string, claims: C, header: JWTHeaderParameters): CachedVerification<C> {
    // Frozen, because every hit hands out the same objects: one caller must not be able to
    // change what the next one is told.
    const entry: CachedVerification<C> = Object.freeze({
      claims: deepFreeze(claims),
      header: deepFreeze(header),
    });
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, entry);
    return entry;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** How many tokens are held now. */
  get size(): number {
    return this.entries.size;
  }
}

/**
 * Whether cached claims are still within their time window at `nowMs`, by the same rules and
 * leeway as the full verification: jose's exp and nbf checks (on whole seconds) and the
 * verifier's own "iat not in the future" check.
 */
export function stillInTime(claims: BaseClaims, nowMs: number, toleranceSec: number): boolean {
  const wholeSec = Math.floor(nowMs / 1000);
  if (claims.exp <= wholeSec - toleranceSec) return false;
  if (typeof claims.nbf === 'number' && claims.nbf > wholeSec + toleranceSec) return false;
  return claims.iat <= nowMs / 1000 + toleranceSec;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
