import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** A public JSON document as served: its body and a strong ETag over that body. */
export interface CacheableDocument {
  readonly body: string;
  readonly etag: string;
}

/** The document for `body`, its ETag the first 27 characters of the body's SHA-256 (base64url). */
export function cacheableDocument(body: string): CacheableDocument {
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

/**
 * Answers with a public document that verifiers cache (the JWKS, the discovery document):
 * `Cache-Control: public, max-age`, the ETag, and a bodiless 304 when the client already holds
 * this version (If-None-Match). Resolves with the status sent, for the route's metrics.
 */
export function sendCacheable(
  request: FastifyRequest,
  reply: FastifyReply,
  document: CacheableDocument,
  maxAgeSec: number,
): '200' | '304' {
  reply.header('cache-control', `public, max-age=${maxAgeSec}`).header('etag', document.etag);
  if (matchesEtag(request.headers['if-none-match'], document.etag)) {
    reply.code(304).send();
    return '304';
  }
  reply.type('application/json; charset=utf-8').send(document.body);
  return '200';
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}
