/**
 * Polls `condition` every 10 ms until it holds, and resolves with how long that took (ms); rejects,
 * naming `what`, when it has not held within `timeoutMs`. For the effects of background work or of
 * another process (a back-channel delivery, a key reload): never a blind sleep.
 */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

/** {@link waitFor} with the timeout first: resolves with how long `check` took to hold. */
export function within(timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
  return waitFor('the condition to hold', check, timeoutMs);
}
