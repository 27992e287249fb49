import type { JWTVerifyGetKey } from 'jose';

/** Where the key that verified a token came from, for a verification trace. */
export interface KeyOrigin {
  readonly kid: string;
  /** The algorithm the key is published for. */
  readonly alg: string;
  /** Where the key set is published (the JWKS URL), or a description of a local set. */
  readonly source: string;
  /** When the key set holding the key was fetched or revalidated, in ms; undefined for a local set. */
  readonly fetchedAtMs: number | undefined;
  /** True when this lookup waited for a fetch of the key set; false when the held set answered. */
  readonly fetched: boolean;
}

/**
 * Where a verifier finds the public key for a token. Both the local set (tests, server1's own
 * keys) and the remote JWKS client implement it, so the verifier does not care which it has.
 */
export interface KeySource {
  /** jose's key resolution: picks the key by the header's kid and alg, or throws. */
  readonly getKey: JWTVerifyGetKey;
  /** True once the source holds keys it can verify with (drives server2's /readyz). */
  isReady(): boolean;
  /** Loads the keys now; rejects when none could be loaded. */
  refresh(): Promise<void>;
  /**
   * Optional: whether the key set currently holds a key with this kid, answered from what is
   * held (never fetching). The verifier's cache uses it to drop tokens whose key has left the set.
   */
  hasKid?(kid: string): boolean;
  /**
   * Optional: `getKey` that also reports where the key came from. The verifier calls it instead of
   * `getKey` only when it records a trace, so untraced verifications pay nothing for it.
   */
  readonly getKeyWithOrigin?: (
    ...args: Parameters<JWTVerifyGetKey>
  ) => Promise<{ key: Awaited<ReturnType<JWTVerifyGetKey>>; origin: KeyOrigin }>;
  /**
   * Optional: refuse these kids from now on, whatever any later fetch or outage brings (the
   * issuer revoked them: a keys-changed event), and refetch the key set at once, past any
   * cool-down. Resolves once the refetch has settled (a failed one is not an error: the kids
   * are refused either way).
   */
  revokeKids?(kids: readonly string[]): Promise<void>;
}

/** Thrown by a key source for a kid the issuer revoked (reason `key_revoked`). */
export class KeyRevokedError extends Error {
  readonly code = 'ERR_KEY_REVOKED';
  constructor(kid: string) {
    super(`the key ${kid} was revoked by the issuer`);
    this.name = 'KeyRevokedError';
  }
}

/** Thrown when keys cannot be had at all (JWKS endpoint down, invalid, too large). */
export class KeySourceUnavailableError extends Error {
  readonly code = 'ERR_KEY_SOURCE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeySourceUnavailableError';
  }
}
