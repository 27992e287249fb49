import type { BaseClaims } from './claims.js';
import { type ClaimSet, nonEmptyString, type TokenProfile } from './profiles.js';
import { signToken } from './sign-token.js';
import type { SigningKey } from './signing-key.js';
import type { VerifierOptions } from './verifier.js';

/** Longest lifetime of a logout hint, in seconds (7 days): no server1 session lives longer by default. */
export const LOGOUT_HINT_MAX_LIFETIME_SEC = 7 * 24 * 3600;

/**
 * The hint a client passes to server1's end-session endpoint (RP-initiated logout, docs/design.md
 * section 2), as OpenID Connect passes an ID token as `id_token_hint`. server1 mints it, for one
 * client and one server1 session, inside the handoff token (claim `logout_hint`), and later
 * verifies it with its own keys: the relying services hold no signing key and share no secret
 * with server1, so a hint server1 signed is the only kind server1 can check. It names the session
 * by sid, so it is worth nothing once that session has ended: the sign-out it asks for uses it up.
 */
export const LOGOUT_HINT_PROFILE: TokenProfile = Object.freeze({
  typ: 'logout_hint+jwt',
  maxLifetimeSec: LOGOUT_HINT_MAX_LIFETIME_SEC,
  requiredClaims: Object.freeze(['sub', 'sid']),
  // Not recorded: a hint only works while its session lives, and it ends that session.
  singleUse: false,
  checkClaims: (claims: ClaimSet) => {
    if (!nonEmptyString(claims.sid)) return 'sid must be a non-empty string';
    if (claims.nonce !== undefined) return 'a logout hint must not carry a nonce';
    return undefined;
  },
});

/** Claims of a logout hint. */
export interface LogoutHintClaims extends BaseClaims {
  sub: string;
  sid: string;
}

/** What a logout hint is minted from. */
export interface LogoutHintInput {
  /** The issuer's public URL: `iss`. */
  issuer: string;
  /** The client that may present it: `aud`. */
  clientId: string;
  /** The user: `sub`. */
  sub: string;
  /** The server1 session's public id. */
  sid: string;
  /** Lifetime in seconds (the session's remaining life); at most 7 days. */
  ttlSec: number;
  /** The clock, in milliseconds since the epoch. */
  now: number;
}

/** Mints a `logout_hint+jwt` signed by `key`. */
export async function mintLogoutHint(key: SigningKey, input: LogoutHintInput): Promise<string> {
  return signToken(
    LOGOUT_HINT_PROFILE,
    key,
    { sid: input.sid },
    {
      issuer: input.issuer,
      subject: input.sub,
      audience: input.clientId,
      ttlSec: input.ttlSec,
      now: input.now,
    },
  );
}

/** The logout-hint-specific part of `createVerifier`'s options, to spread into them. */
export function logoutHintVerifierOptions(): Pick<VerifierOptions, 'profile' | 'verifiedTokenCache'> {
  return { profile: LOGOUT_HINT_PROFILE, verifiedTokenCache: false };
}
