/**
 * The instant every test clock starts at, in unix seconds (2025-06-15T15:06:40Z), so that every
 * timestamp in a test is reproducible. It lies in the past: a token issued at T0 is long expired
 * by the real clock.
 */
export const T0 = 1_750_000_000;
/** {@link T0} in milliseconds. */
export const T0_MS = T0 * 1000;

/**
 * A clock the test moves by hand, handed to the code under test as its `now` (deps.now, a
 * verifier's or a store's `now` option).
 */
export interface TestClock {
  /** Milliseconds since the epoch; a bound function, to pass as it is. */
  readonly now: () => number;
  /** Whole seconds since the epoch, as JWT claims (iat, exp, auth_time) count. */
  nowSec(): number;
  advance(ms: number): void;
  /** Moves the clock forward to the time `ms`; never back. */
  advanceTo(ms: number): void;
  /** Sets the clock to `sec` unix seconds, forward or back. */
  setSec(sec: number): void;
}

/**
 * A fake clock starting at `startMs`. It stands still unless made `ticking`: then it also moves
 * with real time, which code that schedules by this clock but waits with real timers needs (the
 * back-channel logout dispatcher of server1).
 */
export function testClock(startMs = T0_MS, options: { ticking?: boolean } = {}): TestClock {
  let ms = startMs;
  const realStart = options.ticking ? performance.now() : undefined;
  const now = () => (realStart === undefined ? ms : ms + Math.floor(performance.now() - realStart));
  return {
    now,
    nowSec: () => Math.floor(now() / 1000),
    advance: (by) => {
      ms += by;
    },
    advanceTo: (to) => {
      const current = now();
      if (to < current) throw new Error(`the clock is at ${current}: it cannot go back to ${to}`);
      ms += to - current;
    },
    setSec: (sec) => {
      ms += sec * 1000 - now();
    },
  };
}
