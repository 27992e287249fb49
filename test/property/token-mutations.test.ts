import { createHash, createHmac, createPrivateKey, webcrypto } from 'node:crypto';
import {
  createLocalKeySource,
  createMemoryReplayStore,
  createVerifier,
  HANDOFF_PROFILE,
  LOGOUT_PROFILE,
  SERVICE_PROFILE,
  TOKEN_REASONS,
  type TokenProfile,
  type TokenVerifier,
  type VerifierOptions,
} from '@jwt-handoff/shared';
import {
  generateTestKey,
  jwksOf,
  mintToken,
  segment,
  T0,
  type TestKey,
  testClock,
} from '@jwt-handoff/testkit';
import fc from 'fast-check';
import { type CryptoKey, calculateJwkThumbprint, importJWK, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIENCE, handoffClaims, ISSUER, logoutClaims, serviceClaims } from '../unit/helpers/tokens.js';
import { PROPERTY_TIMEOUT_MS, runOptions } from './run-options.js';

// PKCS #8 DER of an Ed25519 private key, up to its 32-byte seed (RFC 8410).
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * An Ed25519 key derived from `label`. Ed25519 signatures are deterministic, so with these keys
 * the tokens under test are the same bytes in every run and a seed replays the same cases.
 */
async function ed25519KeyFrom(label: string): Promise<TestKey> {
  const seed = createHash('sha256').update(label).digest();
  const der = Buffer.concat([ED25519_PKCS8_PREFIX, seed]);
  const { d, ...publicJwk } = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({
    format: 'jwk',
  }) as JWK;
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    alg: 'EdDSA',
    kid,
    privateKey: (await importJWK({ ...publicJwk, d }, 'EdDSA')) as CryptoKey,
    publicKey: (await importJWK(publicJwk, 'EdDSA')) as CryptoKey,
    publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' },
  };
}

/** Signs `input` (a JWS signing input) with `key`, whatever header it claims to have. */
async function signWith(key: TestKey, input: string): Promise<string> {
  const algorithm = key.alg === 'EdDSA' ? { name: 'Ed25519' } : { name: 'ECDSA', hash: 'SHA-256' };
  const signature = await webcrypto.subtle.sign(algorithm, key.privateKey, Buffer.from(input));
  return Buffer.from(signature).toString('base64url');
}

type SegmentIndex = 0 | 1 | 2;
type Signing = 'original' | 'empty' | 'attacker-eddsa' | 'attacker-es256' | 'hs256-public-key';
type JsonEdit = [name: string, value: unknown];

/** One change to a token string; a case applies one to three in a row. */
type Mutation =
  | { op: 'replace-char'; segment: SegmentIndex; at: number; char: string }
  | { op: 'flip-bit'; segment: SegmentIndex; at: number; bit: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'delete'; at: number; count: number }
  | { op: 'append'; text: string }
  | { op: 'prepend'; text: string }
  | { op: 'segments'; order: number[] }
  | { op: 're-encode'; segment: SegmentIndex; how: 'pad' | 'extra-pad' | 'standard-alphabet' }
  | { op: 'case'; segment: SegmentIndex | 'all'; how: 'upper' | 'lower' | 'toggle-one'; at: number }
  | { op: 'edit'; part: 'header' | 'claims'; edits: JsonEdit[]; signing: Signing };

