import { createPublicKey, type JsonWebKey } from 'node:crypto';

/** A key of the issuer's JWKS, as published. */
export type PublishedJwk = JsonWebKey & { kid: string; alg?: string };

/** One way a naive HS256 verifier may turn the published public key into an HMAC secret. */
export interface SecretForm {
  readonly id: string;
  readonly title: string;
  readonly secret: Buffer;
}

/**
 * The published public key written every way a verifier that lets the token pick HS256 might use
 * it as the HMAC secret (RFC 8725 section 2.1, "algorithm confusion"): the JWK's JSON as served
 * and as its bare public members, PEM with and without its final newline, DER, and the raw key.
 */
export function secretForms(jwk: PublishedJwk): SecretForm[] {
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const pem = key.export({ type: 'spki', format: 'pem' }).toString();
  const publicMembers = Object.fromEntries(
    ['crv', 'kty', 'x', 'y', 'n', 'e']
      .filter((name) => jwk[name] !== undefined)
      .map((name) => [name, jwk[name]]),
  );
  return [
    { id: 'jwk-json', title: 'the JWK as published (JSON)', secret: Buffer.from(JSON.stringify(jwk)) },
    {
      id: 'jwk-members',
      title: 'the JWK, public members only (JSON)',
      secret: Buffer.from(JSON.stringify(publicMembers)),
    },
    { id: 'pem', title: 'PEM (SPKI, final newline)', secret: Buffer.from(pem) },
    { id: 'pem-trimmed', title: 'PEM (SPKI, no final newline)', secret: Buffer.from(pem.trimEnd()) },
    { id: 'der', title: 'DER (SPKI bytes)', secret: key.export({ type: 'spki', format: 'der' }) },
    { id: 'raw', title: 'the raw public key bytes', secret: rawPublicKey(jwk) },
  ];
}

/** One of {@link secretForms}, by id (`pem`, `raw`, ...). */
export function secretForm(jwk: PublishedJwk, id: string): Buffer {
  const form = secretForms(jwk).find((candidate) => candidate.id === id);
  if (!form) throw new TypeError(`no secret form ${id}`);
  return form.secret;
}

/** The bare public key: an OKP key's x, an EC key's uncompressed point 0x04 || x || y. */
export function rawPublicKey(jwk: JsonWebKey): Buffer {
  const x = Buffer.from(String(jwk.x ?? ''), 'base64url');
  if (jwk.kty !== 'EC') return x;
  return Buffer.concat([Buffer.from([4]), x, Buffer.from(String(jwk.y ?? ''), 'base64url')]);
}
