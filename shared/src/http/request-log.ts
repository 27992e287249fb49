import { LogController } from 'fastify';

/**
 * fastify's request logging in one line per request instead of two. fastify writes the request
 * when it arrives ("incoming request") and its outcome when answered ("request completed"); this
 * writes nothing on arrival and, on completion, the request (as loggerOptions serializes it:
 * method, masked URL, address), the status and the time taken, together. Every other line
 * fastify writes (errors, 404s, stream failures) stays as it is.
 *
 * Why: each log line is a write(2) of its own, and in the handoff benchmark the two lines per
 * request were about a seventh of each service's CPU time (docs/benchmarks.md, "Where a
 * handoff's CPU goes"). A request that never completes (the client went away) is still written
 * by fastify's abort and error paths.
 */
export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(...[error, request, reply]: Parameters<LogController['requestCompleted']>): void {
    if (this.isLogDisabled(request)) return;
    if (error) {
      reply.log.error(
        { req: request, res: reply, err: error, responseTime: reply.elapsedTime },
        'request errored',
      );
    } else {
      reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
    }
  }
}
