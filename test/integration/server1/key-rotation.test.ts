import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { loadConfig } from '@jwt-handoff/server1';
import { ConfigError } from '@jwt-handoff/shared';
import { CookieJar, testClock, waitFor } from '@jwt-handoff/testkit';
import { suiteScope } from '@jwt-handoff/testkit/vitest';
import type { FastifyInstance } from 'fastify';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeProtectedHeader,
  type JSONWebKeySet,
  type JWK,
  jwtVerify,
} from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  handoffToken,
  PUBLIC_URL,
  publishedKeys,
  publishedKids,
  runKeysCli,
  type Server1Harness,
  signIn,
  startServer1,
  storedKids,
} from './helpers.js';

// A short timeline, so the arithmetic stays readable. The longest token lifetime is the logout
// token's, so it, not the handoff token's, sets the retention.
const JWKS_MAX_AGE_SEC = 60;
const MARGIN_MS = 10_000;
const TIMING_ENV = {
  JWKS_MAX_AGE_SEC: String(JWKS_MAX_AGE_SEC),
  KEY_TIMING_MARGIN_MS: String(MARGIN_MS),
  HANDOFF_TOKEN_TTL: '45',
  SERVICE_TOKEN_TTL: '30',
  LOGOUT_TOKEN_TTL: '90',
};
/** From a rotation to the new key's first signature: JWKS max-age + the 1 s reload interval + margin. */
const PUBLISH_LEAD_MS = JWKS_MAX_AGE_SEC * 1000 + 1000 + MARGIN_MS;
/** The clock leeway verifiers allow (server2's default). */
const LEEWAY_SEC = 5;
/** From the old key's last signature to its removal: longest token lifetime + leeway + margin. */
const RETENTION_MS = (90 + LEEWAY_SEC) * 1000 + MARGIN_MS;

// A running server1 does its key housekeeping once a second, on a real timer; this bounds the wait
// for it generously, for a loaded machine.
const RELOAD_WAIT_MS = 10_000;

async function fetchJwks(app: FastifyInstance, ifNoneMatch?: string) {
  const response = await app.inject({
    url: '/.well-known/jwks.json',
    headers: ifNoneMatch ? { 'if-none-match': ifNoneMatch } : {},
  });
  return { response, etag: response.headers.etag as string };
}

/** The kid a token names in its header. */
const kidOf = (token: string) => decodeProtectedHeader(token).kid;

/** Verifies a handoff token as server2 would, against `jwks`, at the server's clock time, with its leeway. */
async function verifyAgainst(token: string, jwks: JSONWebKeySet, server: Server1Harness) {
  return jwtVerify(token, createLocalJWKSet(jwks), {
    issuer: PUBLIC_URL,
    audience: 'server2',
    algorithms: ['EdDSA', 'ES256'],
    clockTolerance: LEEWAY_SEC,
    currentDate: new Date(server.clock.now()),
  });
}

/** Rotates with the CLI at the server's clock time; resolves once the running server publishes the new key. */
async function rotateWhileRunning(server: Server1Harness, env: Record<string, string>) {
  const before = await publishedKids(server.app);
  const rotatedAt = server.clock.now();
  const run = await runKeysCli(server.dataDir, ['rotate'], { env, clock: server.clock });
  expect(run.code, run.stderr).toBe(0);
  await waitFor(
    'the running server1 to publish the new key',
    async () => (await publishedKids(server.app)).length > before.length,
    RELOAD_WAIT_MS,
  );
  const newKid = (await publishedKids(server.app)).find((kid) => !before.includes(kid)) as string;
  return { rotatedAt, newKid };
}

