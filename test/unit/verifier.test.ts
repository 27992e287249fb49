import { createHmac, randomUUID } from 'node:crypto';
import {
  BACKCHANNEL_LOGOUT_EVENT,
  createLocalKeySource,
  createMemoryReplayStore,
  createVerifier,
  HANDOFF_PROFILE,
  LOGOUT_PROFILE,
  SERVICE_PROFILE,
  type SigningAlgorithm,
  TOKEN_REASONS,
  type TokenProfile,
  type TokenReason,
  type VerificationResult,
  type VerifierOptions,
} from '@jwt-handoff/shared';
import {
  type Claims,
  generateTestKey,
  jwksOf,
  mintToken,
  segment,
  segmentsOf,
  T0,
  type TestKey,
  testClock,
} from '@jwt-handoff/testkit';
import { CompactSign, exportSPKI } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startServer, type TestServer } from './helpers/http-server.js';
import { AUDIENCE, handoffClaims, ISSUER, logoutClaims, serviceClaims } from './helpers/tokens.js';

let realKey: TestKey;
let realEsKey: TestKey;
let attackerKey: TestKey;
let attackerEsKey: TestKey;

beforeAll(async () => {
  [realKey, realEsKey, attackerKey, attackerEsKey] = await Promise.all([
    generateTestKey('EdDSA'),
    generateTestKey('ES256'),
    generateTestKey('EdDSA'),
    generateTestKey('ES256'),
  ]);
});

/** A verifier for `profile` trusting the real keys, on a test clock shared with its replay store. */
function verifierFor(profile: TokenProfile, options: Partial<VerifierOptions> = {}) {
  const clock = testClock();
  const verify = createVerifier({
    profile,
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['EdDSA'],
    keySource: createLocalKeySource(jwksOf(realKey, realEsKey)),
    replayStore: createMemoryReplayStore(clock.now),
    now: clock.now,
    ...options,
  });
  return { verify, clock };
}

const handoffVerifier = (options: Partial<VerifierOptions> = {}) => verifierFor(HANDOFF_PROFILE, options);

const rejected = (reason: TokenReason) => ({ ok: false, reason });

/** Builds a compact JWS by hand: no library gets a say in what the header or signature hold. */
function handBuilt(header: Record<string, unknown>, claims: Claims, signature = ''): string {
  return `${segment(header)}.${segment(claims)}.${signature}`;
}

