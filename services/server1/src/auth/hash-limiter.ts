/** Bounds of the {@link HashLimiter}. */
export interface HashLimiterLimits {
  /** Password hashes computed at once. */
  readonly maxConcurrent: number;
  /** Hashes waiting for a free slot; beyond them a sign-in is turned away at once. */
  readonly maxQueued: number;
}

/**
 * Bounds how many password hashes run at once. scrypt runs on libuv's thread pool (4 threads by
 * default) and takes about 100-300 ms and 128 MiB each: unbounded, a burst of sign-ins from many
 * addresses fills the pool, delays every other user of it (JWT signing in WebCrypto, file
 * access) and makes a legitimate sign-in wait behind hundreds of guesses (19 s for a 400-request
 * burst, against 0.1 s). Bounded, the excess is refused at once with a Retry-After, cheaply.
 */
export interface HashLimiter {
  /**
   * Runs `task` once a slot is free, and frees the slot when it settles. Returns undefined,
   * without running `task`, when every slot is taken and the queue is full.
   */
  run<T>(task: () => Promise<T>): Promise<T> | undefined;
}

/** A {@link HashLimiter} for one process. */
export function createHashLimiter(limits: HashLimiterLimits): HashLimiter {
  let running = 0;
  const waiting: Array<() => void> = [];

  const release = () => {
    const next = waiting.shift();
    // The slot passes straight to the next in line, so `running` never dips and lets a newcomer
    // jump the queue.
    if (next) next();
    else running--;
  };

  return {
    run(task) {
      let slot: Promise<void>;
      if (running < limits.maxConcurrent) {
        running++;
        slot = Promise.resolve();
      } else if (waiting.length < limits.maxQueued) {
        slot = new Promise<void>((resolve) => waiting.push(resolve));
      } else {
        return undefined;
      }
      return slot.then(task).finally(release);
    },
  };
}
