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

/** Claims of a service token (DESIGN.md section 3). */
export interface ServiceClaims extends BaseClaims {
  /** The calling service's id. */
  sub: string;
  /** Space-separated scopes, as in OAuth 2.0. */
  scope: string;
}

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
