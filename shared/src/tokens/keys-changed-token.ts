import type { BaseClaims } from './claims.js';
import { type ClaimSet, nonEmptyString, type TokenProfile } from './profiles.js';
import type { ReplayStore } from './replay-store.js';
import { signToken } from './sign-token.js';
import type { SigningKey } from './signing-key.js';
import type { VerifierOptions } from './verifier.js';

/** Most kids one keys-changed event may name; more is not a revocation anyone makes. */
export const KEYS_CHANGED_MAX_KIDS = 20;

/**
 * The issuer's emergency key revocation, pushed to each client through the back-channel
 * (docs/design.md section 4, emergency revocation): `revoked_kids` names the keys that must never
 * be trusted again. Single use, short-lived, for one audience, like a logout token, and with a
 * typ of its own so that no other kind of token can pass for it (or it for another).
 */
export const KEYS_CHANGED_PROFILE: TokenProfile = Object.freeze({
  typ: 'keys-changed+jwt',
  maxLifetimeSec: 120,
  requiredClaims: Object.freeze(['sub', 'revoked_kids']),
  singleUse: true,
  checkClaims: (claims: ClaimSet) => {
    const kids = claims.revoked_kids;
    if (!Array.isArray(kids) || kids.length === 0 || kids.length > KEYS_CHANGED_MAX_KIDS)
      return `revoked_kids must list 1 to ${KEYS_CHANGED_MAX_KIDS} kids`;
    if (!kids.every((kid) => nonEmptyString(kid) && kid.length <= 128))
      return 'each revoked kid must be a non-empty string of at most 128 characters';
    // The event is about the issuer's own key set, so that is its subject.
    if (claims.sub !== claims.iss) return 'sub must be the issuer';
    if (claims.nonce !== undefined) return 'a keys-changed token must not carry a nonce';
    return undefined;
  },
});

/** Claims of a keys-changed token. */
export interface KeysChangedClaims extends BaseClaims {
  sub: string;
  /** The kids the issuer revoked: refuse them from now on. */
  revoked_kids: string[];
}

/** What a keys-changed token is minted from. */
export interface KeysChangedTokenInput {
  /** The issuer's public URL: `iss`, and `sub` too. */
  issuer: string;
  /** The client told of the change: `aud`. */
  clientId: string;
  /** The revoked kids. */
  revokedKids: readonly string[];
  /** Lifetime in seconds; at most the profile's 120. */
  ttlSec: number;
  /** The clock, in milliseconds since the epoch. */
  now: number;
}

/** Mints a `keys-changed+jwt` signed by `key` (never a revoked one: the issuer's current key). */
export async function mintKeysChangedToken(key: SigningKey, input: KeysChangedTokenInput): Promise<string> {
  return signToken(
    KEYS_CHANGED_PROFILE,
    key,
    { revoked_kids: [...input.revokedKids] },
    {
      issuer: input.issuer,
      subject: input.issuer,
      audience: input.clientId,
      ttlSec: input.ttlSec,
      now: input.now,
    },
  );
}

/** The keys-changed-specific part of `createVerifier`'s options, to spread into them. */
export function keysChangedVerifierOptions(input: {
  /** Remembers each (iss, jti) until the token expires: an event is acted on once. */
  replayStore: ReplayStore;
}): Pick<VerifierOptions, 'profile' | 'replayStore'> {
  return { profile: KEYS_CHANGED_PROFILE, replayStore: input.replayStore };
}
