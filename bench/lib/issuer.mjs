// The bench's stand-in for server1's key publishing: an Ed25519 key whose public half is served
// as a JWKS on loopback, counting every fetch. server2, the @fastify/jwt peer and the flood
// scenario all trust it, so the harness can mint valid tokens itself (server1 keeps its private
// keys in its own database and never hands them out).
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { calculateJwkThumbprint } from 'jose';

export const JWKS_PATH = '/.well-known/jwks.json';

/** Starts the issuer's JWKS endpoint on 127.0.0.1; resolves with its key and counters. */
export async function startIssuer() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = await calculateJwkThumbprint(jwk);
  const body = JSON.stringify({ keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] });
  /** Times (ms since the epoch) of every JWKS fetch, in order. */
  const fetches = [];
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === JWKS_PATH) {
      fetches.push(Date.now());
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' });
      response.end(body);
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    jwksUrl: `${url}${JWKS_PATH}`,
    kid,
    /** What a minter (in any process) needs: see token-minter.mjs. */
    signer: { issuer: url, kid, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) },
    fetches,
    /** How many fetches happened in [fromMs, toMs]. */
    fetchesBetween: (fromMs, toMs) => fetches.filter((at) => at >= fromMs && at <= toMs).length,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
