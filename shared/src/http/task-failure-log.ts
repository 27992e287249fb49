import type { FastifyBaseLogger } from 'fastify';
import { StoreUnavailableError } from '../errors.js';

/**
 * Logs a failed background task (key maintenance, the outbox cycle). A store that cannot be
 * reached is an outage, not a bug: the store reports it once, requests are answered 503, and the
 * task tries again on its next round, so it is one warning line without a stack. Anything else is
 * an error, with its stack.
 */
export function logTaskFailure(
  log: Pick<FastifyBaseLogger, 'warn' | 'error'>,
  err: unknown,
  message: string,
): void {
  if (err instanceof StoreUnavailableError) log.warn({ err: `${err.message}: ${err.detail}` }, message);
  else log.error({ err }, message);
}
