// @ts-check
// Scenario 3's in-process bound: what one handoff costs with no HTTP at all. Per handoff:
// sign a handoff token as server1 does (jose SignJWT, Ed25519), verify it with jwt-handoff's
// verifier (handoff profile, its jti recorded by server2's replay store), then server2's other
// store writes, through server2's own stores: park the claims under a txn, take them back,
// replace the browser's session and record the handoff event. `inFlight` handoffs run at once.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import {
  createLocalKeySource,
  createSqliteRelyingStores,
  createVerifier,
  HANDOFF_PROFILE,
  startTrace,
} from '@jwt-handoff/shared';
import { tempDir } from '@jwt-handoff/testkit';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { serveParent } from '../lib/worker-process.mjs';

const ISSUER = 'http://server1.bench';
const SESSION_MS = 12 * 3_600_000;
/** @import { HandoffClaims, TokenVerifier } from '@jwt-handoff/shared' */

/**
 * What one `round` call reports.
 * @typedef {object} BoundRound
 * @property {number} rate handoffs per second
 * @property {number} done handoffs completed
 */

const hash = (/** @type {string} */ value) => createHash('sha256').update(value).digest('base64url');
/** @type {Awaited<ReturnType<typeof open>> | undefined} */
let state;

async function setup() {
  state = await open();
  return 'ready';
}

/** A key, server2's stores in a temporary database, and a verifier trusting the key. */
async function open() {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA');
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  const dir = tempDir('bench-bound');
  // server2's stores: the relying plugin's, in the file server2 uses.
  const stores = createSqliteRelyingStores({
    dataDir: dir,
    fileName: 'server2.sqlite',
    sessionTimeouts: { idleMs: 30 * 60_000, absoluteMs: SESSION_MS },
  });
  /** @type {TokenVerifier<HandoffClaims>} */
  const verify = createVerifier({
    profile: HANDOFF_PROFILE,
    issuer: ISSUER,
    audience: 'server2',
    algorithms: ['EdDSA'],
    keySource: createLocalKeySource({ keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] }),
    replayStore: stores.usedJtis,
  });
  /** @type {Map<number, string>} each user's session, by the hash of its id */
  const sessions = new Map();
  return { privateKey, kid, dir, stores, verify, sessions };
}

/** @param {number} user */
async function oneHandoff(user) {
  if (!state) throw new Error('setup first');
  const { privateKey, kid, stores, verify, sessions } = state;
  const now = Date.now();
  const iat = Math.floor(now / 1000);
  const sub = `user-${user}`;
  const token = await new SignJWT({
    nonce: randomBytes(32).toString('base64url'),
    auth_time: iat,
    sid: hash(sub),
    name: 'Bench User',
    email: 'bench@example.test',
  })
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'handoff+jwt' })
    .setIssuer(ISSUER)
    .setSubject(sub)
    .setAudience('server2')
    .setIssuedAt(iat)
    .setExpirationTime(iat + 60)
    .setJti(randomBytes(32).toString('base64url'))
    .sign(privateKey);
  // Traced, as server2's callback does, so the trace's cost is in the figures.
  const trace = startTrace(token, now);
  const result = await verify(token, trace);
  if (!result.ok) throw new Error(result.reason);
  const txn = hash(randomUUID());
  await stores.txns.put(txn, { claims: result.claims, trace }, now + 60_000);
  const handoff = await stores.txns.take(txn, now);
  if (!handoff) throw new Error('the txn was not found');
  const previous = sessions.get(user);
  if (previous) await stores.sessions.delete(previous);
  const { session } = await stores.sessions.create(handoff, now);
  sessions.set(user, session.idHash);
  await stores.activity.recordHandoff(handoff.claims.sub, now);
}

/**
 * Handoffs per second over `ms` with `inFlight` users at once.
 * @param {{ ms: number, inFlight: number }} args
 * @returns {Promise<BoundRound>}
 */
async function round({ ms, inFlight }) {
  let done = 0;
  const started = performance.now();
  const end = started + ms;
  await Promise.all(
    Array.from({ length: inFlight }, async (_, user) => {
      while (performance.now() < end) {
        await oneHandoff(user);
        done++;
      }
    }),
  );
  return { rate: (done * 1000) / (performance.now() - started), done };
}

serveParent({ setup, round }, async () => {
  await state?.stores.close?.();
  if (state) rmSync(state.dir, { recursive: true, force: true });
});
