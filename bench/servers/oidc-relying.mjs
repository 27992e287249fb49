// @ts-check
// Scenario 3's OpenID Connect peer, the relying side: a fastify app with openid-client 6, doing
// the authorization code flow with PKCE against oidc-provider.mjs, as its documentation shows it.
// State lives in a server-side session (@fastify/session, its in-memory store, the session id in
// a signed HttpOnly cookie): the PKCE verifier, state and nonce while the sign-in is under way,
// the user's claims afterwards. The ID token's EdDSA signature is verified against the provider's
// JWKS (enableNonRepudiationChecks; openid-client skips it by default for a token endpoint
// answer). Logs one line per request at info to a file, as server2 does.
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import Fastify, { LogController } from 'fastify';
import * as client from 'openid-client';
import pino from 'pino';
import { serveParent } from '../lib/worker-process.mjs';

/** @import { FastifyInstance } from 'fastify' */

/**
 * What the session holds: the sign-in under way, then the signed-in user.
 * @typedef {{ pending?: { verifier: string, state: string, nonce: string }, user?: { sub: string, name?: unknown } }} SessionData
 */

/** fastify's request logging in one line per request (on completion), as server2's. */
class OneLinePerRequest extends LogController {
  /** @override */
  incomingRequest() {}
}

/** @type {FastifyInstance | undefined} */
let app;

serveParent(
  {
    /**
     * Listens on `port`, signing in through `issuer` as `clientId`; logs to `logFile`.
     * @param {{ issuer: string, port: number, logFile: string, clientId: string, clientSecret: string }} args
     */
    async start({ issuer, port, logFile, clientId, clientSecret }) {
      const base = `http://localhost:${port}`;
      const redirectUri = `${base}/callback`;
      const config = await client.discovery(
        new URL(issuer),
        clientId,
        { id_token_signed_response_alg: 'EdDSA' },
        client.ClientSecretBasic(clientSecret),
        { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] },
      );
      const server = Fastify({
        logger: { level: 'info', stream: pino.destination({ dest: logFile, sync: true }) },
        logController: new OneLinePerRequest(),
      });
      app = server;
      await server.register(fastifyCookie);
      await server.register(fastifySession, {
        secret: 'bench-oidc-relying-session-secret-0123456789',
        cookieName: 'rp_session',
        cookie: { secure: false, httpOnly: true, sameSite: 'lax', path: '/' },
        saveUninitialized: false,
      });

      server.get('/login', async (request, reply) => {
        const verifier = client.randomPKCECodeVerifier();
        const pending = { verifier, state: client.randomState(), nonce: client.randomNonce() };
        /** @type {any} */ (request.session).pending = pending;
        const url = client.buildAuthorizationUrl(config, {
          redirect_uri: redirectUri,
          scope: 'openid profile email',
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state: pending.state,
          nonce: pending.nonce,
        });
        return reply.header('cache-control', 'no-store').redirect(url.href, 303);
      });

      server.get('/callback', async (request, reply) => {
        const session = /** @type {any} */ (request.session);
        /** @type {SessionData['pending']} */
        const pending = session.pending;
        if (!pending) return reply.code(400).send({ error: 'no sign-in under way' });
        // The back-channel: the code and the PKCE verifier go to the token endpoint; the answer's
        // ID token is verified (signature, iss, aud, exp, iat, nonce) before it is believed.
        const tokens = await client.authorizationCodeGrant(config, new URL(request.url, base), {
          pkceCodeVerifier: pending.verifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
        const claims = tokens.claims();
        if (!claims) return reply.code(400).send({ error: 'no ID token' });
        // A new session id once signed in (no fixation), as server2 does at /handoff/complete.
        await request.session.regenerate();
        /** @type {any} */ (request.session).user = { sub: claims.sub, name: claims.name };
        return reply.header('cache-control', 'no-store').redirect('/', 303);
      });

      server.get('/', async (request, reply) => {
        const user = /** @type {SessionData['user']} */ (/** @type {any} */ (request.session).user);
        if (!user) return reply.redirect('/login', 303);
        return { sub: user.sub, name: user.name };
      });

      await server.listen({ port, host: '127.0.0.1' });
      return { url: base };
    },
  },
  async () => app?.close(),
);
