import type { StoredKey } from '../stores/key-store.js';

/**
 * Where a key is in its life (docs/design.md section 4, rotation without a failed verification):
 * `next` is published but does not sign yet, `current` signs, `retiring` no longer signs but
 * stays published until every token it signed has expired, `dropped` is gone from the JWKS.
 */
export type KeyState = 'scheduled' | 'next' | 'current' | 'retiring' | 'dropped';

/** The key's state at `now` (ms). */
export function keyState(key: StoredKey, now: number): KeyState {
  if (key.unpublishAt !== null && key.unpublishAt <= now) return 'dropped';
  if (key.publishAt > now) return 'scheduled';
  if (key.signFrom > now) return 'next';
  if (key.retireAt !== null && key.retireAt <= now) return 'retiring';
  return 'current';
}

export const isSigning = (key: StoredKey, now: number): boolean => keyState(key, now) === 'current';

export const isPublished = (key: StoredKey, now: number): boolean => {
  const state = keyState(key, now);
  return state === 'next' || state === 'current' || state === 'retiring';
};

/** The key's next change of state after `now`, if it has one scheduled. */
export function nextTransition(key: StoredKey, now: number): { to: KeyState; at: number } | undefined {
  const steps: Array<{ to: KeyState; at: number | null }> = [
    { to: 'next', at: key.publishAt },
    { to: 'current', at: key.signFrom },
    { to: 'retiring', at: key.retireAt },
    { to: 'dropped', at: key.unpublishAt },
  ];
  // A time at the end of the safe range means "never" (keys from the environment).
  return steps.find(
    (step): step is { to: KeyState; at: number } =>
      step.at !== null && step.at > now && step.at < Number.MAX_SAFE_INTEGER,
  );
}

/** How often a running server1 re-reads its keys, so a rotation made by the CLI is picked up. */
export const KEY_RELOAD_INTERVAL_MS = 1_000;

/** What the rotation timeline is derived from. */
export interface RotationTimingInput {
  /** The JWKS `Cache-Control: max-age` verifiers are told, in seconds. */
  jwksMaxAgeSec: number;
  /** The longest lifetime of any token server1 signs, in seconds. */
  maxTokenLifetimeSec: number;
  /** The clock leeway verifiers allow, in seconds. */
  clockToleranceSec: number;
  /** Extra safety on both ends, in milliseconds. */
  marginMs: number;
}

/** The two waits of a rotation, in milliseconds. */
export interface RotationTiming {
  /** From publishing a new key to its first signature. */
  publishLeadMs: number;
  /** From a key's last signature to its removal from the JWKS. */
  retentionMs: number;
}

/**
 * The rotation timeline. A new key signs only once every verifier must have seen it: a cached
 * JWKS is at most max-age old, a running server1 picks up a key written by the CLI within one
 * reload interval, plus the margin. An old key stays published until every token it signed has
 * expired: the longest token lifetime, plus the verifiers' leeway, plus the margin.
 */
export function rotationTiming(input: RotationTimingInput): RotationTiming {
  return {
    publishLeadMs: input.jwksMaxAgeSec * 1000 + KEY_RELOAD_INTERVAL_MS + input.marginMs,
    retentionMs: (input.maxTokenLifetimeSec + input.clockToleranceSec) * 1000 + input.marginMs,
  };
}
