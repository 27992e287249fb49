import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

/**
 * False when the browser says the request came from another origin. Browsers send `Origin` on
 * every POST and `Sec-Fetch-Site` on every request; a client that sends neither (curl, a test)
 * is not a browser being abused, so the CSRF token alone decides for it. A second layer, then,
 * never a form's only guard.
 */
export function isSameOriginRequest(request: FastifyRequest, publicUrl: string): boolean {
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== new URL(publicUrl).origin) return false;
  const site = request.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin' || site === 'none';
}

/** Compares two secrets in time that does not depend on where they differ. */
export function secretsEqual(a: unknown, b: unknown): boolean {
  // Values from tokens and forms are not always the strings their types promise.
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
