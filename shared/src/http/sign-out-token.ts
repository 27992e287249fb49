import { createHmac } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { formFields, textField } from './form-body.js';
import { isSameOriginRequest, secretsEqual } from './same-origin.js';

/** The form field that carries the sign-out token, as on the sign-in form. */
export const SIGN_OUT_TOKEN_FIELD = 'csrf_token';

// Names what the HMAC is for, so the token is unrelated to every other value derived from the
// session id (the stored SHA-256 of it, the `sid:` hash that travels in tokens).
const PURPOSE = 'jwt-handoff/sign-out-form/v1';

/**
 * The CSRF token of a session's sign-out forms (docs/design.md section 5): HMAC-SHA256 keyed by
 * the session id, the cookie value itself, over a fixed label; 43 base64url characters.
 *
 * Why keyed by the session id rather than by a service key or a value stored with the session:
 * - It needs no server state: no column, no key to generate, keep, rotate or share between
 *   replicas. It is derived from what the sign-out request carries anyway, and survives restarts.
 * - It cannot be obtained cross-site: computing it takes the session id, which lives only in an
 *   HttpOnly cookie; the token itself appears only in this browser's own pages (no-store), which
 *   another origin, a sibling port included, cannot read.
 * - It is bound to the session: another session's token (an attacker's own) does not match.
 * - It gives nothing away: HMAC is a one-way keyed function, so the token cannot be turned back
 *   into the id; and since the database keeps only SHA-256(id), a copy of it yields no tokens
 *   either, which an HMAC of the stored hash under a service key would not promise without that
 *   key, and server1 has no symmetric key of its own to use.
 * The token stays the same for the session's lifetime (a per-session token); pages are not
 * compressed, so BREACH-style guessing does not apply.
 */
export function signOutToken(sessionId: string): string {
  return createHmac('sha256', sessionId).update(PURPOSE).digest('base64url');
}

/**
 * The guard of a sign-out form post, in two layers, either one refusing with 403 `csrf_failed`:
 * the Origin / Sec-Fetch-Site check (a browser saying the post came from elsewhere), then the
 * form's `csrf_token`, compared in constant time with `expectedToken`, the sign-out token of the
 * browser's live session, whatever the headers say.
 *
 * With no live session (`expectedToken` undefined: signed out in another tab, expired) no token
 * can be asked for, and none is needed: such a sign-out ends nothing, so it is let through to the
 * signed-out page rather than shown an error.
 */
export function requireSignOutForm(
  request: FastifyRequest,
  publicUrl: string,
  expectedToken: string | undefined,
): void {
  if (!isSameOriginRequest(request, publicUrl)) {
    throw new AppError('csrf_failed', 'This sign-out was not sent from this site.');
  }
  if (expectedToken === undefined) return;
  // A post without a body presents no token: a CSRF failure, not a wrong media type.
  const presented = request.body == null ? undefined : textField(formFields(request), SIGN_OUT_TOKEN_FIELD);
  if (!secretsEqual(presented, expectedToken)) {
    throw new AppError(
      'csrf_failed',
      'This sign-out form has expired or was not sent from this site. Reload the page and try again.',
    );
  }
}
