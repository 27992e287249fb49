/**
 * Polls `check` every 25 ms until it returns true, and resolves with how long that took (ms);
 * rejects after `timeoutMs`. For waiting on something that happens in another process.
 */
export async function within(timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`the condition did not hold within ${timeoutMs} ms`);
}