describe('a rotation by command, against a running server1', () => {
  // The tests below walk one rotation forward in time, in order.
  const suite = suiteScope();
  let server: Server1Harness;
  const alice = new CookieJar();
  let oldKid: string;
  let newKid: string;
  let rotatedAt: number;
  let signFrom: number;
  let etagBefore: string;
  let etagAfterRotation: string;
  /** The JWKS as a verifier fetched it right after the rotation. */
  let jwksAfterRotation: JSONWebKeySet;
  /** The last token the old key signed. */
  let lastOldToken: string;

  beforeAll(async () => {
    server = await startServer1({ env: TIMING_ENV, scope: suite });
    await signIn(server.app, alice);
    [oldKid] = (await publishedKids(server.app)) as [string];
    etagBefore = (await fetchJwks(server.app)).etag;
    ({ rotatedAt, newKid } = await rotateWhileRunning(server, TIMING_ENV));
    signFrom = rotatedAt + PUBLISH_LEAD_MS;
    jwksAfterRotation = await publishedKeys(server.app);
  });

  it('publishes the new key next to the old one at once, under a new ETag', async () => {
    const { response, etag } = await fetchJwks(server.app);

    expect(response.statusCode).toBe(200);
    expect(jwksAfterRotation.keys.map((key) => key.kid)).toEqual([oldKid, newKid]);
    expect(response.headers['cache-control']).toBe(`public, max-age=${JWKS_MAX_AGE_SEC}`);
    expect(etag).not.toBe(etagBefore);
    expect((await fetchJwks(server.app, etagBefore)).response.statusCode).toBe(200);
    expect((await fetchJwks(server.app, etag)).response.statusCode).toBe(304);
    etagAfterRotation = etag;
  });

  it('refuses a second rotation while the new key is waiting to sign', async () => {
    server.clock.advance(1_000);

    const run = await runKeysCli(server.dataDir, ['rotate'], { env: TIMING_ENV, clock: server.clock });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`key ${newKid} is already waiting to sign`);
    expect(storedKids(server.dataDir)).toEqual([oldKid, newKid]);
    expect(await publishedKids(server.app)).toEqual([oldKid, newKid]);
  });

  it('keeps signing with the old key until the publish lead has passed', async () => {
    // Right after the rotation, once a verifier's JWKS from before it may have expired, and 1 ms
    // before the new key's time.
    for (const at of [rotatedAt + 1_000, rotatedAt + JWKS_MAX_AGE_SEC * 1000, signFrom - 1]) {
      server.clock.advanceTo(at);
      const token = await handoffToken(server.app, alice);

      expect({ at, kid: kidOf(token) }).toEqual({ at, kid: oldKid });
      await verifyAgainst(token, await publishedKeys(server.app), server);
      lastOldToken = token;
    }
  });

  it('signs with the new key from rotation + publish lead, which a JWKS fetched at the rotation already holds', async () => {
    server.clock.advanceTo(signFrom);
    const token = await handoffToken(server.app, alice);

    expect(kidOf(token)).toBe(newKid);
    await verifyAgainst(token, jwksAfterRotation, server);
  });

  it('keeps the same ETag when only the signing key changes, so revalidation stays a 304', async () => {
    const { response, etag } = await fetchJwks(server.app, etagAfterRotation);

    expect(response.statusCode).toBe(304);
    expect(etag).toBe(etagAfterRotation);
    expect(await publishedKids(server.app)).toEqual([oldKid, newKid]);
  });

  it('keeps the old key published until retire + retention, past the expiry of the last token it signed', async () => {
    const { payload } = await verifyAgainst(lastOldToken, await publishedKeys(server.app), server);
    // The last moment a verifier accepts it.
    server.clock.advanceTo(((payload.exp as number) + LEEWAY_SEC) * 1000 - 1);

    await verifyAgainst(lastOldToken, await publishedKeys(server.app), server);

    server.clock.advanceTo(signFrom + RETENTION_MS - 1);
    expect(await publishedKids(server.app)).toEqual([oldKid, newKid]);
    expect(kidOf(await handoffToken(server.app, alice))).toBe(newKid);
  });

  it('drops the old key at retire + retention: gone from the JWKS, under a new ETag, and deleted', async () => {
    server.clock.advanceTo(signFrom + RETENTION_MS);
    const { response, etag } = await fetchJwks(server.app);

    expect(response.json<JSONWebKeySet>().keys.map((key) => key.kid)).toEqual([newKid]);
    expect(etag).not.toBe(etagAfterRotation);
    expect(etag).not.toBe(etagBefore);
    expect((await fetchJwks(server.app, etagAfterRotation)).response.statusCode).toBe(200);
    expect((await fetchJwks(server.app, etag)).response.statusCode).toBe(304);
    expect(response.headers['cache-control']).toBe(`public, max-age=${JWKS_MAX_AGE_SEC}`);
    await waitFor(
      'the dropped key to be deleted from the database',
      () => !storedKids(server.dataDir).includes(oldKid),
      RELOAD_WAIT_MS,
    );
    expect(storedKids(server.dataDir)).toEqual([newKid]);
    expect(kidOf(await handoffToken(server.app, alice))).toBe(newKid);
  });
});

