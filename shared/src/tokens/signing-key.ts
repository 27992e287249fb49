import type { CryptoKey } from 'jose';
import type { SigningAlgorithm } from './verifier.js';

/** A private key ready to sign, with the kid its public half is published under. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly privateKey: CryptoKey;
}
