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
  /**
   * Checks the shape of the profile's own claims once the signature and registered claims have
   * passed; returns what is wrong (reported as token_malformed), or undefined.
   */
  readonly checkClaims: (claims: ClaimSet) => string | undefined;
}

/** A decoded claim set, before its profile's shape is known. */
type ClaimSet = Readonly<Record<string, unknown>>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const nonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/** Hands a signed-in user from server1 to a client: posted once to its callback. */
export const HANDOFF_PROFILE: TokenProfile = Object.freeze({
  typ: 'handoff+jwt',
  maxLifetimeSec: 300,
  requiredClaims: Object.freeze(['sub', 'nonce']),
  singleUse: true,
  checkClaims: (claims: ClaimSet) =>
    nonEmptyString(claims.nonce) ? undefined : 'nonce must be a non-empty string',
});

/** Authorises one service's API calls to another; reused until shortly before it expires. */
export const SERVICE_PROFILE: TokenProfile = Object.freeze({
  typ: 'service+jwt',
  maxLifetimeSec: 60,
  requiredClaims: Object.freeze(['sub', 'scope']),
  singleUse: false,
  checkClaims: (claims: ClaimSet) =>
    typeof claims.scope === 'string' ? undefined : 'scope must be a space-separated string',
});

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

/** Default and largest lifetime of a handoff token, in seconds (DESIGN.md section 3). */
export const HANDOFF_TOKEN_TTL_DEFAULT_SEC = 60;
export const HANDOFF_TOKEN_TTL_MAX_SEC = HANDOFF_PROFILE.maxLifetimeSec;
