/**
 * The three token kinds of DESIGN.md section 3. Each verifier accepts exactly one profile, and
 * each profile has its own `typ`, so a token minted for one purpose is refused everywhere else.
 */
export interface TokenProfile {
  /** Header `typ`, compared exactly (after the optional `application/` prefix RFC 7515 allows). */
  readonly typ: string;
  /** The largest `exp - iat` accepted, in seconds. */
  readonly maxLifetimeSec: number;
  /** Claims that must be present, on top of iss, aud, exp, iat and jti which every profile needs. */
  readonly requiredClaims: readonly string[];
  /**
   * Whether a token may be presented only once. Single-use tokens are recorded by (iss, jti)
   * until they expire; reusable ones (service tokens) are not.
   */
  readonly singleUse: boolean;
}

/** Hands a signed-in user from server1 to a client: posted once to its callback. */
export const HANDOFF_PROFILE: TokenProfile = Object.freeze({
  typ: 'handoff+jwt',
  maxLifetimeSec: 300,
  requiredClaims: Object.freeze(['sub', 'nonce']),
  singleUse: true,
});

/** Authorises one service's API calls to another; reused until shortly before it expires. */
export const SERVICE_PROFILE: TokenProfile = Object.freeze({
  typ: 'service+jwt',
  maxLifetimeSec: 60,
  requiredClaims: Object.freeze(['sub', 'scope']),
  singleUse: false,
});

/** OpenID Connect Back-Channel Logout 1.0 shaped: sub and/or sid, an events claim, no nonce. */
export const LOGOUT_PROFILE: TokenProfile = Object.freeze({
  typ: 'logout+jwt',
  maxLifetimeSec: 120,
  requiredClaims: Object.freeze(['events']),
  singleUse: true,
});

/** Default and largest lifetime of a handoff token, in seconds (DESIGN.md section 3). */
export const HANDOFF_TOKEN_TTL_DEFAULT_SEC = 60;
export const HANDOFF_TOKEN_TTL_MAX_SEC = HANDOFF_PROFILE.maxLifetimeSec;
