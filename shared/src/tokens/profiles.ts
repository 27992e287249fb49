/**
 * What distinguishes one token kind of docs/design.md section 3 from another. Each verifier accepts
 * exactly one profile, and each profile has its own `typ`, so a token minted for one purpose is
 * refused everywhere else. The profiles themselves live with their kind: `handoff-token.ts`,
 * `service-token.ts` and `logout-token.ts`.
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
export type ClaimSet = Readonly<Record<string, unknown>>;

/** True for a plain JSON object (not null, not an array). */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** True for a string of at least one character. */
export const nonEmptyString = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0;
