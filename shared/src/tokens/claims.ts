/** The registered claims every verified token carries, whatever its profile. */
export interface BaseClaims {
  iss: string;
  aud: string;
  exp: number;
  iat: number;
  jti: string;
  sub?: string;
  nbf?: number;
  [claim: string]: unknown;
}

/** Claims of a handoff token (DESIGN.md section 3). */
export interface HandoffClaims extends BaseClaims {
  sub: string;
  nonce: string;
  auth_time?: number;
  sid?: string;
  name?: string;
  email?: string;
}
