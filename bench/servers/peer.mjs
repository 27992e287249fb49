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

let app;
let data;

serveParent(
  {
    /** { issuer, audience } */
    async start({ issuer, audience }) {
      data = openActivityDatabase('bench-peer');
      const getJwks = buildGetJwks({ issuersWhitelist: [issuer] });
      const pems = new WeakMap();
      app = Fastify({ logger: false });
      await app.register(fastifyJwt, {
        decode: { complete: true },
        secret: async (_request, token) => {
          const { header, payload } = token;
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
      app.get('/api/users/:sub/activity', async (request, reply) => {
        try {
          await request.jwtVerify();
        } catch {
          return reply.code(401).send({ error: 'invalid_token' });
        }
        if (!String(request.user.scope).split(' ').includes('activity:read')) {
          return reply.code(403).send({ error: 'insufficient_scope' });
        }
        reply.header('cache-control', 'no-store');
        return data.activityOf(request.params.sub);
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { url: `http://127.0.0.1:${app.server.address().port}` };
    },
  },
  async () => {
    await app?.close();
    data?.close();
  },
);
