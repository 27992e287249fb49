import { createHash, randomBytes } from 'node:crypto';

/** A new opaque identifier: 256 random bits, base64url. For session ids, txns and states. */
export function randomId(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * What the stores keep instead of a session id: its SHA-256. A leaked database row then cannot
 * be replayed as a cookie, and a lookup by hash is still a single indexed read.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}
