import {
  BACKCHANNEL_LOGOUT_EVENT,
  createLocalKeySource,
  createMemoryReplayStore,
  createVerifier,
  type HandoffClaims,
  handoffVerifierOptions,
  type LogoutClaims,
  logoutVerifierOptions,
  mintHandoffToken,
  mintLogoutToken,
  mintServiceToken,
  type ServiceClaims,
  serviceVerifierOptions,
} from '@jwt-handoff/shared';
import { generateTestKey, jwksOf, T0, type TestKey, testClock } from '@jwt-handoff/testkit';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIENCE, ISSUER } from './helpers/tokens.js';

let key: TestKey;

beforeAll(async () => {
  key = await generateTestKey('EdDSA');
});

/** The options every verifier here shares: the test key, issuer, audience and a test clock. */
function common() {
  return {
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['EdDSA' as const],
    keySource: createLocalKeySource(jwksOf(key)),
    now: testClock().now,
  };
}

const NOW_MS = T0 * 1000 + 400;

describe('each token kind is minted and verified by its own module', () => {
  it('mints a handoff+jwt that the handoff verifier accepts once', async () => {
    const options = common();
    const verify = createVerifier<HandoffClaims>({
      ...options,
      ...handoffVerifierOptions({ replayStore: createMemoryReplayStore(options.now) }),
    });
    const token = await mintHandoffToken(key, {
      issuer: ISSUER,
      clientId: AUDIENCE,
      sub: 'user-1',
      nonce: 'state-1',
      authTimeMs: (T0 - 30) * 1000 + 999,
      sid: 'session-hash',
      name: 'Alice',
      email: 'alice@example.com',
      ttlSec: 60,
      now: NOW_MS,
    });

    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', kid: key.kid, typ: 'handoff+jwt' });
    const result = await verify(token);
    expect(result.ok && result.claims).toMatchObject({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: 'user-1',
      nonce: 'state-1',
      auth_time: T0 - 30,
      sid: 'session-hash',
      iat: T0,
      exp: T0 + 60,
    });
    expect(await verify(token)).toMatchObject({ ok: false, reason: 'token_replayed' });
  });

  it('leaves out the optional handoff claims it is not given', async () => {
    const token = await mintHandoffToken(key, {
      issuer: ISSUER,
      clientId: AUDIENCE,
      sub: 'user-1',
      nonce: 'state-1',
      ttlSec: 60,
      now: NOW_MS,
    });

    expect(Object.keys(decodeJwt(token)).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'nonce', 'sub']);
  });

  it('passes the handoff revocation hook the verified claims', async () => {
    const options = common();
    const seen: HandoffClaims[] = [];
    const verify = createVerifier<HandoffClaims>({
      ...options,
      ...handoffVerifierOptions({
        replayStore: createMemoryReplayStore(options.now),
        isRevoked: (claims) => {
          seen.push(claims);
          return claims.sub === 'revoked';
        },
      }),
    });
    const mint = (sub: string) =>
      mintHandoffToken(key, { issuer: ISSUER, clientId: AUDIENCE, sub, nonce: 'n', ttlSec: 60, now: NOW_MS });

    expect(await verify(await mint('revoked'))).toMatchObject({ ok: false, reason: 'token_revoked' });
    expect((await verify(await mint('user-1'))).ok).toBe(true);
    expect(seen.map((claims) => claims.sub)).toEqual(['revoked', 'user-1']);
  });

  it('lets a relying service lower the handoff lifetime cap', async () => {
    const options = common();
    const verify = createVerifier<HandoffClaims>({
      ...options,
      ...handoffVerifierOptions({ replayStore: createMemoryReplayStore(options.now), maxLifetimeSec: 30 }),
    });
    const token = await mintHandoffToken(key, {
      issuer: ISSUER,
      clientId: AUDIENCE,
      sub: 'user-1',
      nonce: 'n',
      ttlSec: 60,
      now: NOW_MS,
    });

    expect(await verify(token)).toMatchObject({ ok: false, reason: 'lifetime_too_long' });
  });

  it('mints a service+jwt that the service verifier accepts again and again', async () => {
    const options = common();
    const verify = createVerifier<ServiceClaims>({
      ...options,
      ...serviceVerifierOptions(),
    });
    const token = await mintServiceToken(key, {
      issuer: ISSUER,
      serviceId: 'server1',
      audience: AUDIENCE,
      scope: 'activity:read',
      ttlSec: 60,
      now: NOW_MS,
    });

    expect(decodeProtectedHeader(token).typ).toBe('service+jwt');
    for (let i = 0; i < 2; i++) {
      const result = await verify(token);
      expect(result.ok && result.claims).toMatchObject({
        sub: 'server1',
        scope: 'activity:read',
        exp: T0 + 60,
      });
    }
  });

  it('mints a logout+jwt that the logout verifier accepts once, and no other verifier', async () => {
    const options = common();
    const verify = createVerifier<LogoutClaims>({
      ...options,
      ...logoutVerifierOptions({ replayStore: createMemoryReplayStore(options.now) }),
    });
    const verifyHandoff = createVerifier<HandoffClaims>({
      ...options,
      ...handoffVerifierOptions({ replayStore: createMemoryReplayStore(options.now) }),
    });
    const token = await mintLogoutToken(key, {
      issuer: ISSUER,
      clientId: AUDIENCE,
      sub: 'user-1',
      tokensValidAfter: T0,
      ttlSec: 120,
      now: NOW_MS,
    });

    expect(await verifyHandoff(token)).toMatchObject({ ok: false, reason: 'invalid_type' });
    const result = await verify(token);
    expect(result.ok && result.claims).toMatchObject({
      sub: 'user-1',
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
      tokens_valid_after: T0,
      exp: T0 + 120,
    });
    expect(result.ok && result.claims.sid).toBeUndefined();
    expect(await verify(token)).toMatchObject({ ok: false, reason: 'token_replayed' });
  });

  it.each([
    [
      'handoff',
      300,
      (ttlSec: number) =>
        mintHandoffToken(key, {
          issuer: ISSUER,
          clientId: AUDIENCE,
          sub: 'u',
          nonce: 'n',
          ttlSec,
          now: NOW_MS,
        }),
    ],
    [
      'service',
      60,
      (ttlSec: number) =>
        mintServiceToken(key, {
          issuer: ISSUER,
          serviceId: 's',
          audience: AUDIENCE,
          scope: 'x',
          ttlSec,
          now: NOW_MS,
        }),
    ],
    [
      'logout',
      120,
      (ttlSec: number) =>
        mintLogoutToken(key, { issuer: ISSUER, clientId: AUDIENCE, sub: 'u', ttlSec, now: NOW_MS }),
    ],
  ])('never mints a %s token living longer than its profile allows (%i s)', async (_kind, cap, mint) => {
    const { iat, exp } = decodeJwt(await mint(cap + 1));

    expect((exp as number) - (iat as number)).toBe(cap);
  });
});
