import { randomBytes } from 'node:crypto';
import { type Attack, type Outcome, refused, succeeded } from '../attack.js';
import type { AttackContext } from '../context.js';
import { judgeRefusal, worstOf } from '../judge.js';
import { selfSignedCertificate } from '../jws/self-signed-cert.js';
import { signJws } from '../jws/sign.js';
import { postToken } from '../session/handoff-walk.js';
import { atCallback, WHERE } from '../targets.js';
import { jwksFetchesPerCooldown } from './jwks-fetch-count.js';

const UNKNOWN = ['unknown_kid'];
const SIG = ['invalid_signature'];
const KID_OR_ALG = ['unknown_kid', 'unsupported_alg'];

type Header = (context: AttackContext) => Record<string, unknown>;

/** A token signed by the attacker's key (or by `hmacSecret`) under `header`, posted to the callback. */
function forged(
  id: string,
  title: string,
  reasons: readonly string[],
  header: Header,
  hmacSecret?: string,
): Attack {
  return {
    id,
    family: 'key-selection',
    title,
    where: WHERE.callback,
    expected: `400 ${reasons.join(' | ')}`,
    run: (context) =>
      atCallback(context, reasons, (nonce) =>
        signJws(
          header(context),
          context.forge.handoffClaims(nonce),
          hmacSecret === undefined
            ? context.forge.sameAlgKey.signer
            : { kind: 'HMAC', secret: Buffer.from(hmacSecret) },
        ),
      ),
  };
}

/** A header naming the attacker's key by `kid`, with `extra` members. */
const withKid =
  (kid: unknown, extra: Record<string, unknown> = {}): Header =>
  (context) =>
    context.forge.header('handoff+jwt', { kid, ...extra });

/** Like {@link forged}, and the attacker's server must not have been asked for `path`. */
function fetchedFromAttacker(id: string, title: string, path: string, header: Header): Attack {
  const attack = forged(id, title, UNKNOWN, header);
  return {
    ...attack,
    expected: `${attack.expected}, ${path} never fetched`,
    async run(context) {
      const before = context.listener.requested.length;
      const outcome = await attack.run(context);
      // A fetch could still be on its way after the answer.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const fetched = context.listener.requested.slice(before).filter((requested) => requested === path);
      if (fetched.length === 0) return outcome;
      return worstOf([outcome, succeeded(`server2 fetched the attacker's ${path} (${fetched.length}x)`)]);
    },
  };
}

