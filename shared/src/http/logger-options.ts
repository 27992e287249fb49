import type { FastifyServerOptions } from 'fastify';

// Query parameters that carry one-time secrets of the handoff; their values never reach a log.
const SECRET_QUERY_PARAMS = new Set(['txn', 'state', 'token', 'code']);

/**
 * pino settings shared by both services. Requests are logged by method, path and address only:
 * never headers (cookies, Authorization) or bodies (the posted handoff token), and one-time
 * values in the query string are masked. The redact list is a second line of defence for any
 * object that carries headers into a log call.
 */
export function loggerOptions(level: string): FastifyServerOptions['logger'] {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        'headers.authorization',
        'headers.cookie',
        'token',
        'body.token',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req: (request: { method: string; url: string; ip?: string }) => ({
        method: request.method,
        url: maskSecretQuery(request.url),
        remoteAddress: request.ip,
      }),
    },
  };
}

/** `url` with the values of one-time query parameters replaced by `***`. */
export function maskSecretQuery(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return url;
  const params = new URLSearchParams(url.slice(queryStart + 1));
  for (const key of params.keys()) {
    if (SECRET_QUERY_PARAMS.has(key)) params.set(key, '***');
  }
  return `${url.slice(0, queryStart)}?${params.toString()}`;
}
