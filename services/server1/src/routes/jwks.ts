import type { FastifyInstance } from 'fastify';
import type { Server1Context } from '../context.js';

/**
 * GET /.well-known/jwks.json: the published public keys, cacheable for `jwksMaxAgeSec`, with a
 * strong ETag so that verifiers revalidate with a cheap 304.
 */
export async function jwksRoutes(app: FastifyInstance, ctx: Server1Context): Promise<void> {
  app.get('/.well-known/jwks.json', async (request, reply) => {
    const { body, etag } = ctx.keyRing.jwks(ctx.now());
    reply.header('cache-control', `public, max-age=${ctx.config.jwksMaxAgeSec}`).header('etag', etag);
    if (matchesEtag(request.headers['if-none-match'], etag)) {
      ctx.metrics.jwksServed({ status: '304' });
      return reply.code(304).send();
    }
    ctx.metrics.jwksServed({ status: '200' });
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
