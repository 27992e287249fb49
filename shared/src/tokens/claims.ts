/**
 * The registered claims every verified token carries, whatever its profile. Each kind's own
 * claims extend it in its module (`HandoffClaims`, `ServiceClaims`, `LogoutClaims`).
 */
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
