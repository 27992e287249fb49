import type { SessionTimeouts } from '../http/session-cookies.js';
import { hashSecret, randomId } from '../http/session-id.js';
import type { RelyingSession, VerifiedHandoff } from './stores.js';

/**
 * A new session from a verified handoff (its claims, and the verifier's trace when recorded), as
 * every session store starts one: a fresh random
 * id (the cookie value, which no store keeps) and the session under that id's hash, ending
 * `timeouts.absoluteMs` from `now` at the latest.
 */
export function newRelyingSession(
  { claims, trace }: VerifiedHandoff,
  now: number,
  timeouts: SessionTimeouts,
): { id: string; session: RelyingSession } {
  const id = randomId();
  return {
    id,
    session: {
      idHash: hashSecret(id),
      sub: claims.sub,
      sid: typeof claims.sid === 'string' ? claims.sid : undefined,
      claims,
      ...(trace ? { trace } : {}),
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + timeouts.absoluteMs,
    },
  };
}
