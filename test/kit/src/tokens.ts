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

/** A signing key generated for a test, with its public JWK, whose kid is the RFC 7638 thumbprint. */
export interface TestKey {
  readonly alg: 'EdDSA' | 'ES256';
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
}

/** Generates a fresh key pair for `alg`, as server1 would hold it. */
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

/**
 * Signs `claims` exactly as given (any JSON, valid claims or not) with `key`, as a compact JWS.
 * The header is `{alg: key.alg, kid: key.kid, typ}`; `header` members replace those, and one set
 * to `undefined` is left out.
 */
export async function mintToken(
  key: Pick<TestKey, 'alg' | 'kid' | 'privateKey'>,
  claims: Record<string, unknown>,
  typ = 'handoff+jwt',
  header: Record<string, unknown> = {},
): Promise<string> {
  const protectedHeader: Record<string, unknown> = { alg: key.alg, kid: key.kid, typ, ...header };
  for (const [name, value] of Object.entries(protectedHeader)) {
    if (value === undefined) delete protectedHeader[name];
  }
  const payload = new TextEncoder().encode(JSON.stringify(claims));
  return new CompactSign(payload)
    .setProtectedHeader(protectedHeader as CompactJWSHeaderParameters)
    .sign(key.privateKey);
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
