import type { KeySource } from '@jwt-handoff/shared';
import type { FastifyBaseLogger } from 'fastify';

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

/**
 * Fetches server1's keys at start, retrying with capped exponential backoff until it has them,
 * so that /readyz turns ready without waiting for the first handoff. Returns a stop function.
 */
export function keepKeysWarm(keySource: KeySource, log: FastifyBaseLogger): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const attempt = (delay: number) => {
    keySource.refresh().then(
      () => log.info('issuer keys loaded'),
      (err: Error) => {
        if (stopped) return;
        log.warn({ err: err.message, retryInMs: delay }, 'cannot load the issuer keys yet');
        timer = setTimeout(() => attempt(Math.min(delay * 2, MAX_RETRY_MS)), delay);
        timer.unref();
      },
    );
  };
  attempt(FIRST_RETRY_MS);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
