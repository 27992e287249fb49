/** Limits of the sign-in throttle (docs/design.md, "The sign-in throttle"). */
export interface LoginThrottleLimits {
  /**
   * Failures of one account from one address that are let through at once; after them each
   * further attempt of that pair waits {@link delayBaseMs}, doubling with every failure.
   */
  readonly freeFailuresPerPair: number;
  /** The first wait of a pair, in milliseconds; it doubles up to {@link windowMs}. */
  readonly delayBaseMs: number;
  /** The backstop against guessing from many addresses: failures of one account, from anywhere. */
  readonly maxFailuresPerAccount: number;
  /** Failures from one client address, over every username. */
  readonly maxFailuresPerAddress: number;
  /** Failures are forgotten this long after they happened, in milliseconds (a sliding window). */
  readonly windowMs: number;
}

/** One attempt counted by {@link LoginThrottle.reserve}, to hand back once its outcome is known. */
export interface LoginAttempt {
  readonly username: string;
  readonly address: string;
  /** When it was counted, in milliseconds since the epoch. */
  readonly at: number;
}

/** What {@link LoginThrottle.reserve} answers: go ahead, or wait this many seconds. */
export type LoginReservation =
  | { readonly ok: true; readonly attempt: LoginAttempt }
  | { readonly ok: false; readonly retryAfterSec: number };

/**
 * Counts failed sign-ins per (account, address), per account and per address.
 *
 * An attempt is counted as a failure *before* its password is checked, in the same atomic step
 * as the check of the limits, and handed back when it turns out right. A check-then-record
 * throttle lets every request that arrives during the ~100 ms of a hash through: 60 parallel
 * guesses were all checked against a limit of 5. A store kept elsewhere (a database shared by
 * replicas) must do the same in one transaction or one conditional statement.
 */
export interface LoginThrottle {
  /** Atomically: refuses when a limit is reached, or counts the attempt as a failure. */
  reserve(username: string, address: string, now: number): Promise<LoginReservation>;
  /** Takes back an attempt whose password was never checked (no hashing slot was free). */
  refund(attempt: LoginAttempt): Promise<void>;
  /**
   * The password was right: takes back the attempt, and forgets the failures of the account and
   * of this (account, address) pair. The address keeps its count, so that signing in to one's
   * own account does not buy another round of guesses at other accounts.
   */
  succeed(attempt: LoginAttempt): Promise<void>;
}

// A bound on how many keys are tracked, so a flood of random usernames cannot grow memory
// without limit; the keys least recently counted are forgotten first.
const MAX_TRACKED_KEYS = 100_000;

/** The three keys an attempt is counted under. */
export interface ThrottleKeys {
  readonly account: string;
  readonly address: string;
  readonly pair: string;
}

/** The keys of (username, address); a username counts whatever its case. */
export function throttleKeys(username: string, address: string): ThrottleKeys {
  const account = username.toLowerCase();
  return {
    account: `account:${account}`,
    address: `address:${address}`,
    // No address holds a space, so the pair key is unambiguous.
    pair: `pair:${address} ${account}`,
  };
}

/**
 * How long an attempt must wait (ms; 0 or less: go ahead), given each key's failure times inside
 * the window, oldest first. The rule of every {@link LoginThrottle}, wherever the times are kept.
 */
export function throttleWaitMs(
  limits: LoginThrottleLimits,
  times: { readonly [K in keyof ThrottleKeys]: readonly number[] },
  now: number,
): number {
  // A hard limit: `max` failures in the window, then wait until the oldest counted one leaves it.
  const ceilingWaitMs = (counted: readonly number[], max: number): number =>
    counted.length < max ? 0 : (counted[counted.length - max] as number) + limits.windowMs - now;
  // A growing delay: after the free failures, each attempt waits base * 2^(extra failures) after
  // the last one, at most a window. The owner typing a password wrong a few times never waits;
  // one address guessing at one account gets about a dozen tries in the first window, then one
  // a window.
  const delayWaitMs = (counted: readonly number[]): number => {
    const extra = counted.length - limits.freeFailuresPerPair;
    if (extra < 0) return 0;
    const delay = Math.min(limits.delayBaseMs * 2 ** Math.min(extra, 52), limits.windowMs);
    return (counted[counted.length - 1] as number) + delay - now;
  };
  return Math.max(
    ceilingWaitMs(times.account, limits.maxFailuresPerAccount),
    ceilingWaitMs(times.address, limits.maxFailuresPerAddress),
    delayWaitMs(times.pair),
  );
}

/** The answer to an attempt that must wait `waitMs` (> 0). */
export function refusal(waitMs: number): LoginReservation {
  return { ok: false, retryAfterSec: Math.max(1, Math.ceil(waitMs / 1000)) };
}

/** An in-memory {@link LoginThrottle}: per process, reset by a restart. */
export function createMemoryLoginThrottle(limits: LoginThrottleLimits): LoginThrottle {
  // Each key's failure times, oldest first; the Map's order is the order keys were last counted.
  const failures = new Map<string, number[]>();

  const recent = (key: string, now: number): number[] => {
    const times = (failures.get(key) ?? []).filter((t) => t > now - limits.windowMs);
    if (times.length === 0) failures.delete(key);
    else failures.set(key, times);
    return times;
  };
  const removeOne = (key: string, at: number) => {
    const times = failures.get(key);
    const index = times?.lastIndexOf(at) ?? -1;
    if (!times || index < 0) return;
    times.splice(index, 1);
    if (times.length === 0) failures.delete(key);
  };

  return {
    async reserve(username, address, now) {
      const keys = throttleKeys(username, address);
      const waitMs = throttleWaitMs(
        limits,
        {
          account: recent(keys.account, now),
          address: recent(keys.address, now),
          pair: recent(keys.pair, now),
        },
        now,
      );
      if (waitMs > 0) return refusal(waitMs);
      // Nothing above awaits: the check and the count are one step, whatever runs concurrently.
      for (const key of [keys.account, keys.address, keys.pair]) {
        const times = failures.get(key) ?? [];
        times.push(now);
        failures.delete(key);
        failures.set(key, times);
      }
      while (failures.size > MAX_TRACKED_KEYS) {
        failures.delete(failures.keys().next().value as string);
      }
      return { ok: true, attempt: { username, address, at: now } };
    },
    async refund(attempt) {
      const keys = throttleKeys(attempt.username, attempt.address);
      for (const key of [keys.account, keys.address, keys.pair]) removeOne(key, attempt.at);
    },
    async succeed(attempt) {
      const keys = throttleKeys(attempt.username, attempt.address);
      removeOne(keys.address, attempt.at);
      failures.delete(keys.account);
      failures.delete(keys.pair);
    },
  };
}