describe('a restart during a rotation', () => {
  const suite = suiteScope();
  let server: Server1Harness;
  const alice = new CookieJar();

  beforeAll(async () => {
    server = await startServer1({ env: TIMING_ENV, scope: suite });
    await signIn(server.app, alice);
  });

  /** Stops server1 and starts it again on the same data directory and clock; alice's session survives. */
  const restart = () => server.restart();

  it('keeps the timeline: the same kids, published and signing at the same times', async () => {
    const [oldKid] = await publishedKids(server.app);
    const { rotatedAt, newKid } = await rotateWhileRunning(server, TIMING_ENV);
    const signFrom = rotatedAt + PUBLISH_LEAD_MS;
    server.clock.advanceTo(rotatedAt + 5_000);

    await restart();
    expect(await publishedKids(server.app)).toEqual([oldKid, newKid]);
    expect(kidOf(await handoffToken(server.app, alice))).toBe(oldKid);

    server.clock.advanceTo(signFrom);
    await restart();
    expect(await publishedKids(server.app)).toEqual([oldKid, newKid]);
    expect(kidOf(await handoffToken(server.app, alice))).toBe(newKid);

    server.clock.advanceTo(signFrom + RETENTION_MS);
    await restart();
    expect(await publishedKids(server.app)).toEqual([newKid]);
    expect(kidOf(await handoffToken(server.app, alice))).toBe(newKid);
  });

  it('picks up a rotation made while it was stopped', async () => {
    const [currentKid] = await publishedKids(server.app);
    await server.stop();
    const stored = storedKids(server.dataDir);
    const rotatedAt = server.clock.now();
    const run = await runKeysCli(server.dataDir, ['rotate'], { env: TIMING_ENV, clock: server.clock });
    expect(run.code, run.stderr).toBe(0);
    const newKid = storedKids(server.dataDir).find((kid) => !stored.includes(kid));
    server.clock.advance(30_000);

    await server.restart();

    expect(await publishedKids(server.app)).toEqual([currentKid, newKid]);
    expect(kidOf(await handoffToken(server.app, alice))).toBe(currentKid);
    server.clock.advanceTo(rotatedAt + PUBLISH_LEAD_MS);
    expect(kidOf(await handoffToken(server.app, alice))).toBe(newKid);
  });
});

