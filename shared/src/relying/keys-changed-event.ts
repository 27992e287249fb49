import type { FastifyBaseLogger } from 'fastify';
import { AppError, refusedToken } from '../errors.js';
import type { KeySource } from '../keys/key-source.js';
import type { KeysChangedClaims } from '../tokens/keys-changed-token.js';
import type { TokenVerifier } from '../tokens/verifier.js';
import type { RelyingMetrics } from './metrics.js';

/** Everything acting on a keys-changed event uses. */
export interface KeysChangedEventOptions {
  verifyKeysChangedToken: TokenVerifier<KeysChangedClaims>;
  keys: Pick<KeySource, 'refresh' | 'revokeKids'>;
  metrics: Pick<RelyingMetrics, 'tokenRejected' | 'keysRevoked'>;
  now: () => number;
}

/**
 * The least time between two refetches an unknown-kid event causes (ms). An issuer that replaced
 * a revoked signing key signs the event with a key the relying side may not hold yet, and the
 * unknown-kid cool-down (30 s by default, which anyone can keep busy with made-up kids) must not
 * turn that event away; a made-up event still costs the issuer at most one fetch per second.
 */
export const KEYS_CHANGED_REFETCH_INTERVAL_MS = 1_000;

/**
 * Acts on a `keys-changed+jwt` posted to the back-channel endpoint: verifies it fully (forged,
 * replayed, wrong-audience and wrong-typ events are refused with the verifier's reasons), then
 * refuses its revoked kids at once and for good, and refetches the JWKS past the cool-down.
 * Resolves with the revoked kids; throws the refusal as an AppError.
 */
export function createKeysChangedEvent(
  options: KeysChangedEventOptions,
): (token: string | undefined, log: FastifyBaseLogger) => Promise<readonly string[]> {
  const { verifyKeysChangedToken, keys, metrics, now } = options;
  let lastRefetchAt = Number.NEGATIVE_INFINITY;

  return async function onKeysChanged(token, log) {
    let result = await verifyKeysChangedToken(token);
    if (
      !result.ok &&
      result.reason === 'unknown_kid' &&
      now() - lastRefetchAt >= KEYS_CHANGED_REFETCH_INTERVAL_MS
    ) {
      lastRefetchAt = now();
      try {
        await keys.refresh();
      } catch {
        // Not the event's fault: a 503, so that the issuer retries it.
        throw new AppError('jwks_unavailable', "cannot fetch the issuer's keys to verify this event");
      }
      result = await verifyKeysChangedToken(token);
    }
    if (!result.ok) {
      metrics.tokenRejected({ kind: 'keys-changed', reason: result.reason });
      throw refusedToken(result, { error: 'invalid_request' });
    }
    const kids = result.claims.revoked_kids;
    if (!keys.revokeKids) {
      // A key source that cannot forget a key (an app's own) would keep trusting it: say so
      // loudly, rather than acknowledge an event this service did not act on.
      throw new Error('the key source cannot revoke keys (no revokeKids)');
    }
    // The kids are refused from the moment revokeKids is called; the refetch it starts (for the
    // replacement key) runs on, so the issuer's delivery does not wait on its own JWKS endpoint.
    const refetched = keys.revokeKids(kids);
    refetched.catch((err) => log.warn({ err }, 'refetch after a keys-changed event failed'));
    metrics.keysRevoked();
    log.warn({ kids }, 'the issuer revoked signing keys');
    return kids;
  };
}
