import { createHmac, type KeyObject, sign } from 'node:crypto';
import { compact, segment, signingInput } from './compact.js';

/** A key the tool signs with: an asymmetric private key, or raw HMAC key bytes (any, even empty). */
export type Signer =
  | { readonly kind: 'EdDSA'; readonly privateKey: KeyObject }
  | { readonly kind: 'ES256'; readonly privateKey: KeyObject }
  | { readonly kind: 'HMAC'; readonly secret: Buffer };

const HMAC_HASH: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

/**
 * Signs `payload` under `header` exactly as given (any header, any claims), by hand rather than
 * through a JOSE library, which would refuse to build most of the tokens an attacker sends.
 * For HMAC the hash follows the header's `alg` (HS256 when it names none of HS256/384/512).
 */
export function signJws(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  signer: Signer,
): string {
  const [h, p] = [segment(header), segment(payload)];
  return compact(h, p, signatureOf(h, p, signer, header.alg));
}

/** The base64url signature of the segments `h.p` by `signer`. */
export function signatureOf(h: string, p: string, signer: Signer, alg?: unknown): string {
  const input = signingInput(h, p);
  switch (signer.kind) {
    case 'EdDSA':
      return sign(null, input, signer.privateKey).toString('base64url');
    case 'ES256':
      return sign('sha256', input, { key: signer.privateKey, dsaEncoding: 'ieee-p1363' }).toString(
        'base64url',
      );
    case 'HMAC':
      return createHmac(HMAC_HASH[String(alg)] ?? 'sha256', signer.secret)
        .update(input)
        .digest('base64url');
  }
}
