import type { CookieSessionStore, SessionTimeouts } from '../http/session-cookies.js';
import type { HandoffClaims } from '../tokens/handoff-token.js';
import type { ReplayStore } from '../tokens/replay-store.js';
import type { VerificationTrace } from '../tokens/verification-trace.js';

/**
 * The stores a relying service keeps, one small interface per concern (docs/design.md section 6).
 * SQLite is the default implementation (`createSqliteRelyingStores`); a store shared by several
 * replicas implements the same interfaces. Two rules make that possible:
 * - every "only once" is one atomic operation of the store (`markUsed`, `take`), never a read
 *   followed by a write, so two replicas racing on the same token or txn cannot both win;
 * - everything that expires says when (`expiresAt`, `until`), so a store with native TTLs can
 *   let it expire by itself. `purgeExpired` is then optional: the plugin calls it when present.
 */
export interface RelyingStores {
  readonly sessions: RelyingSessionStore;
  /** The used (iss, jti) pairs of single-use tokens: the replay check. */
  readonly usedJtis: UsedJtiStore;
  readonly txns: TxnStore;
  readonly revocations: RevocationStore;
  readonly activity: ActivityStore;
  /** Whether the backing store can be reached now; drives `/readyz` with the keys. Default true. */
  isReady?(): boolean;
  /** Releases connections or files; called when the app closes, if the plugin opened the stores. */
  close?(): Promise<void>;
}

/** A browser signed in to the relying service through a handoff. Only the hash of its id is stored. */
export interface RelyingSession {
  readonly idHash: string;
  /** The user at the issuer (the token's sub). */
  readonly sub: string;
  /** The issuer's session handle (the token's sid), for back-channel sign-out. */
  readonly sid: string | undefined;
  /** The verified claims of the handoff token that started it. */
  readonly claims: HandoffClaims;
  /** What the verifier checked for that token (plain JSON, stored as is); absent for older sessions. */
  readonly trace?: VerificationTrace;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly expiresAt: number;
}

/** A verified handoff on its way from the callback to a session: its claims and the verifier's trace. */
export interface VerifiedHandoff {
  readonly claims: HandoffClaims;
  /** What the verifier checked, when it recorded a trace; kept with the session it starts. */
  readonly trace?: VerificationTrace;
}

/** Where sessions live; created from a verified handoff. */
export interface RelyingSessionStore extends CookieSessionStore<RelyingSession, VerifiedHandoff> {
  /** The idle and absolute timeouts the store enforces (the cookie itself ends with the browser). */
  readonly timeouts: SessionTimeouts;
  /** Ends the sessions started from issuer session `sid` (of user `sub`, when given); returns how many. */
  deleteBySid(sid: string, sub: string | undefined): Promise<number>;
  /** Ends every session of user `sub`; returns how many. */
  deleteBySub(sub: string): Promise<number>;
  /** The user's live sessions, newest first. */
  listForSub(sub: string, now: number): Promise<RelyingSession[]>;
  /** Drops sessions past their idle or absolute timeout; returns how many. */
  purgeExpired?(now: number): Promise<number>;
  count(): Promise<number>;
}

/** The replay check's store: `markUsed` is the atomic "consume once". */
export interface UsedJtiStore extends ReplayStore {
  /** Deletes records of tokens that have expired; returns how many. */
  purgeExpired?(now: number): Promise<number>;
  count(): Promise<number>;
}

/**
 * Verified handoff claims waiting for the browser's GET /handoff/complete: the one-time txn of
 * docs/design.md section 1, keyed by the hash of the txn, which itself only travels in the URL.
 */
export interface TxnStore {
  put(idHash: string, handoff: VerifiedHandoff, expiresAt: number): Promise<void>;
  /** Removes and returns the handoff in one step, or undefined when unknown, used or expired. */
  take(idHash: string, now: number): Promise<VerifiedHandoff | undefined>;
  purgeExpired?(now: number): Promise<number>;
}

/**
 * What the issuer has revoked, as far as a relying service needs to know: per-user
 * tokens-valid-after times ("sign out everywhere") and ended issuer sessions (by sid). The rule
 * that reads them lives in `revocation.ts`.
 */
export interface RevocationStore {
  /** The user's time (unix seconds), or undefined when never set. */
  tokensValidAfter(sub: string): Promise<number | undefined>;
  /** Moves the user's time forward to `at` (unix seconds); an older time never replaces a newer one. */
  revokeUntil(sub: string, at: number): Promise<void>;
  /** Remembers that issuer session `sid` ended, until `until` (ms); a later `until` wins. */
  endSid(sid: string, until: number): Promise<void>;
  /** Whether issuer session `sid` is known to have ended, at `now` (ms). */
  isSidEnded(sid: string, now: number): Promise<boolean>;
  /** Forgets ended sids past their time; returns how many. */
  purgeExpired?(now: number): Promise<number>;
}

/** Completed handoffs per user, for an activity report. */
export interface ActivityStore {
  recordHandoff(sub: string, at: number): Promise<void>;
  /** The user's most recent handoff times (ms), newest first. */
  recentHandoffs(sub: string, limit: number): Promise<number[]>;
  /** Drops events older than `before` (ms). */
  purgeBefore?(before: number): Promise<number>;
}
