import { createHash, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Signer } from './sign.js';

/** A key pair the attacker made: what it signs with and the public JWK it can show. */
export interface AttackerKey {
  readonly alg: 'EdDSA' | 'ES256';
  readonly signer: Signer;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public JWK with its RFC 7638 thumbprint as kid, and alg and use, as a JWKS would carry it. */
  readonly publicJwk: JsonWebKey & { kid: string; alg: string; use: string };
}

/** A fresh key pair for `alg`, never seen by the deployment. */
export function generateAttackerKey(alg: AttackerKey['alg']): AttackerKey {
  const { privateKey, publicKey } =
    alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    alg,
    signer: { kind: alg, privateKey },
    privateKey,
    publicKey,
    publicJwk: { ...jwk, kid: thumbprint(jwk), alg, use: 'sig' },
  };
}

/** The RFC 7638 thumbprint (SHA-256, base64url) of a public OKP, EC or RSA JWK. */
export function thumbprint(jwk: JsonWebKey): string {
  const members: Record<string, readonly string[]> = {
    OKP: ['crv', 'kty', 'x'],
    EC: ['crv', 'kty', 'x', 'y'],
    RSA: ['e', 'kty', 'n'],
  };
  const names = members[String(jwk.kty)] ?? [];
  const canonical = `{${names.map((name) => `"${name}":${JSON.stringify(jwk[name])}`).join(',')}}`;
  return createHash('sha256').update(canonical).digest('base64url');
}
