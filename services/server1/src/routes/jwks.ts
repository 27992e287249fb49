import type { FastifyInstance } from 'fastify';
import type { Server1Config } from '../config.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { Server1Metrics } from '../metrics.js';

/** What the JWKS route uses. */
export interface JwksRouteOptions {
  /** `jwksMaxAgeSec`: how long verifiers may cache the document. */
  config: Pick<Server1Config, 'jwksMaxAgeSec'>;
  keyRing: Pick<KeyRing, 'jwks'>;
  metrics: Pick<Server1Metrics, 'jwksServed'>;
  /** The clock, in milliseconds since the epoch. */
  now: () => number;
}

/**
 * GET /.well-known/jwks.json: the published public keys, cacheable for `jwksMaxAgeSec`, with a
 * strong ETag so that verifiers revalidate with a cheap 304.
 */
export async function jwksRoutes(app: FastifyInstance, options: JwksRouteOptions): Promise<void> {
  const { config, keyRing, metrics, now } = options;

  app.get('/.well-known/jwks.json', async (request, reply) => {
    const { body, etag } = keyRing.jwks(now());
    reply.header('cache-control', `public, max-age=${config.jwksMaxAgeSec}`).header('etag', etag);
    if (matchesEtag(request.headers['if-none-match'], etag)) {
      metrics.jwksServed({ status: '304' });
      return reply.code(304).send();
    }
    metrics.jwksServed({ status: '200' });
    return reply.type('application/json; charset=utf-8').send(body);
  });
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}
