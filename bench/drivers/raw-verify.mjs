// @ts-check
// Scenario 2's process: in one process, the rate of raw Ed25519 crypto.verify over a service
// token's signing input (the physical limit on this machine), of jwt-handoff's verifier on the
// same token (cache off, so that every call verifies), and of bare jose.jwtVerify, each with the
// same number of verifications in flight so that the asynchronous ones spread over the cores
// through libuv's thread pool.
import { verify as cryptoVerify, generateKeyPairSync } from 'node:crypto';
import { createLocalKeySource, createVerifier, SERVICE_PROFILE } from '@jwt-handoff/shared';
import { calculateJwkThumbprint, createLocalJWKSet, jwtVerify } from 'jose';
import { createMinter } from '../lib/token-minter.mjs';
import { serveParent } from '../lib/worker-process.mjs';

/**
 * What one `round` call reports.
 * @typedef {object} VerifyRound
 * @property {number} rate verifications per second
 * @property {number} done verifications completed
 */

const ISSUER = 'http://issuer.bench';
/** Mints a fresh token for the contenders to verify. */
let refresh = () => {};
/** @type {Record<string, () => Promise<unknown>>} each contender, by name */
let contenders = {};

async function setup() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = await calculateJwkThumbprint(jwk);
  const jwks = { keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] };
  const minter = createMinter({
    issuer: ISSUER,
    kid,
    privateKeyPem: String(privateKey.export({ type: 'pkcs8', format: 'pem' })),
  });
  // Valid for 60 s: a fresh token per round keeps it valid whatever the round length.
  let token = minter.service();
  /** @type {Buffer} the signing input, header.payload */
  let input;
  /** @type {Buffer} */
  let signature;
  refresh = () => {
    token = minter.service();
    const cut = token.lastIndexOf('.');
    input = Buffer.from(token.slice(0, cut));
    signature = Buffer.from(token.slice(cut + 1), 'base64url');
  };
  refresh();
  const verifier = createVerifier({
    profile: SERVICE_PROFILE,
    issuer: ISSUER,
    audience: 'server2',
    algorithms: ['EdDSA'],
    keySource: createLocalKeySource(jwks),
    verifiedTokenCache: false,
  });
  const joseKeys = createLocalJWKSet(jwks);
  contenders = {
    'crypto.verify (raw Ed25519)': () =>
      /** @type {Promise<void>} */ (
        new Promise((resolve, reject) =>
          cryptoVerify(null, input, publicKey, signature, (err, ok) =>
            err || !ok ? reject(err ?? new Error('bad signature')) : resolve(),
          ),
        )
      ),
    'jwt-handoff verifier (cache off)': async () => {
      const result = await verifier(token);
      if (!result.ok) throw new Error(result.reason);
    },
    'jose jwtVerify': () =>
      jwtVerify(token, joseKeys, {
        algorithms: ['EdDSA'],
        issuer: ISSUER,
        audience: 'server2',
        typ: 'service+jwt',
      }),
  };
  return Object.keys(contenders);
}

/**
 * Verifications per second of `name` over `ms`, with `inFlight` running at once.
 * @param {{ name: string, ms: number, inFlight: number }} args
 * @returns {Promise<VerifyRound>}
 */
async function round({ name, ms, inFlight }) {
  refresh();
  const fn = contenders[name];
  if (!fn) throw new Error(`no contender named ${name}`);
  let done = 0;
  const started = performance.now();
  const end = started + ms;
  const worker = async () => {
    while (performance.now() < end) {
      await fn();
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { rate: (done * 1000) / (performance.now() - started), done };
}

serveParent({ setup, round });
