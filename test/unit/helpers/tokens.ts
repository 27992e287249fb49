import { randomUUID } from 'node:crypto';
import { withOverrides } from '@jwt-handoff/testkit';
import {
  type CompactJWSHeaderParameters,
  CompactSign,
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
} from 'jose';

/** The issuer and audience every test token is minted for unless a test says otherwise. */
export const ISSUER = 'http://localhost:4001';
export const AUDIENCE = 'server2';

/** A fixed instant (unix seconds) the tests' clocks start at, so expiry never depends on real time. */
export const T0 = 1_750_000_000;

/** A generated signing key with its public JWK, whose kid is the RFC 7638 thumbprint. */
export interface TestKey {
  readonly alg: 'EdDSA' | 'ES256';
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
}

/** Generates a fresh key pair for `alg`. */
export async function generateTestKey(alg: TestKey['alg'] = 'EdDSA'): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { alg, kid, privateKey, publicKey, publicJwk: { ...jwk, kid, alg, use: 'sig' } };
}

/** The JWKS that publishes the public halves of `keys`. */
export function jwksOf(...keys: TestKey[]): JSONWebKeySet {
  return { keys: keys.map((key) => key.publicJwk) };
}

/** A mutable clock in milliseconds, for the verifier's `now` option and the replay store. */
export interface TestClock {
  readonly now: () => number;
  /** Sets the clock to `sec` unix seconds. */
  set(sec: number): void;
}

export function testClock(startSec = T0): TestClock {
  let ms = startSec * 1000;
  return {
    now: () => ms,
    set: (sec) => {
      ms = sec * 1000;
    },
  };
}

export type Claims = Record<string, unknown>;

/** Valid handoff claims issued at `iat`, living 60 s; `overrides` replace members, `undefined` removes one. */
export function handoffClaims(overrides: Claims = {}, iat = T0): Claims {
  return withOverrides(
    { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', jti: randomUUID(), nonce: 'state-1', iat, exp: iat + 60 },
    overrides,
  );
}

/** Valid service-token claims (DESIGN.md section 2). */
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

/**
 * Signs `claims` exactly as given with `key`. The header defaults to the key's alg and kid and
 * `typ`; `header` members override them, and a member set to `undefined` is left out.
 */
export async function mint(
  key: TestKey,
  claims: Claims,
  typ = 'handoff+jwt',
  header: Record<string, unknown> = {},
): Promise<string> {
  const protectedHeader = { alg: key.alg, kid: key.kid, typ, ...header } as CompactJWSHeaderParameters;
  for (const [name, value] of Object.entries(protectedHeader)) {
    if (value === undefined) delete (protectedHeader as Record<string, unknown>)[name];
  }
  const payload = new TextEncoder().encode(JSON.stringify(claims));
  return new CompactSign(payload).setProtectedHeader(protectedHeader).sign(key.privateKey);
}

/** base64url of the JSON of `value`: one segment of a hand-built compact JWS. */
export function segment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Splits a compact JWS into its three segments. */
export function segmentsOf(token: string): [header: string, payload: string, signature: string] {
  const [header = '', payload = '', signature = ''] = token.split('.');
  return [header, payload, signature];
}
