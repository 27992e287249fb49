// @ts-check
// The CPU time of server2's API guard on a verified-token cache hit, alone, in one process: the
// `Authorization` header parsed, the token looked up, its time re-checked, the scope checked, as
// `requireServiceToken` does on every API call. Beside scenario 1, whose server CPU per request
// also carries everything in which server2's process differs from the bench-only no-auth build.
// Usage: node bench/cached-guard-cpu.mjs [calls per round]   (after `npm run build`)
import { createLocalKeySource, createVerifier, serviceVerifierOptions } from '@jwt-handoff/shared';
import { generateTestKey, jwksOf, mintToken } from '@jwt-handoff/testkit';
// Not part of the package's API: the guard's core, which the plugin wraps in a fastify hook.
import { createServiceTokenAuth } from '../shared/dist/relying/service-token-auth.js';

const calls = Number(process.argv[2] ?? 200_000);
const ISSUER = 'http://localhost:4001';
const SCOPE = 'activity:read';

const key = await generateTestKey('EdDSA');
/** @type {import('@jwt-handoff/shared').TokenVerifier<import('@jwt-handoff/shared').ServiceClaims>} */
const verify = createVerifier({
  ...serviceVerifierOptions({}),
  issuer: ISSUER,
  audience: 'server2',
  algorithms: ['EdDSA'],
  keySource: createLocalKeySource(jwksOf(key)),
});
const authorize = createServiceTokenAuth(verify, 'server2', () => {});
const nowSec = Math.floor(Date.now() / 1000);
const token = await mintToken(
  key,
  {
    iss: ISSUER,
    aud: 'server2',
    sub: 'server1',
    scope: SCOPE,
    iat: nowSec,
    exp: nowSec + 60,
    jti: 'bench-1',
  },
  'service+jwt',
);
// Each call gets a header string of its own, as each request's parsed headers are, so that no
// string hash is reused from the previous call.
const request = () =>
  /** @type {import('fastify').FastifyRequest} */ (
    /** @type {unknown} */ ({ headers: { authorization: `Bearer ${token.slice(0)}` } })
  );
await authorize(request(), SCOPE); // the one full verification: the rest are hits

for (let round = 1; round <= 5; round++) {
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i++) await authorize(request(), SCOPE);
  const spent = process.cpuUsage(before);
  const nanos = ((spent.user + spent.system) * 1000) / calls;
  console.log(
    `round ${round}: ${nanos.toFixed(0)} ns of CPU per cached call (a ${token.length}-character token)`,
  );
}