describe('scheduled rotation (KEY_ROTATION_INTERVAL)', () => {
  // Publish lead: 10 s max-age + 1 s + 1 s margin = 12 s.
  const SCHEDULE_ENV = { JWKS_MAX_AGE_SEC: '10', KEY_TIMING_MARGIN_MS: '1000', KEY_ROTATION_INTERVAL: '30s' };
  const suite = suiteScope();
  let server: Server1Harness;

  beforeAll(async () => {
    server = await startServer1({ env: SCHEDULE_ENV, scope: suite });
  });

  it('publishes a next key by itself once the current key has signed for the interval', async () => {
    const alice = new CookieJar();
    await signIn(server.app, alice);
    const startedAt = server.clock.now();
    const [firstKid] = await publishedKids(server.app);

    server.clock.advanceTo(startedAt + 30_000);
    await waitFor(
      'the scheduled rotation to publish a next key',
      async () => (await publishedKids(server.app)).length === 2,
      RELOAD_WAIT_MS,
    );
    const [, nextKid] = await publishedKids(server.app);

    expect(storedKids(server.dataDir)).toEqual([firstKid, nextKid]);
    server.clock.advanceTo(startedAt + 30_000 + 12_000 - 1);
    expect(kidOf(await handoffToken(server.app, alice))).toBe(firstKid);
    server.clock.advanceTo(startedAt + 30_000 + 12_000);
    expect(kidOf(await handoffToken(server.app, alice))).toBe(nextKid);
  });

  it('must be longer than the publish lead, or server1 does not start', () => {
    const lead = { JWKS_MAX_AGE_SEC: '10', KEY_TIMING_MARGIN_MS: '1000' };

    expect(() => loadConfig({ ...lead, KEY_ROTATION_INTERVAL: '12s' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...lead, KEY_ROTATION_INTERVAL: '12s' })).toThrow(
      /KEY_ROTATION_INTERVAL must be longer than the publish lead \(12 s\)/,
    );
    expect(loadConfig({ ...lead, KEY_ROTATION_INTERVAL: '13s' }).keyRotationIntervalMs).toBe(13_000);
    // With the defaults (max-age 300 s, margin 60 s) the lead is 361 s.
    expect(() => loadConfig({ KEY_ROTATION_INTERVAL: '6m' })).toThrow(/KEY_ROTATION_INTERVAL.*\(361 s\)/);
  });

  it('cannot be combined with keys from the environment', () => {
    const env = {
      SIGNING_KEY: pkcs8Pem(generateKeyPairSync('ed25519').privateKey),
      KEY_ROTATION_INTERVAL: '30d',
    };

    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/KEY_ROTATION_INTERVAL cannot be used with SIGNING_KEY/);
  });
});

// The ES256 and environment-key tests each start their own server1 on a fresh data dir, closed
// and removed when the test finishes.

/**
 * A server1 with `env` on a fresh data dir, and alice signed in to it. Its clock starts at the
 * real time: some of these tests verify its tokens with jose's defaults, against the real clock.
 */
async function startSignedIn(env: Record<string, string>) {
  const server = await startServer1({ env, clock: testClock(Date.now()) });
  const alice = new CookieJar();
  await signIn(server.app, alice);
  return { server, alice, dataDir: server.dataDir };
}

/** The error server1 fails to start with, given `env`. */
async function startError(env: Record<string, string>): Promise<Error> {
  try {
    await startServer1({ env });
  } catch (err) {
    return err as Error;
  }
  throw new Error('server1 started');
}