function certificateOf(context: AttackContext): Buffer {
  const key = context.forge.sameAlgKey;
  return selfSignedCertificate(key.publicKey, key.privateKey, 'attacker.invalid');
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

/** RFC 8725 section 3.10 and RFC 7515 section 4.1.2-4.1.6: the verifier picks the key, never the token. */
export const keySelectionAttacks: readonly Attack[] = [
  forged(
    'jwk-embedded',
    "embedded jwk header (the attacker's key), no kid",
    [...UNKNOWN, ...SIG],
    (context) =>
      context.forge.header('handoff+jwt', { kid: undefined, jwk: context.forge.sameAlgKey.publicJwk }),
  ),
  forged('jwk-embedded-real-kid', 'embedded jwk header under the real kid', SIG, (context) =>
    context.forge.header('handoff+jwt', { jwk: context.forge.sameAlgKey.publicJwk }),
  ),
  forged('jwk-embedded-own-kid', "embedded jwk header under the attacker's kid", UNKNOWN, (context) =>
    context.forge.header('handoff+jwt', {
      kid: context.forge.sameAlgKey.publicJwk.kid,
      jwk: context.forge.sameAlgKey.publicJwk,
    }),
  ),
  fetchedFromAttacker('jku', "jku header: the attacker's JWKS URL", '/jwks.json', (context) =>
    context.forge.header('handoff+jwt', {
      kid: context.forge.sameAlgKey.publicJwk.kid,
      jku: context.listener.url('/jwks.json'),
    }),
  ),
  fetchedFromAttacker('x5u', "x5u header: the attacker's certificate URL", '/cert.pem', (context) =>
    context.forge.header('handoff+jwt', { kid: undefined, x5u: context.listener.url('/cert.pem') }),
  ),
  forged(
    'x5c',
    "x5c header: a self-signed certificate of the attacker's key, no kid",
    [...UNKNOWN, ...SIG],
    (context) =>
      context.forge.header('handoff+jwt', {
        kid: undefined,
        x5c: [certificateOf(context).toString('base64')],
      }),
  ),
  forged('x5c-real-kid', 'x5c header under the real kid', SIG, (context) =>
    context.forge.header('handoff+jwt', { x5c: [certificateOf(context).toString('base64')] }),
  ),
  forged(
    'kid-traversal-dev-null',
    'kid ../../../../../../dev/null, HS256 with an empty key',
    KID_OR_ALG,
    withKid('../../../../../../dev/null', { alg: 'HS256' }),
    '',
  ),
  forged('kid-absolute-dev-null', "kid /dev/null, the attacker's key", UNKNOWN, withKid('/dev/null')),
  forged(
    'kid-traversal-passwd',
    "kid ../../../../etc/passwd, the attacker's key",
    UNKNOWN,
    withKid('../../../../etc/passwd'),
  ),
  forged('kid-sql-tautology', "kid ' OR '1'='1", UNKNOWN, withKid("' OR '1'='1")),
  forged(
    'kid-sql-union',
    "kid x' UNION SELECT 'secret' --, HS256 keyed 'secret'",
    KID_OR_ALG,
    withKid("x' UNION SELECT 'secret' -- ", { alg: 'HS256' }),
    'secret',
  ),
  forged('kid-sql-stacked', 'kid 1; DROP TABLE keys; --', UNKNOWN, withKid('1; DROP TABLE keys; --')),
  timed(forged('kid-command-substitution', 'kid $(sleep 5)', UNKNOWN, withKid('$(sleep 5)'))),
  timed(forged('kid-command-chain', 'kid `sleep 5`; id', UNKNOWN, withKid('`sleep 5`; id'))),
  forged('kid-not-a-string', 'kid as a JSON object', [...UNKNOWN, 'token_malformed'], withKid({ $ne: null })),
  forged(
    'kid-oversized',
    'kid of 2000 characters',
    [...UNKNOWN, 'token_malformed'],
    withKid('k'.repeat(2000)),
  ),
  forged('kid-missing', "no kid, the attacker's key", UNKNOWN, withKid(undefined)),
  {
    id: 'unknown-kids',
    family: 'key-selection',
    title: '10 tokens under random unknown kids',
    where: WHERE.callback,
    expected: '400 unknown_kid (each)',
    async run(context) {
      const outcomes: Outcome[] = [];
      for (let i = 0; i < 10; i++) outcomes.push(await unknownKidToken(context));
      return worstOf(outcomes);
    },
  },
  {
    id: 'unknown-kid-fetches',
    family: 'key-selection',
    title: 'unknown kids cause at most one JWKS fetch per cool-down',
    where: `${WHERE.callback}, server1 /metrics`,
    expected: '≤ 1 JWKS fetch for 10 unknown kids',
    run: (context) => jwksFetchesPerCooldown(context, () => unknownKidToken(context), 10),
  },
  {
    id: 'jwks-public-only',
    family: 'key-selection',
    title: 'the JWKS publishes public key members only',
    where: 'server1 GET /.well-known/jwks.json',
    expected: `no ${PRIVATE_MEMBERS.join(', ')}`,
    async run(context) {
      const leaks = context.deployment.jwks.flatMap((key) =>
        PRIVATE_MEMBERS.filter((member) => (key as Record<string, unknown>)[member] !== undefined).map(
          (m) => `${key.kid}: ${m}`,
        ),
      );
      return leaks.length === 0
        ? refused(`${context.deployment.jwks.length} key(s), public members only`)
        : succeeded(`private members published: ${leaks.join(', ')}`);
    },
  },
];

async function unknownKidToken(context: AttackContext): Promise<Outcome> {
  const browser = context.newBrowser();
  const nonce = await context.tokens.stateOf(browser);
  const header = context.forge.header('handoff+jwt', { kid: randomBytes(32).toString('base64url') });
  const token = signJws(header, context.forge.handoffClaims(nonce), context.forge.sameAlgKey.signer);
  return judgeRefusal(await postToken(browser, context.deployment.callbackUrl, token), UNKNOWN);
}

// A kid that reaches a shell would make the answer wait for `sleep 5`.
function timed(attack: Attack): Attack {
  return {
    ...attack,
    expected: `${attack.expected}, in under 4 s`,
    async run(context) {
      const started = performance.now();
      const outcome = await attack.run(context);
      const seconds = (performance.now() - started) / 1000;
      if (seconds < 4) return outcome;
      return worstOf([outcome, succeeded(`answered after ${seconds.toFixed(1)} s: the kid reached a shell`)]);
    },
  };
}
