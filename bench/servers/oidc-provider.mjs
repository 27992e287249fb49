// @ts-check
// Scenario 3's OpenID Connect peer, the provider side: oidc-provider 8 (the last line that
// supports Node 20) with its in-memory adapter, one confidential client (the relying app of
// oidc-relying.mjs), ID tokens signed with Ed25519 (EdDSA), PKCE required. It logs one pino line
// per request at info to a file, as server1 and server2 do (LOG_LEVEL=info, one line per request).
//
// The measured sign-ins never see a login or consent page: each browser signs in once during
// set-up, through the one interaction route below, which logs the bench user in and grants the
// client's scopes in one step. After that the browser holds a provider session and the client a
// grant, so /auth answers at once with a code, as server1's /handoff/authorize answers from its
// live session.
//
// One deviation from the quick-start set-up: the in-memory adapter keeps its entries in a Map
// that expires them by TTL (../lib/oidc-memory-storage.mjs), not in its QuickLRU of 1000 entries,
// which evicted the sessions and grants of browsers left idle by the rounds at fewer users, and
// sent them to a login page in the next round at 32. The adapter's own code is used unchanged.
import { createServer } from 'node:http';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { setStorage } from 'oidc-provider/lib/adapters/memory_adapter.js';
import pino from 'pino';
import { ExpiringStorage } from '../lib/oidc-memory-storage.mjs';
import { serveParent } from '../lib/worker-process.mjs';

/** @import { Server } from 'node:http' */
/** @import { Interaction } from 'oidc-provider' */

const ACCOUNT = { sub: 'alice', name: 'Alice Example', email: 'alice@example.test' };
const SCOPE = 'openid profile email';

/** @type {Server | undefined} */
let server;

serveParent(
  {
    /**
     * Listens on `port` as issuer `issuer`, for the one client `client`; logs to `logFile`.
     * @param {{ issuer: string, port: number, logFile: string,
     *   client: { clientId: string, clientSecret: string, redirectUri: string } }} args
     */
    async start({ issuer, port, logFile, client }) {
      // The in-memory adapter, over a store without its 1000-entry cap (see the header).
      setStorage(new ExpiringStorage());
      const { privateKey } = await generateKeyPair('EdDSA', { extractable: true });
      const jwk = await exportJWK(privateKey);
      const signingKey = { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'EdDSA', use: 'sig' };
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: client.clientId,
            client_secret: client.clientSecret,
            redirect_uris: [client.redirectUri],
            response_types: ['code'],
            grant_types: ['authorization_code'],
            token_endpoint_auth_method: 'client_secret_basic',
            id_token_signed_response_alg: 'EdDSA',
          },
        ],
        // oidc-provider takes a JWK set with the private members.
        jwks: { keys: [/** @type {any} */ (signingKey)] },
        claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
        findAccount: (/** @type {unknown} */ _ctx, /** @type {string} */ id) => ({
          accountId: id,
          claims: () => ({ ...ACCOUNT, sub: id }),
        }),
        pkce: { required: () => true },
        features: { devInteractions: { enabled: false } },
        interactions: {
          // The prompt rides along in the query (the interaction cookie's path is the pathname
          // alone), so that a measured sign-in that lands here can say why.
          url: (/** @type {unknown} */ _ctx, /** @type {Interaction} */ interaction) =>
            `/interaction/${interaction.uid}?${new URLSearchParams({
              prompt: interaction.prompt.name,
              reasons: interaction.prompt.reasons.join(' '),
            })}`,
        },
        cookies: { keys: ['bench-oidc-provider-cookie-key-0123456789'] },
        // oidc-provider's defaults, in seconds, written out: left to its default functions, it
        // prints a notice to stdout, which is where the harness prints its report.
        ttl: {
          AccessToken: 3600,
          AuthorizationCode: 60,
          Grant: 14 * 24 * 3600,
          IdToken: 3600,
          Interaction: 3600,
          Session: 14 * 24 * 3600,
        },
      });
      const log = pino({ level: 'info' }, pino.destination({ dest: logFile, sync: true }));
      // One line per interaction: each browser's set-up sign-in has one; a measured one has none.
      provider.on('interaction.started', (_ctx, prompt) =>
        log.info({ prompt: { name: prompt.name, reasons: prompt.reasons } }, 'interaction started'),
      );
      const callback = provider.callback();
      server = createServer((req, res) => {
        const started = performance.now();
        res.on('finish', () =>
          log.info(
            {
              req: {
                method: req.method,
                url: (req.url ?? '').split('?')[0],
                remoteAddress: req.socket.remoteAddress,
              },
              res: { statusCode: res.statusCode },
              responseTime: performance.now() - started,
            },
            'request completed',
          ),
        );
        if (req.url?.startsWith('/interaction/')) {
          signInAndGrant(provider, req, res).catch((err) => {
            res.statusCode = 500;
            res.end(String(err));
          });
          return;
        }
        callback(req, res);
      });
      const listening = server;
      await new Promise((resolve) => listening.listen(port, '127.0.0.1', () => resolve(undefined)));
      return { url: issuer };
    },
  },
  async () => {
    const running = server;
    if (running) await new Promise((resolve) => running.close(() => resolve(undefined)));
  },
);

/**
 * The set-up's only interaction: logs the bench user in and grants the client what it asked for,
 * then sends the browser back to the authorization endpoint.
 * @param {Provider} provider
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 */
async function signInAndGrant(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  const clientId = String(details.params.client_id);
  const grant = new provider.Grant({ accountId: ACCOUNT.sub, clientId });
  grant.addOIDCScope(SCOPE);
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: ACCOUNT.sub }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}