function hs256(header: Record<string, unknown>, claims: Claims, secret: string | Uint8Array): string {
  const input = `${segment(header)}.${segment(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function okCount(results: readonly VerificationResult[]): number {
  return results.filter((result) => result.ok).length;
}

describe('a genuine token', () => {
  it('accepts a valid handoff token and returns its claims and header', async () => {
    const { verify } = handoffVerifier();
    const claims = handoffClaims({ name: 'Alice', email: 'alice@example.test' });

    const result = await verify(await mintToken(realKey, claims));

    expect(result).toEqual({
      ok: true,
      claims,
      header: { alg: 'EdDSA', kid: realKey.kid, typ: 'handoff+jwt' },
    });
  });

  it('accepts the typ written with the application/ prefix RFC 7515 allows', async () => {
    const { verify } = handoffVerifier();
    const result = await verify(await mintToken(realKey, handoffClaims(), 'application/handoff+jwt'));
    expect(result.ok).toBe(true);
  });

  it('accepts an ES256 token when ES256 is configured', async () => {
    const { verify } = handoffVerifier({ algorithms: ['ES256'] });
    const result = await verify(await mintToken(realEsKey, handoffClaims()));
    expect(result.ok).toBe(true);
  });
});

describe('the algorithm comes from configuration, never from the token', () => {
  it.each(['none', 'None', 'NONE', 'nOnE'])('rejects alg "%s" with an empty signature', async (alg) => {
    const { verify } = handoffVerifier();
    const token = handBuilt({ alg, kid: realKey.kid, typ: 'handoff+jwt' }, handoffClaims());

    const result = await verify(token);

    expect(result.ok).toBe(false);
    expect(['unsupported_alg', 'token_malformed']).toContain(!result.ok && result.reason);
  });

  it('rejects alg none carrying the signature of a genuine token', async () => {
    const { verify } = handoffVerifier();
    const claims = handoffClaims();
    const [, , signature] = segmentsOf(await mintToken(realKey, claims));
    const token = handBuilt({ alg: 'none', kid: realKey.kid, typ: 'handoff+jwt' }, claims, signature);

    expect(await verify(token)).toMatchObject(rejected('unsupported_alg'));
  });

  it.each([
    ['the JWK x member', (key: TestKey) => Promise.resolve(key.publicJwk.x as string)],
    [
      'the raw public key bytes',
      (key: TestKey) => Promise.resolve(Buffer.from(key.publicJwk.x as string, 'base64url')),
    ],
    ['the SPKI PEM', (key: TestKey) => exportSPKI(key.publicKey)],
    ['the JWK JSON', (key: TestKey) => Promise.resolve(JSON.stringify(key.publicJwk))],
  ])('rejects HS256 keyed with %s of the public key (key confusion)', async (_name, secretOf) => {
    const { verify } = handoffVerifier();
    const token = hs256(
      { alg: 'HS256', kid: realKey.kid, typ: 'handoff+jwt' },
      handoffClaims(),
      await secretOf(realKey),
    );

    expect(await verify(token)).toMatchObject(rejected('unsupported_alg'));
  });

  it.each(['HS256', 'HS512', 'RS256', 'PS256', 'ES384', 'ES512', 'Ed25519', 'ES256K', 'eddsa', ''])(
    'rejects alg "%s" that the verifier was not configured with',
    async (alg) => {
      const { verify } = handoffVerifier();
      const token = handBuilt({ alg, kid: realKey.kid, typ: 'handoff+jwt' }, handoffClaims(), 'c2lnbmF0dXJl');

      const result = await verify(token);

      expect(result.ok).toBe(false);
      expect(['unsupported_alg', 'token_malformed']).toContain(!result.ok && result.reason);
    },
  );

  it('rejects a genuine EdDSA token at a verifier configured for ES256 only', async () => {
    const { verify } = handoffVerifier({ algorithms: ['ES256'] });
    expect(await verify(await mintToken(realKey, handoffClaims()))).toMatchObject(
      rejected('unsupported_alg'),
    );
  });

  it('does not let an ES256 token borrow the kid of the Ed25519 key', async () => {
    const { verify } = handoffVerifier({ algorithms: ['EdDSA', 'ES256'] });
    const token = await mintToken(attackerEsKey, handoffClaims(), 'handoff+jwt', { kid: realKey.kid });

    expect(await verify(token)).toMatchObject(rejected('unknown_kid'));
  });
});

describe('the key is chosen by kid from the configured set only', () => {
  let attackerJwks: TestServer;

  beforeAll(async () => {
    attackerJwks = await startServer(json(jwksOf(attackerKey)));
  });

  afterAll(() => attackerJwks.close());

  it("rejects an embedded jwk header carrying the attacker's key under the attacker's kid", async () => {
    const { verify } = handoffVerifier();
    const token = await mintToken(attackerKey, handoffClaims(), 'handoff+jwt', {
      jwk: attackerKey.publicJwk,
    });

    expect(await verify(token)).toMatchObject(rejected('unknown_kid'));
  });

  it("rejects an embedded jwk header carrying the attacker's key under the real kid", async () => {
    const { verify } = handoffVerifier();
    const token = await mintToken(attackerKey, handoffClaims(), 'handoff+jwt', {
      kid: realKey.kid,
      jwk: { ...attackerKey.publicJwk, kid: realKey.kid },
    });

    expect(await verify(token)).toMatchObject(rejected('invalid_signature'));
  });

  it('ignores a jku header and never fetches it', async () => {
    const { verify } = handoffVerifier();
    const hitsBefore = attackerJwks.hits();
    const token = await mintToken(attackerKey, handoffClaims(), 'handoff+jwt', {
      jku: attackerJwks.url.href,
    });

    expect(await verify(token)).toMatchObject(rejected('unknown_kid'));
    expect(attackerJwks.hits()).toBe(hitsBefore);
  });

  it('rejects an attacker-signed token naming the real kid with jku and x5u pointing elsewhere', async () => {
    const { verify } = handoffVerifier();
    const token = await mintToken(attackerKey, handoffClaims(), 'handoff+jwt', {
      kid: realKey.kid,
      jku: attackerJwks.url.href,
      x5u: attackerJwks.url.href,
    });

    expect(await verify(token)).toMatchObject(rejected('invalid_signature'));
  });

  it('still verifies a genuine token that carries jku, x5u and x5c headers', async () => {
    const { verify } = handoffVerifier();
    const token = await mintToken(realKey, handoffClaims(), 'handoff+jwt', {
      jku: attackerJwks.url.href,
      x5u: attackerJwks.url.href,
      x5c: [Buffer.from('not a certificate').toString('base64')],
    });

    expect((await verify(token)).ok).toBe(true);
  });

  it('rejects a token without kid even when the key set holds a single key', async () => {
    const { verify } = handoffVerifier({ keySource: createLocalKeySource(jwksOf(realKey)) });
    const token = await mintToken(realKey, handoffClaims(), 'handoff+jwt', { kid: undefined });

    expect(await verify(token)).toMatchObject(rejected('unknown_kid'));
  });

  it('rejects a token whose kid is empty', async () => {
    const { verify } = handoffVerifier();
    const token = await mintToken(realKey, handoffClaims(), 'handoff+jwt', { kid: '' });

    expect(await verify(token)).toMatchObject(rejected('unknown_kid'));
  });

  it('rejects a token whose kid is not in the key set', async () => {
    const { verify } = handoffVerifier();
    expect(await verify(await mintToken(attackerKey, handoffClaims()))).toMatchObject(
      rejected('unknown_kid'),
    );
  });
});

describe('typ', () => {
  it.each(['service+jwt', 'logout+jwt', 'JWT', 'jwt', 'application/jwt', 'at+jwt', 'handoff'])(
    'rejects typ "%s" at the handoff verifier',
    async (typ) => {
      const { verify } = handoffVerifier();
      expect(await verify(await mintToken(realKey, handoffClaims(), typ))).toMatchObject(
        rejected('invalid_type'),
      );
    },
  );

  it('rejects a token without typ', async () => {
    const { verify } = handoffVerifier();
    const token = await mintToken(realKey, handoffClaims(), 'handoff+jwt', { typ: undefined });

    expect(await verify(token)).toMatchObject(rejected('invalid_type'));
  });

  it('rejects a typ that is not a string', async () => {
    const { verify } = handoffVerifier();
    const token = await mintToken(realKey, handoffClaims(), 'handoff+jwt', { typ: ['handoff+jwt'] });

    expect(await verify(token)).toMatchObject(rejected('invalid_type'));
  });
});

describe('each verifier accepts only its own profile', () => {
  const profiles = { handoff: HANDOFF_PROFILE, service: SERVICE_PROFILE, logout: LOGOUT_PROFILE };
  const tokens = {
    handoff: { typ: 'handoff+jwt', claims: handoffClaims },
    service: { typ: 'service+jwt', claims: serviceClaims },
    logout: { typ: 'logout+jwt', claims: logoutClaims },
  };
  const kinds = ['handoff', 'service', 'logout'] as const;
  const crossings = kinds.flatMap((verifierKind) =>
    kinds
      .filter((tokenKind) => tokenKind !== verifierKind)
      .map((tokenKind) => [tokenKind, verifierKind] as const),
  );

  it.each(kinds)('accepts a %s token at the verifier of its own profile', async (kind) => {
    const { verify } = verifierFor(profiles[kind]);
    const result = await verify(await mintToken(realKey, tokens[kind].claims(), tokens[kind].typ));
    expect(result.ok).toBe(true);
  });

  it.each(crossings)('rejects a %s token at the %s verifier', async (tokenKind, verifierKind) => {
    const { verify } = verifierFor(profiles[verifierKind]);
    // The token carries every claim the target profile needs, so only typ tells them apart.
    const claims = { ...tokens[verifierKind].claims(), ...tokens[tokenKind].claims(), exp: T0 + 60 };

    expect(await verify(await mintToken(realKey, claims, tokens[tokenKind].typ))).toMatchObject(
      rejected('invalid_type'),
    );
  });
});

describe('iss and aud', () => {
  it.each(['http://evil.example', `${ISSUER}/`, ISSUER.replace('http:', 'https:'), ISSUER.toUpperCase()])(
    'rejects iss "%s"',
    async (iss) => {
      const { verify } = handoffVerifier();
      expect(await verify(await mintToken(realKey, handoffClaims({ iss })))).toMatchObject(
        rejected('invalid_issuer'),
      );
    },
  );

  it('rejects an iss that is not a string', async () => {
    const { verify } = handoffVerifier();
    expect(await verify(await mintToken(realKey, handoffClaims({ iss: [ISSUER] })))).toMatchObject(
      rejected('invalid_issuer'),
    );
  });

  it('rejects a token minted for another audience', async () => {
    const { verify } = handoffVerifier();
    expect(await verify(await mintToken(realKey, handoffClaims({ aud: 'server3' })))).toMatchObject(
      rejected('invalid_audience'),
    );
  });

  it.each([[[AUDIENCE]], [[AUDIENCE, 'server3']], [['server3', AUDIENCE]]])(
    'rejects aud %j even though it contains our id',
    async (aud) => {
      const { verify } = handoffVerifier();
      expect(await verify(await mintToken(realKey, handoffClaims({ aud })))).toMatchObject(
        rejected('invalid_audience'),
      );
    },
  );
});

describe('time', () => {
  it('rejects a token that expired beyond the 5 s leeway', async () => {
    const { verify, clock } = handoffVerifier();
    const token = await mintToken(realKey, handoffClaims());
    clock.setSec(T0 + 60 + 6);

    expect(await verify(token)).toMatchObject(rejected('token_expired'));
  });

  it('accepts a token that expired within the 5 s leeway', async () => {
    const { verify, clock } = handoffVerifier();
    const token = await mintToken(realKey, handoffClaims());
    clock.setSec(T0 + 60 + 4);

    expect((await verify(token)).ok).toBe(true);
  });

  it('allows no leeway when clockToleranceSec is 0', async () => {
    const { verify, clock } = handoffVerifier({ clockToleranceSec: 0 });
    const token = await mintToken(realKey, handoffClaims());
    clock.setSec(T0 + 60);

    expect(await verify(token)).toMatchObject(rejected('token_expired'));
  });

  it('rejects a token whose nbf is in the future beyond the leeway', async () => {
    const { verify } = handoffVerifier();
    expect(await verify(await mintToken(realKey, handoffClaims({ nbf: T0 + 6 })))).toMatchObject(
      rejected('token_not_yet_valid'),
    );
  });

  it('accepts a token whose nbf is in the future within the leeway', async () => {
    const { verify } = handoffVerifier();
    expect((await verify(await mintToken(realKey, handoffClaims({ nbf: T0 + 4 })))).ok).toBe(true);
  });

  it('rejects a token whose iat is in the future beyond the leeway', async () => {
    const { verify } = handoffVerifier();
    expect(await verify(await mintToken(realKey, handoffClaims({}, T0 + 6)))).toMatchObject(
      rejected('token_not_yet_valid'),
    );
  });

  it('accepts a token whose iat is in the future within the leeway', async () => {
    const { verify } = handoffVerifier();
    expect((await verify(await mintToken(realKey, handoffClaims({}, T0 + 4)))).ok).toBe(true);
  });
});

describe('lifetime (exp - iat)', () => {
  it('accepts a handoff token living exactly 300 s', async () => {
    const { verify } = handoffVerifier();
    expect((await verify(await mintToken(realKey, handoffClaims({ exp: T0 + 300 })))).ok).toBe(true);
  });

  it('rejects a handoff token living 301 s', async () => {
    const { verify } = handoffVerifier();
    expect(await verify(await mintToken(realKey, handoffClaims({ exp: T0 + 301 })))).toMatchObject(
      rejected('lifetime_too_long'),
    );
  });

  it('rejects a token issued long ago even when little of its life is left', async () => {
    const { verify } = handoffVerifier();
    const token = await mintToken(realKey, handoffClaims({ exp: T0 + 30 }, T0 - 400));

    expect(await verify(token)).toMatchObject(rejected('lifetime_too_long'));
  });

  it('lets maxLifetimeSec lower the cap', async () => {
    const { verify } = handoffVerifier({ maxLifetimeSec: 60 });
    expect((await verify(await mintToken(realKey, handoffClaims({ exp: T0 + 60 })))).ok).toBe(true);
    expect(await verify(await mintToken(realKey, handoffClaims({ exp: T0 + 61 })))).toMatchObject(
      rejected('lifetime_too_long'),
    );
  });

  it('never lets maxLifetimeSec raise the cap', async () => {
    const { verify } = handoffVerifier({ maxLifetimeSec: 3600 });
    expect(await verify(await mintToken(realKey, handoffClaims({ exp: T0 + 301 })))).toMatchObject(
      rejected('lifetime_too_long'),
    );
  });

  it('caps service tokens at 60 s and logout tokens at 120 s', async () => {
    const service = verifierFor(SERVICE_PROFILE);
    const logout = verifierFor(LOGOUT_PROFILE);

    expect(
      await service.verify(await mintToken(realKey, serviceClaims({ exp: T0 + 61 }), 'service+jwt')),
    ).toMatchObject(rejected('lifetime_too_long'));
    expect(
      await logout.verify(await mintToken(realKey, logoutClaims({ exp: T0 + 121 }), 'logout+jwt')),
    ).toMatchObject(rejected('lifetime_too_long'));
  });

  it('rejects a token whose exp is not after its iat as malformed', async () => {
    const { verify, clock } = handoffVerifier();
    // The clock sits where neither exp nor iat is out of its window, so only their order is wrong.
    clock.setSec(T0 - 3);

    expect(await verify(await mintToken(realKey, handoffClaims({ exp: T0 })))).toMatchObject(
      rejected('token_malformed'),
    );
    expect(await verify(await mintToken(realKey, handoffClaims({ exp: T0 - 1 })))).toMatchObject(
      rejected('token_malformed'),
    );
  });
});

describe('required claims', () => {
  it.each(['exp', 'iat', 'jti', 'iss', 'aud', 'sub', 'nonce'])(
    'rejects a handoff token without %s as malformed',
    async (claim) => {
      const { verify } = handoffVerifier();
      const token = await mintToken(realKey, handoffClaims({ [claim]: undefined }));

      expect(await verify(token)).toMatchObject(rejected('token_malformed'));
    },
  );

  it.each(['sub', 'scope', 'jti'])('rejects a service token without %s as malformed', async (claim) => {
    const { verify } = verifierFor(SERVICE_PROFILE);
    const token = await mintToken(realKey, serviceClaims({ [claim]: undefined }), 'service+jwt');

    expect(await verify(token)).toMatchObject(rejected('token_malformed'));
  });

  it('rejects a logout token without events as malformed', async () => {
    const { verify } = verifierFor(LOGOUT_PROFILE);
    const token = await mintToken(realKey, logoutClaims({ events: undefined }), 'logout+jwt');

    expect(await verify(token)).toMatchObject(rejected('token_malformed'));
  });

  it.each([
    ['a number', 42],
    ['empty', ''],
    ['longer than 256 characters', 'j'.repeat(257)],
    ['null', null],
  ])('rejects a jti that is %s', async (_name, jti) => {
    const { verify } = handoffVerifier();
    expect(await verify(await mintToken(realKey, handoffClaims({ jti })))).toMatchObject(
      rejected('token_malformed'),
    );
  });

  it.each([
    ['empty', ''],
    ['a number', 7],
    ['null', null],
  ])('rejects a sub that is %s', async (_name, sub) => {
    const { verify } = handoffVerifier();
    expect(await verify(await mintToken(realKey, handoffClaims({ sub })))).toMatchObject(
      rejected('token_malformed'),
    );
  });

  it('rejects an exp that is not a number as malformed', async () => {
    const { verify } = handoffVerifier();
    const token = await mintToken(realKey, handoffClaims({ exp: String(T0 + 60) }));

    expect(await verify(token)).toMatchObject(rejected('token_malformed'));
  });

  it.each([
    ['iat', 'a numeric string', String(T0)],
    ['iat', 'null', null],
    ['nbf', 'a string', 'x'],
  ])('rejects an %s that is %s as malformed, not as a time problem', async (claim, _name, value) => {
    const { verify } = handoffVerifier();
    const token = await mintToken(realKey, handoffClaims({ [claim]: value }));

    expect(await verify(token)).toMatchObject(rejected('token_malformed'));
  });

  it.each([
    ['null', null],
    ['a number', 123],
    ['empty', ''],
    ['an object', {}],
  ])('rejects a handoff token whose nonce is %s as malformed', async (_name, nonce) => {
    const { verify } = handoffVerifier();
    expect(await verify(await mintToken(realKey, handoffClaims({ nonce })))).toMatchObject(
      rejected('token_malformed'),
    );
  });

  it.each([
    ['a number', 42],
    ['null', null],
    ['an array', ['activity:read']],
    ['an object', { 'activity:read': true }],
  ])('rejects a service token whose scope is %s as malformed', async (_name, scope) => {
    const { verify } = verifierFor(SERVICE_PROFILE);
    const token = await mintToken(realKey, serviceClaims({ scope }), 'service+jwt');

    expect(await verify(token)).toMatchObject(rejected('token_malformed'));
  });

  it.each([
    ['a JSON array', '[1,2,3]'],
    ['a JSON string', '"claims"'],
    ['not JSON', 'not json at all'],
  ])('rejects a signed payload that is %s as malformed', async (_name, payload) => {
    const { verify } = handoffVerifier();
    const token = await new CompactSign(new TextEncoder().encode(payload))
      .setProtectedHeader({ alg: 'EdDSA', kid: realKey.kid, typ: 'handoff+jwt' })
      .sign(realKey.privateKey);

    expect(await verify(token)).toMatchObject(rejected('token_malformed'));
  });
});

describe('logout token shape (OpenID Connect Back-Channel Logout 1.0)', () => {
  const logoutVerifier = () => verifierFor(LOGOUT_PROFILE);

  it('names the back-channel logout event', () => {
    expect(BACKCHANNEL_LOGOUT_EVENT).toBe('http://schemas.openid.net/event/backchannel-logout');
  });

  it.each([
    ['sid only', { sub: undefined }],
    ['sub only', { sid: undefined }],
  ])('accepts a logout token naming %s', async (_name, overrides) => {
    const { verify } = logoutVerifier();
    const claims = logoutClaims(overrides);

    expect(await verify(await mintToken(realKey, claims, 'logout+jwt'))).toMatchObject({ ok: true, claims });
  });

  it.each([
    ['neither sub nor sid', { sub: undefined, sid: undefined }],
    ['an empty sub and an empty sid', { sub: '', sid: '' }],
    ['a sub that is not a string and no sid', { sub: 7, sid: undefined }],
    ['a numeric sub beside a valid sid', { sub: 7, sid: 'sid-1' }],
    ['a numeric sid beside a valid sub', { sub: 'user-1', sid: 7 }],
    ['an empty sid beside a valid sub', { sub: 'user-1', sid: '' }],
  ])('rejects a logout token with %s as malformed', async (_name, overrides) => {
    const { verify } = logoutVerifier();
    const token = await mintToken(realKey, logoutClaims(overrides), 'logout+jwt');

    expect(await verify(token)).toMatchObject(rejected('token_malformed'));
  });

  it.each([
    ['a string', 'state-1'],
    ['empty', ''],
    ['null', null],
  ])('rejects a logout token carrying a nonce that is %s as malformed', async (_name, nonce) => {
    const { verify } = logoutVerifier();
    const token = await mintToken(realKey, logoutClaims({ nonce }), 'logout+jwt');

    expect(await verify(token)).toMatchObject(rejected('token_malformed'));
  });

  it.each([
    ['empty', {}],
    ['naming only another event', { 'http://schemas.openid.net/event/other': {} }],
    ['an array', []],
    ['an array holding the event name', [BACKCHANNEL_LOGOUT_EVENT]],
    ['null', null],
    ['the event name as a string', BACKCHANNEL_LOGOUT_EVENT],
    ['the event with a string value', { [BACKCHANNEL_LOGOUT_EVENT]: 'yes' }],
    ['the event with a null value', { [BACKCHANNEL_LOGOUT_EVENT]: null }],
  ])('rejects a logout token whose events is %s as malformed', async (_name, events) => {
    const { verify } = logoutVerifier();
    const token = await mintToken(realKey, logoutClaims({ events }), 'logout+jwt');

    expect(await verify(token)).toMatchObject(rejected('token_malformed'));
  });

  it('does not use up the jti of a logout token refused for its shape', async () => {
    const { verify } = logoutVerifier();
    const jti = randomUUID();

    expect(
      await verify(
        await mintToken(realKey, logoutClaims({ jti, sub: undefined, sid: undefined }), 'logout+jwt'),
      ),
    ).toMatchObject(rejected('token_malformed'));
    expect((await verify(await mintToken(realKey, logoutClaims({ jti }), 'logout+jwt'))).ok).toBe(true);
  });
});

describe('replay', () => {
  it('rejects a token whose jti was already used', async () => {
    const { verify } = handoffVerifier();
    const token = await mintToken(realKey, handoffClaims());

    expect((await verify(token)).ok).toBe(true);
    expect(await verify(token)).toMatchObject(rejected('token_replayed'));
  });

  it('rejects a freshly signed token that reuses a spent jti', async () => {
    const { verify } = handoffVerifier();
    const jti = randomUUID();

    expect((await verify(await mintToken(realKey, handoffClaims({ jti, nonce: 'first' })))).ok).toBe(true);
    expect(await verify(await mintToken(realKey, handoffClaims({ jti, nonce: 'second' })))).toMatchObject(
      rejected('token_replayed'),
    );
  });

  it('accepts exactly one of many concurrent presentations of the same token', async () => {
    const { verify } = handoffVerifier();
    const token = await mintToken(realKey, handoffClaims());

    const results = await Promise.all(Array.from({ length: 8 }, () => verify(token)));

    expect(okCount(results)).toBe(1);
    for (const result of results.filter((r) => !r.ok))
      expect(result).toMatchObject(rejected('token_replayed'));
  });

  it('keeps refusing a spent token until it expires, and as expired afterwards', async () => {
    const { verify, clock } = handoffVerifier();
    const token = await mintToken(realKey, handoffClaims());
    await verify(token);

    clock.setSec(T0 + 60 + 4);
    expect(await verify(token)).toMatchObject(rejected('token_replayed'));
    clock.setSec(T0 + 60 + 6);
    expect(await verify(token)).toMatchObject(rejected('token_expired'));
  });

  it('never accepts the high-s re-spelling of a spent ES256 signature', async () => {
    const { verify } = handoffVerifier({ algorithms: ['ES256'] });
    const token = await mintToken(realEsKey, handoffClaims());
    const respelled = withHighS(token);
    expect(respelled).not.toBe(token);

    const results = [await verify(token), await verify(respelled)];

    expect(okCount(results)).toBe(1);
    expect(['token_replayed', 'invalid_signature']).toContain(!results[1]?.ok && results[1]?.reason);
  });

  it('never accepts the original after its high-s re-spelling was presented', async () => {
    const { verify } = handoffVerifier({ algorithms: ['ES256'] });
    const token = await mintToken(realEsKey, handoffClaims());

    const results = [await verify(withHighS(token)), await verify(token)];

    expect(okCount(results)).toBeLessThanOrEqual(1);
    expect(results[1]).toMatchObject({ ok: false });
  });

  it('never accepts an Ed25519 signature re-spelled as s + L', async () => {
    const { verify } = handoffVerifier();
    const token = await mintToken(realKey, handoffClaims());

    const results = [await verify(token), await verify(withEd25519SPlusL(token))];

    expect(okCount(results)).toBe(1);
    expect(['token_replayed', 'invalid_signature']).toContain(!results[1]?.ok && results[1]?.reason);
  });

  it.each(['EdDSA', 'ES256'] as const)(
    'never accepts a %s signature re-spelled through its spare base64url bits',
    async (alg) => {
      const { verify } = handoffVerifier({ algorithms: [alg] });
      const token = await mintToken(alg === 'EdDSA' ? realKey : realEsKey, handoffClaims());
      const variants = spareBitVariants(token);
      expect(variants.length).toBeGreaterThan(0);

      const first = await verify(token);
      const rest = await Promise.all(variants.map((variant) => verify(variant)));

      expect(first.ok).toBe(true);
      expect(okCount(rest)).toBe(0);
      for (const result of rest) {
        expect(['token_replayed', 'invalid_signature', 'token_malformed']).toContain(
          !result.ok && result.reason,
        );
      }
    },
  );

  it.each(['EdDSA', 'ES256'] as const)(
    'refuses a fresh %s token re-spelled through its spare base64url bits as malformed',
    async (alg) => {
      const token = await mintToken(alg === 'EdDSA' ? realKey : realEsKey, handoffClaims());

      for (const variant of spareBitVariants(token)) {
        const { verify } = handoffVerifier({ algorithms: [alg] });
        expect(await verify(variant)).toMatchObject(rejected('token_malformed'));
      }
    },
  );

  it('never accepts a single-character change to a spent token', async () => {
    const { verify } = handoffVerifier();
    const token = await mintToken(realKey, handoffClaims());
    await verify(token);

    const results = await Promise.all(
      [...token].map((char, i) => {
        if (char === '.') return verify(`${token.slice(0, i)}A${token.slice(i + 1)}`);
        const replacement = char === 'A' ? 'B' : 'A';
        return verify(`${token.slice(0, i)}${replacement}${token.slice(i + 1)}`);
      }),
    );

    expect(okCount(results)).toBe(0);
  });

  it('uses up the jti only when every other check passed', async () => {
    const revokedJtis = new Set<string>();
    const { verify } = handoffVerifier({ isRevoked: (claims) => revokedJtis.has(claims.jti) });
    const jti = randomUUID();
    revokedJtis.add(jti);

    expect(await verify(await mintToken(realKey, handoffClaims({ jti, aud: 'server3' })))).toMatchObject(
      rejected('invalid_audience'),
    );
    expect(await verify(await mintToken(realKey, handoffClaims({ jti, exp: T0 + 301 })))).toMatchObject(
      rejected('lifetime_too_long'),
    );
    expect(await verify(await mintToken(realKey, handoffClaims({ jti }, T0 + 30)))).toMatchObject(
      rejected('token_not_yet_valid'),
    );
    expect(
      await verify(await mintToken(attackerKey, handoffClaims({ jti }), 'handoff+jwt', { kid: realKey.kid })),
    ).toMatchObject(rejected('invalid_signature'));
    expect(await verify(await mintToken(realKey, handoffClaims({ jti })))).toMatchObject(
      rejected('token_revoked'),
    );

    revokedJtis.clear();
    expect((await verify(await mintToken(realKey, handoffClaims({ jti })))).ok).toBe(true);
  });

  it('lets a service token be presented more than once', async () => {
    const { verify } = verifierFor(SERVICE_PROFILE);
    const token = await mintToken(realKey, serviceClaims(), 'service+jwt');

    expect((await verify(token)).ok).toBe(true);
    expect((await verify(token)).ok).toBe(true);
  });

  it('rejects a logout token whose jti was already used', async () => {
    const { verify } = verifierFor(LOGOUT_PROFILE);
    const token = await mintToken(realKey, logoutClaims(), 'logout+jwt');

    expect((await verify(token)).ok).toBe(true);
    expect(await verify(token)).toMatchObject(rejected('token_replayed'));
  });
});

describe('size and shape', () => {
  it('rejects a token over 8192 bytes as too large even when it is garbage', async () => {
    const { verify } = handoffVerifier();
    expect(await verify('a'.repeat(8193))).toMatchObject(rejected('token_too_large'));
    expect(await verify('!'.repeat(100_000))).toMatchObject(rejected('token_too_large'));
  });

  it('rejects a genuinely signed token over 8192 bytes as too large', async () => {
    const { verify } = handoffVerifier();
    const token = await mintToken(realKey, handoffClaims({ name: 'x'.repeat(8192) }));

    expect(await verify(token)).toMatchObject(rejected('token_too_large'));
  });

  it('counts bytes, not characters', async () => {
    const { verify } = handoffVerifier();
    const token = '\u20ac'.repeat(3000);
    expect(token.length).toBeLessThan(8192);

    expect(await verify(token)).toMatchObject(rejected('token_too_large'));
  });

  it('refuses a garbage token of exactly 8192 bytes as malformed, not as too large', async () => {
    const { verify } = handoffVerifier();
    expect(await verify('a'.repeat(8192))).toMatchObject(rejected('token_malformed'));
  });

  it('lets maxTokenBytes lower the cap', async () => {
    const { verify } = handoffVerifier({ maxTokenBytes: 100 });
    expect(await verify(await mintToken(realKey, handoffClaims()))).toMatchObject(
      rejected('token_too_large'),
    );
  });

  it.each([
    ['empty', ''],
    ['undefined', undefined],
  ])('reports a token that is %s as missing', async (_name, token) => {
    const { verify } = handoffVerifier();
    expect(await verify(token)).toMatchObject(rejected('token_missing'));
  });

  it.each([
    'abc',
    'a.b',
    'a.b.c.d',
    'a.b.c',
    '..',
    'a..c',
    '!!!.@@@.###',
    'eyJhbGciOiJFZERTQSJ9.e30=.c2ln',
    'eyJhbGciOiJFZERTQSJ9 .e30.c2ln',
    'Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln',
  ])('rejects "%s" as malformed', async (token) => {
    const { verify } = handoffVerifier();
    expect(await verify(token)).toMatchObject(rejected('token_malformed'));
  });

  it('rejects a header that is not JSON as malformed', async () => {
    const { verify } = handoffVerifier();
    const token = `${Buffer.from('{alg: EdDSA').toString('base64url')}.${segment(handoffClaims())}.c2ln`;

    expect(await verify(token)).toMatchObject(rejected('token_malformed'));
  });

  it('rejects a header that is a JSON array as malformed', async () => {
    const { verify } = handoffVerifier();
    expect(await verify(`${segment(['EdDSA'])}.${segment(handoffClaims())}.c2ln`)).toMatchObject(
      rejected('token_malformed'),
    );
  });

  it('never throws and always names a known reason for pseudo-random input', async () => {
    const { verify } = handoffVerifier();
    const random = mulberry32(7);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_..=+/ {}"';
    const validHeader = segment({ alg: 'EdDSA', kid: realKey.kid, typ: 'handoff+jwt' });

    for (let i = 0; i < 500; i += 1) {
      const length = Math.floor(random() * 200);
      let token = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      if (i % 2 === 0) token = `${validHeader}.${token}`;
      const result = await verify(token);
      expect(result.ok).toBe(false);
      expect(TOKEN_REASONS).toContain(!result.ok && result.reason);
    }
  });
});

describe('construction', () => {
  const base = (): VerifierOptions => ({
    profile: HANDOFF_PROFILE,
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['EdDSA'],
    keySource: createLocalKeySource(jwksOf(realKey)),
    replayStore: createMemoryReplayStore(),
  });

  it.each([[[]], [['HS256']], [['RS256']], [['none']], [['EdDSA', 'HS256']]])(
    'throws for algorithms %j',
    (algorithms) => {
      expect(() => createVerifier({ ...base(), algorithms: algorithms as SigningAlgorithm[] })).toThrow(
        /algorithms/,
      );
    },
  );

  it.each([
    ['handoff', HANDOFF_PROFILE],
    ['logout', LOGOUT_PROFILE],
  ])('throws for the single-use %s profile without a replayStore', (_name, profile) => {
    expect(() => createVerifier({ ...base(), profile, replayStore: undefined })).toThrow(/replayStore/);
  });

  it('builds a service verifier without a replayStore', () => {
    expect(() =>
      createVerifier({ ...base(), profile: SERVICE_PROFILE, replayStore: undefined }),
    ).not.toThrow();
  });

  it.each([-1, 61, Number.NaN])('throws for clockToleranceSec %d', (clockToleranceSec) => {
    expect(() => createVerifier({ ...base(), clockToleranceSec })).toThrow(/clockToleranceSec/);
  });

  it.each(['issuer', 'audience'] as const)('throws for an empty %s', (option) => {
    expect(() => createVerifier({ ...base(), [option]: '' })).toThrow(new RegExp(option));
  });

  it.each([Number.NaN, 0, -1, Number.POSITIVE_INFINITY])(
    'throws a TypeError for maxLifetimeSec %d',
    (maxLifetimeSec) => {
      const build = () => createVerifier({ ...base(), maxLifetimeSec });

      expect(build).toThrow(TypeError);
      expect(build).toThrow(/maxLifetimeSec/);
    },
  );

  it.each([
    ['clockToleranceSec', null],
    ['clockToleranceSec', '5'],
    ['maxTokenBytes', '8192'],
  ])('throws a TypeError at construction for %s given as %j', (option, value) => {
    const build = () => createVerifier({ ...base(), [option]: value } as unknown as VerifierOptions);

    expect(build).toThrow(TypeError);
    expect(build).toThrow(new RegExp(option));
  });

  it('takes the defaults for now, clockToleranceSec and maxTokenBytes passed as undefined', async () => {
    const verify = createVerifier({
      ...base(),
      now: undefined,
      clockToleranceSec: undefined,
      maxTokenBytes: undefined,
    });
    const nowSec = Math.floor(Date.now() / 1000);

    expect((await verify(await mintToken(realKey, handoffClaims({}, nowSec)))).ok).toBe(true);
    expect(await verify(await mintToken(realKey, handoffClaims()))).toMatchObject(rejected('token_expired'));
    expect(await verify('a'.repeat(8193))).toMatchObject(rejected('token_too_large'));
    expect(await verify('a'.repeat(8192))).toMatchObject(rejected('token_malformed'));
  });

  it('keeps the 5 s leeway when clockToleranceSec is passed as undefined', async () => {
    const { verify, clock } = handoffVerifier({ clockToleranceSec: undefined });
    const [within, beyond] = await Promise.all([
      mintToken(realKey, handoffClaims()),
      mintToken(realKey, handoffClaims()),
    ]);

    clock.setSec(T0 + 60 + 4);
    expect((await verify(within)).ok).toBe(true);
    clock.setSec(T0 + 60 + 6);
    expect(await verify(beyond)).toMatchObject(rejected('token_expired'));
  });
});

describe('revocation', () => {
  it('rejects a token the isRevoked hook refuses', async () => {
    const { verify } = handoffVerifier({ isRevoked: () => true });
    expect(await verify(await mintToken(realKey, handoffClaims()))).toMatchObject(rejected('token_revoked'));
  });

  it('hands the hook the claims, so it can refuse tokens issued before tokens-valid-after', async () => {
    const validAfter = T0 - 10;
    const { verify } = handoffVerifier({ isRevoked: async (claims) => claims.iat < validAfter });

    expect(await verify(await mintToken(realKey, handoffClaims({ exp: T0 + 20 }, T0 - 30)))).toMatchObject(
      rejected('token_revoked'),
    );
    expect((await verify(await mintToken(realKey, handoffClaims({}, T0 - 5)))).ok).toBe(true);
  });
});

// --- signature re-spellings -------------------------------------------------------------------

const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const ED25519_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

/** The same ES256 signature with s replaced by n - s: valid for the same key and message. */
function withHighS(token: string): string {
  const [header, payload, signature] = segmentsOf(token);
  const raw = Buffer.from(signature, 'base64url');
  const s = BigInt(`0x${raw.subarray(32).toString('hex')}`);
  const highS = Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex');
  return `${header}.${payload}.${Buffer.concat([raw.subarray(0, 32), highS]).toString('base64url')}`;
}

/** The Ed25519 signature R || S rewritten as R || (S + L), little-endian: rejected by strict verifiers. */
function withEd25519SPlusL(token: string): string {
  const [header, payload, signature] = segmentsOf(token);
  const raw = Buffer.from(signature, 'base64url');
  const s = BigInt(`0x${Buffer.from(raw.subarray(32)).reverse().toString('hex')}`);
  const bigS = Buffer.from((s + ED25519_ORDER).toString(16).padStart(64, '0'), 'hex').reverse();
  return `${header}.${payload}.${Buffer.concat([raw.subarray(0, 32), bigS]).toString('base64url')}`;
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Every other spelling of the signature's last character that decodes to the same bytes. */
function spareBitVariants(token: string): string[] {
  const [header, payload, signature] = segmentsOf(token);
  const spareBits = (signature.length * 6) % 8;
  const last = BASE64URL.indexOf(signature.slice(-1));
  const variants: string[] = [];
  for (let flip = 1; flip < 1 << spareBits; flip += 1) {
    variants.push(`${header}.${payload}.${signature.slice(0, -1)}${BASE64URL[last ^ flip]}`);
  }
  return variants;
}

/** A small seeded PRNG, so the random inputs are the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
