import { AppError } from '../errors.js';

// At most ten digits: a larger max_age asks nothing a sign-in could fail.
const MAX_AGE_PATTERN = /^\d{1,10}$/;

/**
 * The `max_age` query parameter of /handoff/start, in whole seconds; undefined when none is
 * asked. Anything else is refused (`invalid_max_age`), never read as "no limit".
 */
export function readMaxAge(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !MAX_AGE_PATTERN.test(value))
    throw new AppError('invalid_max_age', 'The max_age of this sign-in link is not a number of seconds.');
  return Number(value);
}

/** Checks a `maxAgeSec` given to `requireSession()`, at registration: a TypeError naming it. */
export function checkMaxAgeSec(maxAgeSec: unknown): void {
  if (!(Number.isInteger(maxAgeSec) && (maxAgeSec as number) >= 0 && (maxAgeSec as number) < 1e10))
    throw new TypeError(
      `requireSession: "maxAgeSec" must be a whole number of seconds >= 0, got ${maxAgeSec}`,
    );
}

/**
 * Whether a sign-in at `authTime` (the token's auth_time, unix seconds) is at most `maxAgeSec`
 * old at `nowMs`, with the verifiers' clock leeway. The route guard and the handoff completion
 * use this one rule, so a sign-in the completion accepts is one the guard lets through (no loop).
 * A missing or malformed auth_time is never recent.
 */
export function isRecentSignIn(
  authTime: unknown,
  maxAgeSec: number,
  nowMs: number,
  leewaySec: number,
): boolean {
  if (typeof authTime !== 'number' || !Number.isFinite(authTime)) return false;
  return Math.floor(nowMs / 1000) - authTime <= maxAgeSec + leewaySec;
}
