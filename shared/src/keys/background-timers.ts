/** A client's timer functions: injected ones (tests), or the global setTimeout and clearTimeout. */
export interface BackgroundTimers {
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/**
 * The timers of a background client (the JWKS and discovery clients), from its injected
 * `setTimeout`/`clearTimeout` or the global ones. Every timer is unref'd: a refresh or retry must
 * never be what keeps the process alive.
 */
export function backgroundTimers(injected: {
  setTimeout?(callback: () => void, ms: number): unknown;
  clearTimeout?(handle: unknown): void;
}): BackgroundTimers {
  return {
    setTimer(callback, ms) {
      const handle = injected.setTimeout ? injected.setTimeout(callback, ms) : setTimeout(callback, ms);
      (handle as { unref?: () => void } | undefined)?.unref?.();
      return handle;
    },
    clearTimer(handle) {
      if (injected.clearTimeout) injected.clearTimeout(handle);
      else clearTimeout(handle as NodeJS.Timeout);
    },
  };
}
