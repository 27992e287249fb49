// @ts-check
// The bench's stand-in for server1's key publishing: an Ed25519 key whose public half is served
// as a JWKS on loopback, counting every fetch. server2, the @fastify/jwt peer and the flood
// scenario all trust it, so the harness can mint valid tokens itself (server1 keeps its private
// keys in its own database and never hands them out).
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { calculateJwkThumbprint } from 'jose';

/** @import { AddressInfo } from 'node:net' */

export const JWKS_PATH = '/.well-known/jwks.json';

/**
 * The bench issuer, as startIssuer resolves with it.
 * @typedef {Awaited<ReturnType<typeof startIssuer>>} Issuer
 */

/**
 * What a minter (in any process) needs to sign as the bench issuer; see token-minter.mjs.
 * @typedef {object} Signer
 * @property {string} issuer the issuer URL, the tokens' iss
 * @property {string} kid
 * @property {string} privateKeyPem PKCS#8
 */

/** Starts the issuer's JWKS endpoint on 127.0.0.1; resolves with its key and counters. */
export async function startIssuer() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = await calculateJwkThumbprint(jwk);
  const body = JSON.stringify({ keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] });
  /** @type {number[]} Times (ms since the epoch) of every JWKS fetch, in order. */
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
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const url = `http://127.0.0.1:${/** @type {AddressInfo} */ (server.address()).port}`;
  return {
    url,
    jwksUrl: `${url}${JWKS_PATH}`,
    kid,
    /** @type {Signer} */
    signer: { issuer: url, kid, privateKeyPem: String(privateKey.export({ type: 'pkcs8', format: 'pem' })) },
    fetches,
    /** How many fetches happened in [fromMs, toMs]. */
    fetchesBetween: (/** @type {number} */ fromMs, /** @type {number} */ toMs) =>
      fetches.filter((at) => at >= fromMs && at <= toMs).length,
    /** @returns {Promise<void>} */
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
