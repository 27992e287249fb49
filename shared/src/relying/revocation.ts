import { traceCheck, type VerificationTrace } from '../tokens/verification-trace.js';
import type { RevocationStore } from './stores.js';

/** What {@link createRevocation} needs to derive how long an ended session is remembered. */
export interface RevocationOptions {
  store: RevocationStore;
  /** The longest handoff token lifetime (exp - iat) the verifier accepts, in seconds. */
  maxTokenLifetimeSec: number;
  /** The verifier's clock leeway, in seconds. */
  clockToleranceSec: number;
  /** How long verified claims wait for the browser's completion, in milliseconds. */
  txnTtlMs: number;
  /** The clock, in milliseconds since the epoch. */
  now: () => number;
}

/** The revocation rule of docs/design.md section 2, over its store. */
export interface Revocation {
  /**
   * Whether handoff claims are revoked: their issuer session has signed out (by sid), or the
   * user signed out everywhere in or after the second the token was issued. Given a trace, it
   * records the values it compared when the claims are not revoked.
   */
  isRevoked(claims: { sub: string; iat: number; sid?: unknown }, trace?: VerificationTrace): Promise<boolean>;
  /** Issuer session `sid` ended: refuse handoffs from it for as long as one can still arrive. */
  endSession(sid: string): Promise<void>;
  /** The user signed out everywhere: refuse their tokens issued at or before `tokensValidAfterSec`. */
  endAllSessions(sub: string, tokensValidAfterSec: number): Promise<void>;
  /** How long an ended sid is remembered, in milliseconds. */
  readonly endedSidRetentionMs: number;
}

/**
 * How long an ended issuer session must be remembered: a token minted just before the sign-out
 * can be presented until its exp plus the leeway (at most the longest accepted lifetime from
 * now), and its verified claims can then wait one txn lifetime for the browser. Forgetting the
 * sid any sooner would let such a token start a session after the sign-out.
 */
export function endedSidRetentionMs(
  options: Pick<RevocationOptions, 'maxTokenLifetimeSec' | 'clockToleranceSec' | 'txnTtlMs'>,
): number {
  return (options.maxTokenLifetimeSec + options.clockToleranceSec) * 1000 + options.txnTtlMs;
}

/** Builds the revocation rule over `store`; the only place that reads or writes revocations. */
export function createRevocation(options: RevocationOptions): Revocation {
  const { store, now } = options;
  const retentionMs = endedSidRetentionMs(options);
  return {
    endedSidRetentionMs: retentionMs,
    async isRevoked(claims, trace) {
      const at = now();
      if (typeof claims.sid === 'string' && (await store.isSidEnded(claims.sid, at))) return true;
      const after = await store.tokensValidAfter(claims.sub);
      const revoked = after !== undefined && claims.iat <= after;
      if (trace && !revoked) {
        // The completion checks again (a sign-out may have arrived since the callback): say so.
        const again = trace.entries.some((entry) => entry.check === 'revocation');
        traceCheck(
          trace,
          'revocation',
          `${again ? 'still not revoked at completion' : 'not revoked'}: iat after the user’s tokens-valid-after, sid not signed out`,
          [
            { label: 'iat', atMs: claims.iat * 1000 },
            after === undefined
              ? { label: 'tokens-valid-after', text: 'never set (no sign-out everywhere)' }
              : { label: 'tokens-valid-after', atMs: after * 1000 },
            {
              label: 'sid',
              text: typeof claims.sid === 'string' ? `${claims.sid} not signed out` : 'absent',
            },
            { label: 'checked', atMs: at },
          ],
        );
      }
      return revoked;
    },
    async endSession(sid) {
      await store.endSid(sid, now() + retentionMs);
    },
    async endAllSessions(sub, tokensValidAfterSec) {
      await store.revokeUntil(sub, tokensValidAfterSec);
    },
  };
}
