// @ts-check
// Verifications per second: jwt-handoff's verifier against a bare jose.jwtVerify with the same
// key and token, interleaved A B A B ... over several rounds so both see the same machine state.
// Reports the median rate of each and their ratio. Usage: node bench/verifier-vs-jose.mjs [rounds]
import { createLocalKeySource, createVerifier, SERVICE_PROFILE } from '@jwt-handoff/shared';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
} from 'jose';
import { median, pairedRatio } from './lib/stats.mjs';

const rounds = Number(process.argv[2] ?? 7);
const ROUND_MS = 1000;
const IN_FLIGHT = 64; // enough to keep libuv's thread pool busy on both cores

const { publicKey, privateKey } = await generateKeyPair('EdDSA');
const jwk = await exportJWK(publicKey);
const kid = await calculateJwkThumbprint(jwk);
const jwks = { keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] };
const now = Math.floor(Date.now() / 1000);
const token = await new SignJWT({ scope: 'activity:read' })
  .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'service+jwt' })
  .setIssuer('http://issuer.test')
  .setSubject('server1')
  .setAudience('server2')
  .setIssuedAt(now)
  .setExpirationTime(now + 60)
  .setJti('bench')
  .sign(privateKey);

const verify = createVerifier({
  profile: SERVICE_PROFILE,
  issuer: 'http://issuer.test',
  audience: 'server2',
  algorithms: ['EdDSA'],
  keySource: createLocalKeySource(jwks),
  // Every call must verify: this compares verification, not the verified-token cache.
  verifiedTokenCache: false,
});
const joseKeys = createLocalJWKSet(jwks);
const bareJose = () =>
  jwtVerify(token, joseKeys, { algorithms: ['EdDSA'], issuer: 'http://issuer.test', audience: 'server2' });
const ours = async () => {
  const result = await verify(token);
  if (!result.ok) throw new Error(result.reason);
};

/** @param {() => Promise<unknown>} fn */
async function rate(fn) {
  let done = 0;
  const end = performance.now() + ROUND_MS;
  const worker = async () => {
    while (performance.now() < end) {
      await fn();
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return (done * 1000) / (performance.now() - started);
}

await rate(ours); // warm-up
await rate(bareJose);
/** @type {{ verifier: number[], jose: number[] }} */
const results = { verifier: [], jose: [] };
for (let round = 0; round < rounds; round++) {
  results.verifier.push(await rate(ours));
  results.jose.push(await rate(bareJose));
}
const ratio = pairedRatio(results.verifier, results.jose);
console.log(`rounds: ${rounds} x ${ROUND_MS} ms, ${IN_FLIGHT} in flight`);
console.log(`verifier:         median ${median(results.verifier).toFixed(0)} verifications/s`);
console.log(`bare jwtVerify:   median ${median(results.jose).toFixed(0)} verifications/s`);
console.log(
  `ratio verifier/jose: median ${ratio.median.toFixed(3)} (spread ${ratio.min.toFixed(3)}-${ratio.max.toFixed(3)})`,
);
