import {
  createJwksClient,
  createMemoryReplayStore,
  createVerifier,
  HANDOFF_PROFILE,
  type JwksClient,
  startTrace,
  type TraceEntry,
  type VerificationTrace,
} from '@jwt-handoff/shared';
import { generateTestKey, jwksOf, mintToken, type TestKey, testClock } from '@jwt-handoff/testkit';
import type { JSONWebKeySet } from 'jose';
import { MockAgent } from 'undici';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AUDIENCE, handoffClaims, ISSUER } from './helpers/tokens.js';

const JWKS_URL = 'https://issuer.test/.well-known/jwks.json';

let oldKey: TestKey;
let newKey: TestKey;
beforeAll(async () => {
  [oldKey, newKey] = await Promise.all([generateTestKey('EdDSA'), generateTestKey('EdDSA')]);
});

let agent: MockAgent;
let published: JSONWebKeySet;
let fetches: number;
let client: JwksClient;
const clock = testClock();

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  published = jwksOf(oldKey);
  fetches = 0;
  agent
    .get('https://issuer.test')
    .intercept({ path: '/.well-known/jwks.json', method: 'GET' })
    .reply(() => {
      fetches += 1;
      return { statusCode: 200, data: JSON.stringify(published) };
    })
    .persist();
  client = createJwksClient({ url: JWKS_URL, dispatcher: agent, now: clock.now, autoStart: false });
});

afterEach(async () => {
  await client.close();
  await agent.close();
});

function handoffVerifier() {
  return createVerifier({
    profile: HANDOFF_PROFILE,
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['EdDSA'],
    keySource: client,
    replayStore: createMemoryReplayStore(clock.now),
    now: clock.now,
  });
}

/** Verifies a fresh handoff token signed by `key`, traced; fails the test if it is refused. */
async function traced(verify: ReturnType<typeof handoffVerifier>, key: TestKey): Promise<VerificationTrace> {
  const token = await mintToken(key, handoffClaims({}, clock.nowSec()));
  const trace = startTrace(token, clock.now());
  const result = await verify(token, trace);
  expect(result).toMatchObject({ ok: true });
  return trace;
}

const entry = (trace: VerificationTrace, check: TraceEntry['check']) =>
  trace.entries.find((candidate) => candidate.check === check) as TraceEntry;
const valuesOf = (line: TraceEntry) =>
  Object.fromEntries(line.values.map((value) => [value.label, 'atMs' in value ? value.atMs : value.text]));

describe('the verification trace', () => {
  it('records the checks in the order they were made, with the values each compared', async () => {
    const trace = await traced(handoffVerifier(), oldKey);
    const nowMs = clock.now();
    const iat = clock.nowSec();

    expect(trace.entries.map((line) => line.check)).toEqual([
      'header',
      'signature',
      'typ',
      'iss',
      'aud',
      'exp',
      'nbf',
      'iat',
      'lifetime',
      'jti',
    ]);
    expect(valuesOf(entry(trace, 'header'))).toEqual({
      alg: 'EdDSA',
      kid: oldKey.kid,
      typ: 'handoff+jwt',
      allowed: 'EdDSA',
    });
    expect(valuesOf(entry(trace, 'iss'))).toEqual({ token: ISSUER, configured: ISSUER });
    expect(valuesOf(entry(trace, 'aud'))).toEqual({ token: AUDIENCE, 'client id': AUDIENCE });
    expect(valuesOf(entry(trace, 'typ'))).toEqual({ token: 'handoff+jwt', expected: 'handoff+jwt' });
    expect(valuesOf(entry(trace, 'exp'))).toEqual({ exp: (iat + 60) * 1000, clock: nowMs, leeway: '5 s' });
    expect(valuesOf(entry(trace, 'iat'))).toEqual({ iat: iat * 1000, clock: nowMs, leeway: '5 s' });
    expect(valuesOf(entry(trace, 'lifetime'))).toEqual({ 'exp − iat': '60 s', cap: '300 s' });
    expect(valuesOf(entry(trace, 'jti'))).toMatchObject({
      use: 'first',
      'recorded until': (iat + 65) * 1000,
    });
    expect(trace.verifiedAtMs).toBe(nowMs);
  });

  it('says the first lookup fetched the key set, and a second handoff in the cache window was a cache hit', async () => {
    const verify = handoffVerifier();
    const fetchedAt = clock.now();
    const first = await traced(verify, oldKey);
    clock.advance(30_000);
    const second = await traced(verify, oldKey);

    expect(fetches).toBe(1);
    expect(valuesOf(entry(first, 'signature'))).toEqual({
      kid: oldKey.kid,
      'key alg': 'EdDSA',
      'key set from': JWKS_URL,
      'key set fetched': fetchedAt,
      'key lookup': 'fetch (waited for the key set)',
    });
    expect(valuesOf(entry(second, 'signature'))).toMatchObject({
      kid: oldKey.kid,
      'key set fetched': fetchedAt,
      'key lookup': 'cache hit (held key set, no request)',
    });
    expect(entry(second, 'signature').rule).toBe(
      `the signature verifies with key ${oldKey.kid} from ${JWKS_URL}`,
    );
  });

  it('names the new kid for a token from a rotated key, fetched when the kid was unknown', async () => {
    const verify = handoffVerifier();
    await traced(verify, oldKey);
    published = jwksOf(oldKey, newKey);
    clock.advance(60_000);
    const rotatedAt = clock.now();
    const trace = await traced(verify, newKey);

    expect(fetches).toBe(2);
    expect(valuesOf(entry(trace, 'header')).kid).toBe(newKey.kid);
    expect(valuesOf(entry(trace, 'signature'))).toMatchObject({
      kid: newKey.kid,
      'key set fetched': rotatedAt,
      'key lookup': 'fetch (waited for the key set)',
    });
  });

  it('records nothing without a trace, and nothing past the failed check for a refused token', async () => {
    const verify = handoffVerifier();
    const token = await mintToken(oldKey, handoffClaims({}, clock.nowSec()));
    expect(await verify(token)).toMatchObject({ ok: true });

    const replay = startTrace(token, clock.now());
    expect(await verify(token, replay)).toMatchObject({ ok: false, reason: 'token_replayed' });
    expect(replay.entries.map((line) => line.check)).not.toContain('jti');

    const foreign = await mintToken(oldKey, handoffClaims({ aud: 'someone-else' }, clock.nowSec()));
    const refused = startTrace(foreign, clock.now());
    expect(await verify(foreign, refused)).toMatchObject({ ok: false, reason: 'invalid_audience' });
    expect(refused.entries).toEqual([]);
  });

  it('shortens the signature of the token it keeps, so what is shown cannot be presented', async () => {
    const token = await mintToken(oldKey, handoffClaims({}, clock.nowSec()));
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const { shortenedToken } = startTrace(token, 0);
    expect(shortenedToken).toBe(
      `${header}.${payload}.${signature.slice(0, 8)}…(${signature.length - 8} more)`,
    );
    expect(shortenedToken).not.toContain(signature);
  });
});
