/**
 * Remembers which single-use tokens have been presented. Keyed on (iss, jti), never on the token
 * string: an ECDSA signature can be re-spelled (s and n - s), so the same token can be written in
 * more than one way without the key (the verifier refuses base64url's spare-bit spellings).
 */
export interface ReplayStore {
  /**
   * Records (issuer, jti) as used until `expiresAtSec` (unix seconds). Resolves true when this is
   * the first use, false when it had already been recorded.
   */
  markUsed(issuer: string, jti: string, expiresAtSec: number): Promise<boolean>;
}

/** An in-memory {@link ReplayStore}, for tests and single-process tools. */
export function createMemoryReplayStore(now: () => number = Date.now): ReplayStore {
  const used = new Map<string, number>();
  return {
    async markUsed(issuer, jti, expiresAtSec) {
      const key = `${issuer}\u0000${jti}`;
      const expiry = used.get(key);
      if (expiry !== undefined && expiry * 1000 > now()) return false;
      used.set(key, expiresAtSec);
      return true;
    },
  };
}
