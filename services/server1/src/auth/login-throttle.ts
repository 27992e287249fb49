/** Limits of the failed-login throttle. */
export interface LoginThrottleLimits {
  maxFailuresPerAccount: number;
  maxFailuresPerAddress: number;
  windowMs: number;
}

/**
 * Counts failed sign-ins per account and per client address over a sliding window. Both keys
 * matter: per account stops guessing one password from many addresses, per address stops one
 * client spraying a common password over many accounts.
 */
export interface LoginThrottle {
  /** Seconds to wait before trying again, or 0 when a new attempt is allowed now. */
  retryAfterSec(username: string, address: string, now: number): number;
  recordFailure(username: string, address: string, now: number): void;
  /** A correct password clears the account's count (not the address's). */
  recordSuccess(username: string): void;
}

// A bound on how many keys are tracked, so a flood of random usernames cannot grow memory
// without limit; the oldest keys are forgotten first.
const MAX_TRACKED_KEYS = 100_000;

/** An in-memory {@link LoginThrottle}: per process, reset by a restart. */
export function createMemoryLoginThrottle(limits: LoginThrottleLimits): LoginThrottle {
  const failures = new Map<string, number[]>();

  const recent = (key: string, now: number): number[] => {
    const times = (failures.get(key) ?? []).filter((t) => t > now - limits.windowMs);
    if (times.length === 0) failures.delete(key);
    else failures.set(key, times);
    return times;
  };
  const waitFor = (key: string, max: number, now: number): number => {
    const times = recent(key, now);
    if (times.length < max) return 0;
    const oldestCounted = times[times.length - max] as number;
    return Math.max(1, Math.ceil((oldestCounted + limits.windowMs - now) / 1000));
  };
  const accountKey = (username: string) => `account:${username.toLowerCase()}`;
  const addressKey = (address: string) => `address:${address}`;

  return {
    retryAfterSec(username, address, now) {
      return Math.max(
        waitFor(accountKey(username), limits.maxFailuresPerAccount, now),
        waitFor(addressKey(address), limits.maxFailuresPerAddress, now),
      );
    },
    recordFailure(username, address, now) {
      for (const key of [accountKey(username), addressKey(address)]) {
        const times = recent(key, now);
        times.push(now);
        failures.delete(key);
        failures.set(key, times);
      }
      while (failures.size > MAX_TRACKED_KEYS) {
        failures.delete(failures.keys().next().value as string);
      }
    },
    recordSuccess(username) {
      failures.delete(accountKey(username));
    },
  };
}
