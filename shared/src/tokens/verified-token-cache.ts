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
 * - Keyed by the whole token string itself: a `Map` finds an entry by the string's hash and
 *   then compares the strings in full, so a hit needs every byte of header, payload and
 *   signature to be identical. A token that differs in any way (a tampered claim, a re-spelled
 *   signature) is a different key and goes through full verification; two strings that merely
 *   share a hash bucket are never taken for each other. An earlier version keyed by the
 *   token's SHA-256: as exact, but the digest was the largest part of a hit (5.4% of server2's
 *   time on the cached API route, docs/benchmarks.md), and V8 hashes a string for a `Map` with
 *   no cryptography. Only tokens that verified are ever inserted, so an attacker cannot choose
 *   what the table holds; a string an attacker presents costs one hash and compares with the
 *   few entries that share its bucket.
 * - Memory: an entry keeps its token (ASCII, one byte a character, copied so that it never
 *   holds on to a larger string it was cut from, such as a whole header), its claims and its
 *   header. Service tokens are a few hundred bytes, so the default 10,000 entries keep a few
 *   MiB of token strings; the worst case, tokens at the verifier's `maxTokenBytes` cap, is
 *   `maxEntries` × that cap (80 MiB at the defaults), and only tokens the issuer signed count.
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

  /** The entry of exactly `token`, marked as the most recently used; undefined on a miss. */
  get(token: string): CachedVerification<C> | undefined {
    const entry = this.entries.get(token);
    if (entry !== undefined) {
      this.entries.delete(token);
      this.entries.set(token, entry);
    }
    return entry;
  }

  /** Stores a verified token's claims and header, evicting the least recently used when full. */
  set(token: string, claims: C, header: JWTHeaderParameters): CachedVerification<C> {
    // Frozen, because every hit hands out the same objects: one caller must not be able to
    // change what the next one is told.
    const entry: CachedVerification<C> = Object.freeze({
      claims: deepFreeze(claims),
      header: deepFreeze(header),
    });
    this.entries.delete(token);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(ownCopy(token), entry);
    return entry;
  }

  delete(token: string): void {
    this.entries.delete(token);
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

/**
 * A copy of `token` that shares no memory with the string it came from. V8 may represent a
 * substring as a view of its parent (the `Authorization` header, a cookie header, a form body),
 * and a key held for a minute would keep the whole parent alive. Runs only when a token is
 * inserted, after a full verification; the verifier has checked it is ASCII, so latin1 is exact.
 */
function ownCopy(token: string): string {
  return Buffer.from(token, 'latin1').toString('latin1');
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
