import { BACKCHANNEL_LOGOUT_EVENT, LOGOUT_PROFILE, randomId, type SigningKey } from '@jwt-handoff/shared';
import { SignJWT } from 'jose';

/** What a logout token is minted from. */
export interface LogoutTokenInput {
  key: SigningKey;
  issuer: string;
  clientId: string;
  sub: string;
  sid?: string | undefined;
  tokensValidAfter?: number | undefined;
  /** Lifetime in seconds; at most the logout profile's 120. */
  ttlSec: number;
  now: number;
}

/**
 * Mints a `logout+jwt` shaped as in OpenID Connect Back-Channel Logout 1.0: sub and/or sid, the
 * back-channel logout event, a jti, and never a nonce. "Sign out everywhere" adds the user's
 * tokens-valid-after time. Minted per attempt, so a retried delivery never carries a stale token.
 */
export async function mintLogoutToken(input: LogoutTokenInput): Promise<string> {
  const iat = Math.floor(input.now / 1000);
  const claims: Record<string, unknown> = { events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } };
  if (input.sid !== undefined) claims.sid = input.sid;
  if (input.tokensValidAfter !== undefined) claims.tokens_valid_after = input.tokensValidAfter;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: input.key.alg, kid: input.key.kid, typ: LOGOUT_PROFILE.typ })
    .setIssuer(input.issuer)
    .setSubject(input.sub)
    .setAudience(input.clientId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + Math.min(input.ttlSec, LOGOUT_PROFILE.maxLifetimeSec))
    .setJti(randomId())
    .sign(input.key.privateKey);
}