interface Keys {
  real: TestKey;
  realEs: TestKey;
  attacker: TestKey;
  attackerEs: TestKey;
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
// Characters a token must never be spelled with, and some it may be confused with.
const ODD_CHARS = ['.', '=', '+', '/', ' ', '\t', '\n', '\r', '\0', '%', '"', ',', 'é', '\u00a0', '😀'];

const segmentIndex = fc.constantFrom<SegmentIndex>(0, 1, 2);
// A position in a string: negative ones count from its end, where base64url keeps its spare bits.
const position = fc.oneof(fc.nat(), fc.integer({ min: -3, max: -1 }));
const text = fc.oneof(
  fc.string({ unit: fc.constantFrom(...BASE64URL.split(''), ...ODD_CHARS), minLength: 1, maxLength: 8 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }),
);

function mutationArbitrary(keys: Keys): fc.Arbitrary<Mutation> {
  const kids = [keys.real.kid, keys.realEs.kid, keys.attacker.kid, keys.attackerEs.kid];
  const headerValue = fc.oneof(
    fc.constantFrom<unknown>(
      undefined, // removes the member
      'none',
      'None',
      'HS256',
      'EdDSA',
      'ES256',
      'RS256',
      'Ed25519',
      'handoff+jwt',
      'service+jwt',
      'logout+jwt',
      'JWT',
      ...kids,
      keys.attacker.publicJwk,
      ['b64'],
      false,
    ),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const claimValue = fc.oneof(
    fc.constantFrom<unknown>(
      undefined,
      ISSUER,
      `${ISSUER}/`,
      'https://evil.example',
      AUDIENCE,
      [AUDIENCE],
      [AUDIENCE, 'other'],
      'server1',
      'user-1',
      T0,
      T0 + 1,
      T0 + 60,
      T0 + 10 ** 9,
      `${T0}`,
      -1,
      0,
      1.5,
      null,
      {},
      'activity:read admin',
      { 'http://schemas.openid.net/event/backchannel-logout': {} },
    ),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const headerName = fc.oneof(
    fc.constantFrom('alg', 'typ', 'kid', 'jwk', 'jku', 'x5u', 'x5c', 'crit', 'b64', 'cty', 'zip'),
    fc.string({ maxLength: 6 }),
  );
  const claimName = fc.oneof(
    fc.constantFrom(
      'iss',
      'aud',
      'sub',
      'jti',
      'nonce',
      'iat',
      'exp',
      'nbf',
      'auth_time',
      'scope',
      'events',
      'sid',
    ),
    fc.string({ maxLength: 6 }),
  );
  const signing = fc.constantFrom<Signing>(
    'original',
    'empty',
    'attacker-eddsa',
    'attacker-es256',
    'hs256-public-key',
  );
  return fc.oneof(
    fc.record({
      op: fc.constant('replace-char' as const),
      segment: segmentIndex,
      at: position,
      char: fc.oneof(fc.constantFrom(...BASE64URL.split('')), fc.constantFrom(...ODD_CHARS)),
    }),
    fc.record({ op: fc.constant('flip-bit' as const), segment: segmentIndex, at: position, bit: fc.nat(7) }),
    fc.record({ op: fc.constant('insert' as const), at: position, text }),
    fc.record({ op: fc.constant('delete' as const), at: position, count: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ op: fc.constant('append' as const), text }),
    fc.record({ op: fc.constant('prepend' as const), text }),
    fc.record({ op: fc.constant('segments' as const), order: fc.array(fc.nat(2), { maxLength: 5 }) }),
    fc.record({
      op: fc.constant('re-encode' as const),
      segment: segmentIndex,
      how: fc.constantFrom('pad' as const, 'extra-pad' as const, 'standard-alphabet' as const),
    }),
    fc.record({
      op: fc.constant('case' as const),
      segment: fc.oneof(segmentIndex, fc.constant('all' as const)),
      how: fc.constantFrom('upper' as const, 'lower' as const, 'toggle-one' as const),
      at: position,
    }),
    fc.record({
      op: fc.constant('edit' as const),
      part: fc.constant('header' as const),
      edits: fc.array(fc.tuple(headerName, headerValue), { minLength: 1, maxLength: 3 }),
      signing,
    }),
    fc.record({
      op: fc.constant('edit' as const),
      part: fc.constant('claims' as const),
      edits: fc.array(fc.tuple(claimName, claimValue), { minLength: 1, maxLength: 3 }),
      signing,
    }),
  );
}

function toggleCase(char: string): string {
  const upper = char.toUpperCase();
  return upper === char ? char.toLowerCase() : upper;
}

function decodedJson(part: string | undefined): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** `at` (see {@link position}) as an index into a string of `length` (> 0). */
function indexIn(length: number, at: number): number {
  return at < 0 ? Math.max(length + at, 0) : at % length;
}

/** `token` with `mutation` applied; a mutation that does not fit the token leaves it as it is. */
async function mutate(token: string, mutation: Mutation, keys: Keys): Promise<string> {
  const parts = token.split('.');
  const withPart = (index: number, change: (part: string) => string) => {
    const part = parts[index];
    if (part === undefined || part === '') return token;
    return parts.map((each, i) => (i === index ? change(part) : each)).join('.');
  };
  switch (mutation.op) {
    case 'replace-char':
      return withPart(mutation.segment, (part) => {
        const at = indexIn(part.length, mutation.at);
        return part.slice(0, at) + mutation.char + part.slice(at + 1);
      });
    case 'flip-bit':
      return withPart(mutation.segment, (part) => {
        const bytes = Buffer.from(part, 'base64url');
        if (bytes.length === 0) return part;
        const at = indexIn(bytes.length, mutation.at);
        bytes[at] = (bytes[at] as number) ^ (1 << mutation.bit);
        return bytes.toString('base64url');
      });
    case 'insert': {
      const at = indexIn(token.length + 1, mutation.at);
      return token.slice(0, at) + mutation.text + token.slice(at);
    }
    case 'delete': {
      const at = indexIn(Math.max(token.length, 1), mutation.at);
      return token.slice(0, at) + token.slice(at + mutation.count);
    }
    case 'append':
      return token + mutation.text;
    case 'prepend':
      return mutation.text + token;
    case 'segments':
      return mutation.order.map((index) => parts[index] ?? '').join('.');
    case 're-encode':
      return withPart(mutation.segment, (part) => {
        if (mutation.how === 'standard-alphabet') return part.replaceAll('-', '+').replaceAll('_', '/');
        const padding = '='.repeat((4 - (part.length % 4)) % 4);
        return mutation.how === 'pad' ? part + padding : `${part}${padding}==`;
      });
    case 'case': {
      const change = (part: string) => {
        if (mutation.how === 'upper') return part.toUpperCase();
        if (mutation.how === 'lower') return part.toLowerCase();
        const at = indexIn(part.length, mutation.at);
        return part.slice(0, at) + toggleCase(part.charAt(at)) + part.slice(at + 1);
      };
      return mutation.segment === 'all' ? change(token) : withPart(mutation.segment, change);
    }
    case 'edit': {
      const index = mutation.part === 'header' ? 0 : 1;
      const json = decodedJson(parts[index]);
      if (json === undefined) return token;
      for (const [name, value] of mutation.edits) {
        if (value === undefined) delete json[name];
        else json[name] = value;
      }
      const edited = parts.map((each, i) => (i === index ? segment(json) : each));
      const input = `${edited[0]}.${edited[1] ?? ''}`;
      switch (mutation.signing) {
        case 'original':
          return `${input}.${parts[2] ?? ''}`;
        case 'empty':
          return `${input}.`;
        case 'attacker-eddsa':
          return `${input}.${await signWith(keys.attacker, input)}`;
        case 'attacker-es256':
          return `${input}.${await signWith(keys.attackerEs, input)}`;
        case 'hs256-public-key': {
          const secret = keys.real.publicJwk.x as string;
          return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
        }
      }
    }
  }
}

/** A genuine token of one kind, and how the service that receives it verifies it. */
interface TokenKind {
  readonly name: string;
  readonly token: string;
  /** The verifier for one case: a fresh replay store for single-use kinds. */
  verifierForCase(): TokenVerifier;
}

describe('a mutated token', () => {
  let keys: Keys;
  let kinds: TokenKind[];

  beforeAll(async () => {
    keys = {
      real: await ed25519KeyFrom('jwt-handoff property tests: issuer key'),
      attacker: await ed25519KeyFrom('jwt-handoff property tests: attacker key'),
      // ECDSA signatures are randomised: tokens of these keys differ from run to run. Their
      // (r, n - s) re-spelling is beyond these mutations; the replay store answers it (keyed on
      // the jti), as test/unit/verifier.test.ts shows.
      realEs: await generateTestKey('ES256'),
      attackerEs: await generateTestKey('ES256'),
    };
    const clock = testClock();
    const options = (profile: TokenProfile): VerifierOptions => ({
      profile,
      issuer: ISSUER,
      audience: AUDIENCE,
      // Both algorithms, so that an attacker's ES256 signature reaches the signature check.
      algorithms: ['EdDSA', 'ES256'],
      keySource: createLocalKeySource(jwksOf(keys.real, keys.realEs)),
      replayStore: createMemoryReplayStore(clock.now),
      now: clock.now,
    });
    // Single-use tokens get a fresh replay store per case, so that no check uses up the genuine
    // token; the service verifier is reusable and keeps its verified-token cache across cases.
    const singleUse = (profile: TokenProfile) => () => createVerifier(options(profile));
    const serviceVerifier = createVerifier(options(SERVICE_PROFILE));
    const fixed = { jti: 'property-test-jti' };
    kinds = [
      {
        name: 'handoff (EdDSA)',
        token: await mintToken(keys.real, handoffClaims(fixed), 'handoff+jwt'),
        verifierForCase: singleUse(HANDOFF_PROFILE),
      },
      {
        name: 'handoff (ES256)',
        token: await mintToken(keys.realEs, handoffClaims(fixed), 'handoff+jwt'),
        verifierForCase: singleUse(HANDOFF_PROFILE),
      },
      {
        name: 'logout (EdDSA)',
        token: await mintToken(keys.real, logoutClaims(fixed), 'logout+jwt'),
        verifierForCase: singleUse(LOGOUT_PROFILE),
      },
      {
        name: 'service (EdDSA)',
        token: await mintToken(keys.real, serviceClaims(fixed), 'service+jwt'),
        verifierForCase: () => serviceVerifier,
      },
    ];
  });

  it('verifies, unmutated, for each kind (the property below is not vacuous)', async () => {
    for (const kind of kinds) {
      expect(await kind.verifierForCase()(kind.token), kind.name).toMatchObject({ ok: true });
    }
  });

  it(
    'never verifies unless it is the same string, and the verifier never throws (10,000 cases)',
    async () => {
      const kindIndex = fc.nat(kinds.length - 1);
      const mutations = fc.array(mutationArbitrary(keys), { minLength: 1, maxLength: 3 });
      await fc.assert(
        fc.asyncProperty(kindIndex, mutations, async (index, changes) => {
          const kind = kinds[index] as TokenKind;
          let token = kind.token;
          for (const change of changes) token = await mutate(token, change, keys);

          const result = await kind.verifierForCase()(token);

          const what = `${kind.name} token mutated into ${JSON.stringify(token)}`;
          if (token === kind.token) {
            expect(result, what).toMatchObject({ ok: true });
            return;
          }
          expect(result.ok, what).toBe(false);
          if (!result.ok) expect(TOKEN_REASONS, what).toContain(result.reason);
        }),
        runOptions(10_000),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
