import type { FastifyServerOptions } from 'fastify';

// Query parameters that carry one-time secrets of the handoff; their values never reach a log.
const SECRET_QUERY_PARAMS = new Set(['txn', 'state', 'token', 'code', 'nonce']);

/**
 * How many queries deep {@link maskSecretQuery} looks: the request's own, and three nested in
 * its values. The deepest the services produce is two (a return path holding an authorize URL).
 */
const MAX_QUERY_DEPTH = 4;

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

/**
 * `url` with the values of one-time query parameters replaced by `***`, at any depth: a value
 * that itself holds a query (server1's `/login?return_to=/handoff/authorize?…&state=…`, where
 * the state rides inside `return_to`) is masked the same way, one level of encoding at a time.
 * A query nested deeper than {@link MAX_QUERY_DEPTH} is not parsed but masked whole, so no
 * amount of nesting carries a secret into a log. The other parameters stay readable: the client,
 * the redirect_uri and the return path are what an operator needs to follow a handoff.
 */
export function maskSecretQuery(url: string): string {
  return maskQuery(url, MAX_QUERY_DEPTH);
}

function maskQuery(url: string, depth: number): string {
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return url;
  const path = url.slice(0, queryStart);
  if (depth === 0) return `${path}?***`;
  const masked = new URLSearchParams();
  for (const [key, value] of new URLSearchParams(url.slice(queryStart + 1))) {
    masked.append(key, isSecretParam(key) ? '***' : maskQuery(value, depth - 1));
  }
  return `${path}?${masked.toString()}`;
}

// Names are compared in lower case, and anything called `…token` counts (csrf_token, id_token):
// masking a harmless value costs nothing, logging a secret one cannot be undone.
function isSecretParam(name: string): boolean {
  const lower = name.toLowerCase();
  return SECRET_QUERY_PARAMS.has(lower) || lower.endsWith('token');
}
