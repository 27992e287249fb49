const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
// The order of P-256's base point: an ECDSA signature (r, s) verifies as (r, n - s) too.
const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
// The order of Ed25519's base point: RFC 8032 requires S < L, and S + L is the "same" scalar.
const ED25519_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

/**
 * The same signature bytes spelled differently: the spare low bits of the last base64url
 * character flipped, which a lenient decoder drops. Undefined when the segment has no spare bits.
 */
export function withSpareBits(segment: string): string | undefined {
  const spare = [0, 4, 2][Buffer.from(segment, 'base64url').length % 3] ?? 0;
  if (spare === 0 || segment.length === 0) return undefined;
  const last = ALPHABET.indexOf(segment.at(-1) as string);
  return `${segment.slice(0, -1)}${ALPHABET[last ^ ((1 << spare) - 1)]}`;
}

/** An ES256 signature (r || s, 64 bytes) with s replaced by n - s: still valid, a new string. */
export function es256HighS(signature: string): string {
  const bytes = Buffer.from(signature, 'base64url');
  const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
  const flipped = Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex');
  return Buffer.concat([bytes.subarray(0, 32), flipped]).toString('base64url');
}

/** An Ed25519 signature (R || S, S little-endian) with S replaced by S + L: must be refused. */
export function ed25519SPlusL(signature: string): string {
  const bytes = Buffer.from(signature, 'base64url');
  const s = BigInt(`0x${Buffer.from(bytes.subarray(32)).reverse().toString('hex')}`);
  const bigger = Buffer.from((s + ED25519_ORDER).toString(16).padStart(64, '0'), 'hex').reverse();
  return Buffer.concat([bytes.subarray(0, 32), bigger]).toString('base64url');
}
