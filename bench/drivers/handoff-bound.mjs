// Scenario 3's in-process bound: what one handoff costs with no HTTP at all. Per handoff:
// sign a handoff token as server1 does (jose SignJWT, Ed25519), verify it with jwt-handoff's
// verifier (handoff profile, its jti recorded in server2's used_jtis table), then server2's
// other store writes: park the claims under a txn, take them back, replace the browser's
// session and record the handoff event. `inFlight` handoffs run at once, as many as users.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createLocalKeySource, createVerifier, HANDOFF_PROFILE, openDatabase } from '@jwt-handoff/shared';
import { tempDir } from '@jwt-handoff/testkit';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { SERVER2_SCHEMA, server2Writes } from '../lib/server2-schema.mjs';
import { serveParent } from '../lib/worker-process.mjs';

const ISSUER = 'http://server1.bench';
const SESSION_MS = 12 * 3_600_000;
const hash = (value) => createHash('sha256').update(value).digest('base64url');
let state;

async function setup() {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA');
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  const dir = tempDir('bench-bound');
  const db = openDatabase(dir, 'server2.sqlite', [SERVER2_SCHEMA]);
  const writes = server2Writes(db);
  const replayStore = {
    async markUsed(iss, jti, expiresAt) {
      return (
        writes.markUsed.run({ iss, jti, expiresAt, nowSec: Math.floor(Date.now() / 1000) }).changes === 1
      );
    },
  };
  const verify = createVerifier({
    profile: HANDOFF_PROFILE,
    issuer: ISSUER,
    audience: 'server2',
    algorithms: ['EdDSA'],
    keySource: createLocalKeySource({ keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] }),
    replayStore,
  });
  state = { privateKey, kid, db, dir, writes, verify, sessions: new Map() };
  return 'ready';
}

async function oneHandoff(user) {
  const { privateKey, kid, writes, verify, sessions } = state;
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
  const result = await verify(token);
  if (!result.ok) throw new Error(result.reason);
  const txn = hash(randomUUID());
  writes.putTxn.run(txn, JSON.stringify(result.claims), now + 60_000);
  const row = writes.takeTxn.get(txn);
  const claims = JSON.parse(row.claims);
  const previous = sessions.get(user);
  if (previous) writes.removeSession.run(previous);
  const session = hash(randomBytes(32).toString('base64url'));
  writes.insertSession.run(session, claims.sub, claims.sid, row.claims, now, now, now + SESSION_MS);
  sessions.set(user, session);
  writes.recordEvent(claims.sub, now);
}

/** Handoffs per second over `ms` with `inFlight` users at once. */
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
  state?.db.close();
  if (state) rmSync(state.dir, { recursive: true, force: true });
});