describe('ES256', () => {
  it('SIGNING_ALG=ES256 generates a P-256 key, published for ES256 only, and signs ES256 with it', async () => {
    const { server, alice } = await startSignedIn({ SIGNING_ALG: 'ES256' });
    const jwks = await publishedKeys(server.app);
    const [key] = jwks.keys as [JWK];

    expect(jwks.keys).toHaveLength(1);
    expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(key.kid).toBe(await calculateJwkThumbprint(key, 'sha256'));
    const token = await handoffToken(server.app, alice);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', kid: key.kid });
    await verifyAgainst(token, jwks, server);
  });

  it('switching SIGNING_ALG takes effect through a rotation; each key keeps signing with its own alg', async () => {
    const { server, alice } = await startSignedIn(TIMING_ENV);
    const [eddsaKid] = await publishedKids(server.app);

    const { rotatedAt, newKid } = await rotateWhileRunning(server, {
      ...TIMING_ENV,
      SIGNING_ALG: 'ES256',
    });
    const published = (await publishedKeys(server.app)).keys;

    expect(published).toEqual([
      expect.objectContaining({ kid: eddsaKid, kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' }),
      expect.objectContaining({ kid: newKid, kty: 'EC', crv: 'P-256', alg: 'ES256' }),
    ]);
    server.clock.advanceTo(rotatedAt + PUBLISH_LEAD_MS - 1);
    expect(decodeProtectedHeader(await handoffToken(server.app, alice))).toMatchObject({
      alg: 'EdDSA',
      kid: eddsaKid,
    });
    server.clock.advanceTo(rotatedAt + PUBLISH_LEAD_MS);
    expect(decodeProtectedHeader(await handoffToken(server.app, alice))).toMatchObject({
      alg: 'ES256',
      kid: newKid,
    });
  });
});

function pkcs8Pem(privateKey: KeyObject): string {
  return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

function privateJwk(privateKey: KeyObject): string {
  return JSON.stringify(privateKey.export({ format: 'jwk' }));
}

/** The kid server1 must give a key: the RFC 7638 thumbprint of its public half. */
function thumbprintOf(privateKey: KeyObject | { publicKey: KeyObject }): Promise<string> {
  const publicKey = 'publicKey' in privateKey ? privateKey.publicKey : privateKey;
  return calculateJwkThumbprint(publicKey.export({ format: 'jwk' }) as JWK, 'sha256');
}

describe('keys from the environment (SIGNING_KEY, SIGNING_KEY_NEXT, SIGNING_KEY_PREVIOUS)', () => {
  const current = generateKeyPairSync('ed25519');
  const next = generateKeyPairSync('ed25519');
  const previous = generateKeyPairSync('ed25519');

  it.each([
    ['a PKCS#8 PEM', pkcs8Pem(current.privateKey)],
    ['a private JWK', privateJwk(current.privateKey)],
  ])('publishes exactly SIGNING_KEY given as %s, and signs with it', async (_form, value) => {
    const { server, alice, dataDir } = await startSignedIn({ SIGNING_KEY: value });
    const kid = await thumbprintOf(current);
    const jwks = await publishedKeys(server.app);

    expect(jwks.keys).toEqual([
      {
        kty: 'OKP',
        crv: 'Ed25519',
        x: current.publicKey.export({ format: 'jwk' }).x,
        kid,
        alg: 'EdDSA',
        use: 'sig',
      },
    ]);
    const token = await handoffToken(server.app, alice);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'EdDSA', kid });
    await jwtVerify(token, current.publicKey, { issuer: PUBLIC_URL, audience: 'server2' });
    expect(storedKids(dataDir)).toEqual([]);
  });

  it('takes a P-256 key as a PEM with SIGNING_ALG=ES256, or as a JWK carrying alg ES256', async () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = await thumbprintOf(p256);
    const asJwk = JSON.stringify({ ...p256.privateKey.export({ format: 'jwk' }), alg: 'ES256' });

    const forms: Array<Record<string, string>> = [
      { SIGNING_KEY: pkcs8Pem(p256.privateKey), SIGNING_ALG: 'ES256' },
      { SIGNING_KEY: asJwk },
    ];
    for (const env of forms) {
      const { server, alice } = await startSignedIn(env);

      expect((await publishedKeys(server.app)).keys).toEqual([
        expect.objectContaining({ kid, kty: 'EC', crv: 'P-256', alg: 'ES256' }),
      ]);
      const token = await handoffToken(server.app, alice);
      expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', kid });
      await jwtVerify(token, p256.publicKey, { issuer: PUBLIC_URL, audience: 'server2' });
    }
  });

  it('publishes SIGNING_KEY_NEXT and SIGNING_KEY_PREVIOUS but never signs with them', async () => {
    const { server } = await startSignedIn({
      SIGNING_KEY: pkcs8Pem(current.privateKey),
      SIGNING_KEY_NEXT: privateJwk(next.privateKey),
      SIGNING_KEY_PREVIOUS: pkcs8Pem(previous.privateKey),
    });
    const [currentKid, nextKid, previousKid] = await Promise.all([current, next, previous].map(thumbprintOf));
    const jwks = await publishedKeys(server.app);

    expect(new Set(jwks.keys.map((key) => key.kid))).toEqual(new Set([previousKid, currentKid, nextKid]));
    for (const key of jwks.keys) expect(key).not.toHaveProperty('d');
    for (const later of [0, PUBLISH_LEAD_MS, 365 * 24 * 3_600_000]) {
      server.clock.advance(later);
      const browser = new CookieJar();
      await signIn(server.app, browser);
      expect(kidOf(await handoffToken(server.app, browser))).toBe(currentKid);
      expect(await publishedKids(server.app)).toHaveLength(3);
    }
  });

  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ed25519Jwk = current.privateKey.export({ format: 'jwk' });
  const secret = ed25519Jwk.d as string;
  // RFC 8037, appendix A.1: an Ed25519 private key, given below with the quotes around d lost.
  const rfc8037D = 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A';
  it.each([
    ['SIGNING_KEY', 'random text', { SIGNING_KEY: 'not a key at all' }],
    [
      'SIGNING_KEY',
      'a PEM with a broken body',
      { SIGNING_KEY: '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----' },
    ],
    [
      'SIGNING_KEY',
      'a public-only JWK',
      { SIGNING_KEY: JSON.stringify(current.publicKey.export({ format: 'jwk' })) },
    ],
    [
      'SIGNING_KEY',
      'a public key PEM',
      { SIGNING_KEY: current.publicKey.export({ type: 'spki', format: 'pem' }) as string },
    ],
    ['SIGNING_KEY', 'an RSA PEM', { SIGNING_KEY: pkcs8Pem(rsa.privateKey) }],
    [
      'SIGNING_KEY',
      'an RSA JWK with alg RS256',
      { SIGNING_KEY: JSON.stringify({ ...rsa.privateKey.export({ format: 'jwk' }), alg: 'RS256' }) },
    ],
    [
      'SIGNING_KEY',
      'an Ed25519 PEM with SIGNING_ALG=ES256',
      { SIGNING_KEY: pkcs8Pem(current.privateKey), SIGNING_ALG: 'ES256' },
    ],
    [
      'SIGNING_KEY',
      'a JWK that is not valid JSON',
      {
        SIGNING_KEY: `{"kty":"OKP","crv":"Ed25519","d": ${rfc8037D},"x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`,
      },
    ],
    [
      'SIGNING_KEY_NEXT',
      'random text',
      { SIGNING_KEY: pkcs8Pem(current.privateKey), SIGNING_KEY_NEXT: 'next' },
    ],
    [
      'SIGNING_KEY_PREVIOUS',
      'a public-only JWK',
      {
        SIGNING_KEY: pkcs8Pem(current.privateKey),
        SIGNING_KEY_PREVIOUS: JSON.stringify(previous.publicKey.export({ format: 'jwk' })),
      },
    ],
    ['SIGNING_KEY', 'missing, with SIGNING_KEY_NEXT set', { SIGNING_KEY_NEXT: pkcs8Pem(next.privateKey) }],
  ])('refuses to start with %s as %s, naming it and repeating none of the key', async (name, _what, env) => {
    const err = await startError(env);

    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(new RegExp(`\\b${name}\\b`));
    for (const d of [secret, rfc8037D]) expect(err.message).not.toContain(d.slice(0, 6));
  });

  // The kid is the public key's thumbprint, so the same key is caught whatever form each value takes.
  it.each([
    [
      'SIGNING_KEY_NEXT',
      'SIGNING_KEY',
      { SIGNING_KEY: pkcs8Pem(current.privateKey), SIGNING_KEY_NEXT: privateJwk(current.privateKey) },
    ],
    [
      'SIGNING_KEY',
      'SIGNING_KEY_PREVIOUS',
      { SIGNING_KEY: pkcs8Pem(current.privateKey), SIGNING_KEY_PREVIOUS: pkcs8Pem(current.privateKey) },
    ],
    [
      'SIGNING_KEY_NEXT',
      'SIGNING_KEY_PREVIOUS',
      {
        SIGNING_KEY: pkcs8Pem(current.privateKey),
        SIGNING_KEY_NEXT: pkcs8Pem(next.privateKey),
        SIGNING_KEY_PREVIOUS: privateJwk(next.privateKey),
      },
    ],
  ])(
    'refuses to start when %s holds the same key as %s, naming it and repeating none of the key',
    async (name, _other, env) => {
      const err = await startError(env);

      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual([
        `${name} holds the same key as another SIGNING_KEY variable`,
      ]);
      for (const key of [current, next]) {
        const d = key.privateKey.export({ format: 'jwk' }).d as string;
        expect(err.message).not.toContain(d.slice(0, 6));
      }
    },
  );
});
