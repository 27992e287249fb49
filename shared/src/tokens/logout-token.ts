import type { BaseClaims } from './claims.js';
import { type ClaimSet, isObject, nonEmptyString, type TokenProfile } from './profiles.js';
import type { ReplayStore } from './replay-store.js';
import { signToken } from './sign-token.js';
import type { SigningKey } from './signing-key.js';
import type { VerifierOptions } from './verifier.js';

/** The event a logout token announces (OpenID Connect Back-Channel Logout 1.0, section 2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** OpenID Connect Back-Channel Logout 1.0 shaped: sub and/or sid, an events claim, no nonce. */
export const LOGOUT_PROFILE: TokenProfile = Object.freeze({
  typ: 'logout+jwt',
  maxLifetimeSec: 120,
  requiredClaims: Object.freeze(['events']),
  singleUse: true,
  checkClaims: (claims: ClaimSet) => {
    const { sub, sid } = claims;
    if (sub === undefined && sid === undefined) return 'a logout token needs sub or sid';
    if (sub !== undefined && !nonEmptyString(sub)) return 'sub must be a non-empty string';
    if (sid !== undefined && !nonEmptyString(sid)) return 'sid must be a non-empty string';
    // OpenID Connect Back-Channel Logout 1.0, section 2.6: a nonce means it is some other token.
    if (claims.nonce !== undefined) return 'a logout token must not carry a nonce';
    const event = isObject(claims.events) ? claims.events[BACKCHANNEL_LOGOUT_EVENT] : undefined;
    if (!isObject(event)) return `events must hold ${BACKCHANNEL_LOGOUT_EVENT} with an object value`;
    const after = claims.tokens_valid_after;
    if (after !== undefined && !(Number.isSafeInteger(after) && (after as number) >= 0)) {
      return 'tokens_valid_after must be a whole number of seconds';
    }
    if (after !== undefined && !nonEmptyString(sub)) return 'tokens_valid_after needs a sub';
    return undefined;
  },
});

/** Claims of a logout token (OpenID Connect Back-Channel Logout 1.0 shaped). */
export interface LogoutClaims extends BaseClaims {
  sid?: string;
  events: Record<string, unknown>;
  /**
   * Set by "sign out everywhere": handoff tokens for `sub` issued at or before this time (unix
   * seconds) are refused from now on.
   */
  tokens_valid_after?: number;
}

/** What a logout token is minted from. */
export interface LogoutTokenInput {
  /** The issuer's public URL: `iss`. */
  issuer: string;
  /** The client told of the sign-out: `aud`. */
  clientId: string;
  /** The user who signed out: `sub`. */
  sub: string;
  /** The ended session's public id; absent when every session of the user ends. */
  sid?: string | undefined;
  /** "Sign out everywhere": tokens for `sub` issued up to this time (unix seconds) are refused. */
  tokensValidAfter?: number | undefined;
  /** Lifetime in seconds; at most the profile's 120. */
  ttlSec: number;
  /** The clock, in milliseconds since the epoch. */
  now: number;
}

/**
 * Mints a `logout+jwt` signed by `key`, shaped as in OpenID Connect Back-Channel Logout 1.0: sub
 * and/or sid, the back-channel logout event, a jti, and never a nonce. "Sign out everywhere"
 * adds the user's tokens-valid-after time.
 */
export async function mintLogoutToken(key: SigningKey, input: LogoutTokenInput): Promise<string> {
  const claims: Record<string, unknown> = { events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } };
  if (input.sid !== undefined) claims.sid = input.sid;
  if (input.tokensValidAfter !== undefined) claims.tokens_valid_after = input.tokensValidAfter;
  return signToken(LOGOUT_PROFILE, key, claims, {
    issuer: input.issuer,
    subject: input.sub,
    audience: input.clientId,
    ttlSec: input.ttlSec,
    now: input.now,
  });
}

/** What a relying service decides about the logout tokens it accepts. */
export interface LogoutVerifierInput {
  /** Remembers each (iss, jti) until the token expires: a logout token is single-use. */
  replayStore: ReplayStore;
}

/** The logout-token-specific part of `createVerifier`'s options, to spread into them. */
export function logoutVerifierOptions(
  input: LogoutVerifierInput,
): Pick<VerifierOptions, 'profile' | 'replayStore'> {
  return { profile: LOGOUT_PROFILE, replayStore: input.replayStore };
}
