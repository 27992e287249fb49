import type { SigningAlgorithm } from '@jwt-handoff/shared';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

/** A fresh key pair as JWKs, with kid = its RFC 7638 thumbprint. */
export interface GeneratedKey {
  kid: string;
  alg: SigningAlgorithm;
  privateJwk: JWK;
  publicJwk: JWK;
}

/** Generates a key pair for `alg`: Ed25519 for EdDSA, P-256 for ES256. */
export async function generateSigningKey(alg: SigningAlgorithm): Promise<GeneratedKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicMembers = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicMembers, 'sha256');
  // alg and use pin the key to one algorithm and to signatures, so no verifier can be talked
  // into using it any other way.
  const publicJwk: JWK = { ...publicMembers, kid, alg, use: 'sig' };
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateJwk, publicJwk };
}
