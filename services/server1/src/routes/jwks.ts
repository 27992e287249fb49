import type { FastifyInstance } from 'fastify';
import type { Server1Config } from '../config.js';
import { sendCacheable } from '../http/cacheable-document.js';
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
    const status = sendCacheable(request, reply, keyRing.jwks(now()), config.jwksMaxAgeSec);
    metrics.jwksServed({ status });
    return reply;
  });
}
