import type { BaseClaims } from './claims.js';
import type { ClaimSet, TokenProfile } from './profiles.js';
import { signToken } from './sign-token.js';
import type { SigningKey } from './signing-key.js';
import type { VerifiedTokenCacheOptions } from './verified-token-cache.js';
import type { VerifierOptions } from './verifier.js';

/** Authorises one service's API calls to another; reused until shortly before it expires. */
export const SERVICE_PROFILE: TokenProfile = Object.freeze({
  typ: 'service+jwt',
  maxLifetimeSec: 60,
  requiredClaims: Object.freeze(['sub', 'scope']),
  singleUse: false,
  checkClaims: (claims: ClaimSet) =>
    typeof claims.scope === 'string' ? undefined : 'scope must be a space-separated string',
});

/** The scope a client's activity API (`GET /api/users/:sub/activity`) requires. */
export const ACTIVITY_SCOPE = 'activity:read';

/** Claims of a service token (docs/design.md section 3). */
export interface ServiceClaims extends BaseClaims {
  /** The calling service's id. */
  sub: string;
  /** Space-separated scopes, as in OAuth 2.0. */
  scope: string;
}

/** What a service token is minted from. */
export interface ServiceTokenInput {
  /** The calling service's issuer URL: `iss`. */
  issuer: string;
  /** The calling service's id: `sub`. */
  serviceId: string;
  /** The called service's client id: `aud`. */
  audience: string;
  /** Space-separated scopes, as in OAuth 2.0. */
  scope: string;
  /** Lifetime in seconds; at most the profile's 60. */
  ttlSec: number;
  /** The clock, in milliseconds since the epoch. */
  now: number;
}

/** Mints a `service+jwt` (docs/design.md section 3) signed by `key`. */
export async function mintServiceToken(key: SigningKey, input: ServiceTokenInput): Promise<string> {
  return signToken(
    SERVICE_PROFILE,
    key,
    { scope: input.scope },
    {
      issuer: input.issuer,
      subject: input.serviceId,
      audience: input.audience,
      ttlSec: input.ttlSec,
      now: input.now,
    },
  );
}

/** What a called service decides about the service tokens it accepts. */
export interface ServiceVerifierInput {
  /**
   * The verified-token cache: a service token is presented again and again until it is renewed.
   * Default `VERIFIED_TOKEN_CACHE_DEFAULTS`; `false` turns it off.
   */
  verifiedTokenCache?: VerifiedTokenCacheOptions | false;
}

/** The service-token-specific part of `createVerifier`'s options, to spread into them. */
export function serviceVerifierOptions(
  input: ServiceVerifierInput = {},
): Pick<VerifierOptions, 'profile' | 'verifiedTokenCache'> {
  return { profile: SERVICE_PROFILE, verifiedTokenCache: input.verifiedTokenCache };
}
