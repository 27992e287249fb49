// @ts-check
// The peer users would otherwise pick: a plain fastify app verifying the same service tokens
// with @fastify/jwt (fast-jwt underneath), its key found by kid through get-jwks from the same
// JWKS, then the same activity query. Configured as strictly as server2's verifier where the
// library allows: EdDSA only, iss, aud and typ checked, the same claims required.
//
// get-jwks's getPublicKey converts through jwk-to-pem, which knows RSA and EC keys but not
// Ed25519 (OKP), so the key comes from getJwk and node:crypto turns it into PEM, once per
// JWK that get-jwks hands out (get-jwks caches it for a minute).
import { createPublicKey } from 'node:crypto';
import fastifyJwt from '@fastify/jwt';
import Fastify from 'fastify';
import buildGetJwks from 'get-jwks';
import { serveParent } from '../lib/worker-process.mjs';
import { openActivityDatabase } from './activity-data.mjs';

/** @import { TokenOrHeader } from '@fastify/jwt' */
/** @import { FastifyInstance, FastifyRequest } from 'fastify' */

/** @type {FastifyInstance | undefined} */
let app;
/** @type {ReturnType<typeof openActivityDatabase> | undefined} */
let data;

serveParent(
  {
    /**
     * Trusts `issuer`'s JWKS for tokens to `audience`.
     * @param {{ issuer: string, audience: string }} args
     */
    async start({ issuer, audience }) {
      const activity = openActivityDatabase('bench-peer');
      data = activity;
      const getJwks = buildGetJwks({ issuersWhitelist: [issuer] });
      /** @type {WeakMap<object, string | Buffer>} */
      const pems = new WeakMap();
      const server = Fastify({ logger: false });
      app = server;
      await server.register(fastifyJwt, {
        decode: { complete: true },
        /** @type {(request: FastifyRequest, token: TokenOrHeader) => Promise<string | Buffer>} */
        secret: async (_request, token) => {
          // With decode.complete the whole token comes here, its header and its payload.
          const { header, payload } =
            /** @type {{ header: { alg: string, kid: string }, payload: { iss: string } }} */ (token);
          const jwk = await getJwks.getJwk({ domain: payload.iss, alg: header.alg, kid: header.kid });
          let pem = pems.get(jwk);
          if (!pem) {
            pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
            pems.set(jwk, pem);
          }
          return pem;
        },
        verify: {
          algorithms: ['EdDSA'],
          allowedIss: issuer,
          allowedAud: audience,
          checkTyp: 'service+jwt',
          requiredClaims: ['iss', 'aud', 'exp', 'iat', 'jti', 'sub', 'scope'],
        },
      });
      server.get('/api/users/:sub/activity', async (request, reply) => {
        try {
          await request.jwtVerify();
        } catch {
          return reply.code(401).send({ error: 'invalid_token' });
        }
        const { scope } = /** @type {{ scope?: unknown }} */ (request.user);
        if (!String(scope).split(' ').includes('activity:read')) {
          return reply.code(403).send({ error: 'insufficient_scope' });
        }
        reply.header('cache-control', 'no-store');
        return activity.activityOf(/** @type {{ sub: string }} */ (request.params).sub);
      });
      return { url: await server.listen({ port: 0, host: '127.0.0.1' }) };
    },
  },
  async () => {
    await app?.close();
    await data?.close();
  },
);
