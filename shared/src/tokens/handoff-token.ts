import type { BaseClaims } from './claims.js';
import { type ClaimSet, nonEmptyString, type TokenProfile } from './profiles.js';
import type { ReplayStore } from './replay-store.js';
import { signToken } from './sign-token.js';
import type { SigningKey } from './signing-key.js';
import type { VerificationTrace } from './verification-trace.js';
import type { VerifierOptions } from './verifier.js';

/** Hands a signed-in user from server1 to a client: posted once to its callback. */
export const HANDOFF_PROFILE: TokenProfile = Object.freeze({
  typ: 'handoff+jwt',
  maxLifetimeSec: 300,
  requiredClaims: Object.freeze(['sub', 'nonce']),
  singleUse: true,
  checkClaims: (claims: ClaimSet) =>
    nonEmptyString(claims.nonce) ? undefined : 'nonce must be a non-empty string',
});

/** Default lifetime of a handoff token, in seconds (docs/design.md section 3). */
export const HANDOFF_TOKEN_TTL_DEFAULT_SEC = 60;
/** Largest lifetime of a handoff token, in seconds: the profile's cap, 300. */
export const HANDOFF_TOKEN_TTL_MAX_SEC = HANDOFF_PROFILE.maxLifetimeSec;

/** Claims of a handoff token (docs/design.md section 3). */
export interface HandoffClaims extends BaseClaims {
  sub: string;
  nonce: string;
  auth_time?: number;
  sid?: string;
  name?: string;
  email?: string;
  /**
   * A `logout_hint+jwt` for this client and session, to pass to server1's end-session endpoint
   * when the user signs out of everything (logout-hint-token.ts).
   */
  logout_hint?: string;
}

/** What a handoff token is minted from. */
export interface HandoffTokenInput {
  /** The issuer's public URL: `iss`. */
  issuer: string;
  /** The client the token is for: `aud`. */
  clientId: string;
  /** The user's id at the issuer: `sub`. */
  sub: string;
  /** The client's state, echoed as `nonce` so the client can bind the token to its browser. */
  nonce: string;
  /** When the user signed in, in milliseconds since the epoch; `auth_time` is its whole second. */
  authTimeMs?: number;
  /** The session's public id (a hash of the session id, never the id itself). */
  sid?: string;
  name?: string;
  email?: string;
  /** A logout hint minted for the same client and session (claim `logout_hint`). */
  logoutHint?: string;
  /** Lifetime in seconds; at most the profile's 300. */
  ttlSec: number;
  /** The clock, in milliseconds since the epoch. */
  now: number;
}

/** Mints a `handoff+jwt` (docs/design.md section 3) signed by `key`. */
export async function mintHandoffToken(key: SigningKey, input: HandoffTokenInput): Promise<string> {
  return signToken(
    HANDOFF_PROFILE,
    key,
    {
      nonce: input.nonce,
      auth_time: input.authTimeMs === undefined ? undefined : Math.floor(input.authTimeMs / 1000),
      sid: input.sid,
      name: input.name,
      email: input.email,
      logout_hint: input.logoutHint,
    },
    {
      issuer: input.issuer,
      subject: input.sub,
      audience: input.clientId,
      ttlSec: input.ttlSec,
      now: input.now,
    },
  );
}

/** What a relying service decides about the handoff tokens it accepts. */
export interface HandoffVerifierInput {
  /** Remembers each (iss, jti) until the token expires: a handoff token is single-use. */
  replayStore: ReplayStore;
  /** Lowers the profile's 300 s lifetime cap, in seconds; it can never raise it. */
  maxLifetimeSec?: number;
  /** Resolves true to refuse an otherwise valid token (`token_revoked`); records in `trace` when given one. */
  isRevoked?: (claims: HandoffClaims, trace?: VerificationTrace) => boolean | Promise<boolean>;
}

/** The handoff-specific part of `createVerifier`'s options, to spread into them. */
export function handoffVerifierOptions(
  input: HandoffVerifierInput,
): Pick<VerifierOptions, 'profile' | 'replayStore' | 'maxLifetimeSec' | 'isRevoked'> {
  const { isRevoked } = input;
  return {
    profile: HANDOFF_PROFILE,
    replayStore: input.replayStore,
    maxLifetimeSec: input.maxLifetimeSec,
    // The verifier asks only after the profile's checks have passed, so these are handoff claims.
    isRevoked: isRevoked && ((claims, trace) => isRevoked(claims as HandoffClaims, trace)),
  };
}
