import { mintServiceToken, SERVICE_PROFILE } from '../tokens/service-token.js';
import type { SigningKey } from '../tokens/signing-key.js';

/** Options of {@link createServiceTokenCache}. */
export interface ServiceTokenCacheOptions {
  /** The `iss` of the tokens: the calling service's issuer URL. */
  issuer: string;
  /** The `sub`: the calling service's id. */
  serviceId: string;
  /** The key that signs now; asked on every mint, so a rotated key is picked up. */
  signingKey: () => SigningKey;
  /** Token lifetime in seconds. Default 60, the service profile's cap. */
  ttlSec?: number;
  /** A cached token is replaced this long before it expires, in seconds. Default 15. */
  renewBeforeSec?: number;
  now?: () => number;
}

/** Returns a `service+jwt` for (audience, scope), minting a new one only when needed. */
export type ServiceTokenSource = (audience: string, scope: string) => Promise<string>;

/**
 * Mints `service+jwt` tokens (docs/design.md section 3) and reuses each until shortly before it
 * expires: a signature per request would cost more than the call it authorises. The margin
 * leaves the token valid for the whole request even with a few seconds of clock skew.
 */
export function createServiceTokenCache(options: ServiceTokenCacheOptions): ServiceTokenSource {
  const ttlSec = options.ttlSec ?? SERVICE_PROFILE.maxLifetimeSec;
  const renewBeforeSec = options.renewBeforeSec ?? 15;
  const now = options.now ?? Date.now;
  if (!(ttlSec > renewBeforeSec && ttlSec <= SERVICE_PROFILE.maxLifetimeSec)) {
    throw new TypeError(
      `service token "ttlSec" must be above renewBeforeSec and at most ${SERVICE_PROFILE.maxLifetimeSec}`,
    );
  }
  const cache = new Map<string, { token: Promise<string>; renewAt: number; kid: string }>();

  return (audience, scope) => {
    const key = options.signingKey();
    const cacheKey = `${audience}\u0000${scope}`;
    const cached = cache.get(cacheKey);
    const at = now();
    if (cached && cached.renewAt > at && cached.kid === key.kid) return cached.token;
    // The same whole second mintServiceToken takes as the token's iat.
    const iat = Math.floor(at / 1000);
    const token = mintServiceToken(key, {
      issuer: options.issuer,
      serviceId: options.serviceId,
      audience,
      scope,
      ttlSec,
      now: at,
    });
    // Concurrent callers share the one signature in flight; a failed one is not kept.
    const entry = { token, renewAt: (iat + ttlSec - renewBeforeSec) * 1000, kid: key.kid };
    cache.set(cacheKey, entry);
    token.catch(() => {
      if (cache.get(cacheKey) === entry) cache.delete(cacheKey);
    });
    return token;
  };
}
