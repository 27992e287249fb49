import { SignJWT } from 'jose';
import { randomId } from '../http/session-id.js';
import type { TokenProfile } from './profiles.js';
import type { SigningKey } from './signing-key.js';

/** The registered claims of a token about to be signed, and its lifetime. */
export interface RegisteredClaimsInput {
  /** `iss`: the issuer's public URL. */
  issuer: string;
  /** `sub`: whom the token is about (a user's id, or the calling service's id). */
  subject: string;
  /** `aud`: the one client id the token is for. */
  audience: string;
  /** Lifetime in seconds; capped at the profile's `maxLifetimeSec`. */
  ttlSec: number;
  /** The clock, in milliseconds since the epoch; `iat` is its whole second. */
  now: number;
}

/**
 * Signs `claims` as a token of `profile`, the one place the mint functions of each kind share:
 * the header names the key and the profile's `typ`, and every token gets its own random `jti`.
 */
export async function signToken(
  profile: TokenProfile,
  key: SigningKey,
  claims: Record<string, unknown>,
  registered: RegisteredClaimsInput,
): Promise<string> {
  const iat = Math.floor(registered.now / 1000);
  // Never mint what the relying side would refuse as lifetime_too_long.
  const ttlSec = Math.min(registered.ttlSec, profile.maxLifetimeSec);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: profile.typ })
    .setIssuer(registered.issuer)
    .setSubject(registered.subject)
    .setAudience(registered.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSec)
    .setJti(randomId())
    .sign(key.privateKey);
}
