import { randomUUID } from 'node:crypto';
import { type Claims, T0, withOverrides } from '@jwt-handoff/testkit';

/** The issuer and audience every test token is minted for unless a test says otherwise. */
export const ISSUER = 'http://localhost:4001';
export const AUDIENCE = 'server2';

/** Valid handoff claims issued at `iat`, living 60 s; `overrides` replace members, `undefined` removes one. */
export function handoffClaims(overrides: Claims = {}, iat = T0): Claims {
  return withOverrides(
    { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', jti: randomUUID(), nonce: 'state-1', iat, exp: iat + 60 },
    overrides,
  );
}

/** Valid service-token claims (docs/design.md section 2). */
export function serviceClaims(overrides: Claims = {}, iat = T0): Claims {
  return withOverrides(
    {
      iss: ISSUER,
      aud: AUDIENCE,
      sub: 'server1',
      scope: 'activity:read',
      jti: randomUUID(),
      iat,
      exp: iat + 60,
    },
    overrides,
  );
}

/** Valid logout-token claims, shaped like OpenID Connect Back-Channel Logout 1.0. */
export function logoutClaims(overrides: Claims = {}, iat = T0): Claims {
  return withOverrides(
    {
      iss: ISSUER,
      aud: AUDIENCE,
      sub: 'user-1',
      sid: 'session-hash',
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      jti: randomUUID(),
      iat,
      exp: iat + 120,
    },
    overrides,
  );
}
