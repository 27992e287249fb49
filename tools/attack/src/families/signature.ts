import type { Attack } from '../attack.js';
import type { AttackContext } from '../context.js';
import { judgeRefusal } from '../judge.js';
import { compact, decodeJws, segment } from '../jws/compact.js';
import { secretForm } from '../jws/published-key.js';
import { ed25519SPlusL, es256HighS, withSpareBits } from '../jws/respell.js';
import { signJws } from '../jws/sign.js';
import { apiCall, atCallback, backchannelPost, usedToken, WHERE } from '../targets.js';

// Forged signatures are refused at the algorithm, key or signature step; which one depends on the
// forgery, but never on a claim.
const ALG = ['unsupported_alg'];
const SIG = ['invalid_signature'];
const ALG_OR_SIG = ['unsupported_alg', 'invalid_signature'];
const SHAPE_OR_SIG = ['invalid_signature', 'token_malformed'];

type Build = (context: AttackContext, nonce: string) => string | Promise<string>;

function atTheCallback(id: string, title: string, reasons: readonly string[], build: Build): Attack {
  return {
    id,
    family: 'signature',
    title,
    where: WHERE.callback,
    expected: `400 ${reasons.join(' | ')}`,
    run: (context) => atCallback(context, reasons, (nonce) => build(context, nonce)),
  };
}

/** A handoff token for `nonce` with `header`, its signature `signature` (base64url, may be empty). */
function unsigned(
  context: AttackContext,
  nonce: string,
  header: Record<string, unknown>,
  signature = '',
): string {
  return compact(segment(header), segment(context.forge.handoffClaims(nonce)), signature);
}

/** A real token, minted for `nonce`, with its signature segment replaced by `change(signature)`. */
async function realWithSignature(
  context: AttackContext,
  nonce: string,
  change: (signature: string) => string,
) {
  const [header, payload, signature] = decodeJws(await context.tokens.forState(nonce)).segments;
  return compact(header, payload, change(signature));
}

const noneSpellings = ['none', 'None', 'NONE', 'nOnE'].map((alg) =>
  atTheCallback(
    `alg-${alg}`,
    `alg "${alg}", no signature`,
    ['unsupported_alg', 'token_malformed'],
    (context, nonce) => unsigned(context, nonce, context.forge.header('handoff+jwt', { alg })),
  ),
);

const hmacWithPublicKey = (): Attack[] => {
  const attacks = ['jwk-json', 'jwk-members', 'pem', 'pem-trimmed', 'der', 'raw'].map((form) =>
    atTheCallback(
      `hs256-public-key-${form}`,
      `HS256 keyed with the published public key: ${form}`,
      ALG,
      (context, nonce) =>
        signJws(context.forge.header('handoff+jwt', { alg: 'HS256' }), context.forge.handoffClaims(nonce), {
          kind: 'HMAC',
          secret: secretForm(context.deployment.signingKey, form),
        }),
    ),
  );
  attacks.push(
    atTheCallback(
      'hs512-public-key-pem',
      'HS512 keyed with the published public key: pem',
      ALG,
      (context, nonce) =>
        signJws(context.forge.header('handoff+jwt', { alg: 'HS512' }), context.forge.handoffClaims(nonce), {
          kind: 'HMAC',
          secret: secretForm(context.deployment.signingKey, 'pem'),
        }),
    ),
  );
  return attacks;
};

/** The same single-use token, already used once, spelled another way by `respell`. */
function respelled(
  id: string,
  title: string,
  reasons: readonly string[],
  respell: (context: AttackContext, signature: string) => string,
): Attack {
  return atTheCallback(id, title, reasons, async (context) => {
    const [header, payload, signature] = decodeJws(await usedToken(context)).segments;
    return compact(header, payload, respell(context, signature));
  });
}

/** The key tokens of the other two kinds: the API's service tokens and the back-channel's logout tokens. */
function otherEndpoints(): Attack[] {
  const kinds = [
    { kind: 'service', typ: 'service+jwt', where: WHERE.api, status: '401' },
    { kind: 'logout', typ: 'logout+jwt', where: WHERE.backchannel, status: '400' },
  ] as const;
  return kinds.flatMap(({ kind, typ, where, status }) => {
    const claims = (context: AttackContext) =>
      kind === 'service' ? context.forge.serviceClaims() : context.forge.logoutClaims();
    const send = (context: AttackContext, token: string) =>
      kind === 'service' ? apiCall(context, token) : backchannelPost(context, token);
    const forgeries: Array<[string, string, readonly string[], (context: AttackContext) => string]> = [
      [
        'alg-none',
        `${kind} token, alg "none"`,
        ['unsupported_alg', 'token_malformed'],
        (context) =>
          compact(segment(context.forge.header(typ, { alg: 'none' })), segment(claims(context)), ''),
      ],
      [
        'hs256-public-key-pem',
        `${kind} token, HS256 keyed with the public key (PEM)`,
        ALG,
        (context) =>
          signJws(context.forge.header(typ, { alg: 'HS256' }), claims(context), {
            kind: 'HMAC',
            secret: secretForm(context.deployment.signingKey, 'pem'),
          }),
      ],
      [
        'attacker-key-real-kid',
        `${kind} token, the attacker's key under the real kid`,
        SIG,
        (context) => signJws(context.forge.header(typ), claims(context), context.forge.sameAlgKey.signer),
      ],
    ];
    return forgeries.map(
      ([id, title, reasons, build]): Attack => ({
        id: `${kind}-${id}`,
        family: 'signature',
        title,
        where,
        expected: `${status} ${reasons.join(' | ')}`,
        run: async (context) => judgeRefusal(await send(context, build(context)), reasons),
      }),
    );
  });
}

/** RFC 8725 section 2.1 and 3.1-3.2: the signature, and the algorithm, are the verifier's to choose. */
export const signatureAttacks: readonly Attack[] = [
  ...noneSpellings,
  atTheCallback(
    'alg-missing',
    'no alg header, no signature',
    ['unsupported_alg', 'token_malformed'],
    (context, nonce) => unsigned(context, nonce, context.forge.header('handoff+jwt', { alg: undefined })),
  ),
  atTheCallback(
    'signature-stripped',
    'real token, signature stripped (header.payload.)',
    SHAPE_OR_SIG,
    (context, nonce) => realWithSignature(context, nonce, () => ''),
  ),
  atTheCallback(
    'signature-segment-missing',
    'real token, signature segment missing (header.payload)',
    ['token_malformed'],
    async (context, nonce) => (await realWithSignature(context, nonce, () => '')).slice(0, -1),
  ),
  atTheCallback(
    'signature-truncated',
    'real token, last 4 signature characters cut',
    SHAPE_OR_SIG,
    (context, nonce) => realWithSignature(context, nonce, (signature) => signature.slice(0, -4)),
  ),
  atTheCallback('signature-halved', 'real token, signature cut in half', SHAPE_OR_SIG, (context, nonce) =>
    realWithSignature(context, nonce, (signature) => signature.slice(0, Math.floor(signature.length / 2))),
  ),
  atTheCallback('signature-bit-flipped', 'real token, one signature bit flipped', SIG, (context, nonce) =>
    realWithSignature(
      context,
      nonce,
      (signature) => `${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`,
    ),
  ),
  ...hmacWithPublicKey(),
  atTheCallback(
    'attacker-key-real-kid',
    "the attacker's key (same alg) under the real kid",
    SIG,
    (context, nonce) =>
      signJws(
        context.forge.header('handoff+jwt'),
        context.forge.handoffClaims(nonce),
        context.forge.sameAlgKey.signer,
      ),
  ),
  atTheCallback(
    'attacker-key-other-alg',
    "the attacker's key of the other alg under the real kid",
    ALG_OR_SIG,
    (context, nonce) =>
      signJws(
        context.forge.header('handoff+jwt', { alg: context.forge.otherAlgKey.alg }),
        context.forge.handoffClaims(nonce),
        context.forge.otherAlgKey.signer,
      ),
  ),
  atTheCallback(
    'es256-psychic-raw',
    'ES256 psychic signature r=s=0 (CVE-2022-21449)',
    ALG_OR_SIG,
    (context, nonce) =>
      unsigned(
        context,
        nonce,
        context.forge.header('handoff+jwt', { alg: 'ES256' }),
        Buffer.alloc(64).toString('base64url'),
      ),
  ),
  atTheCallback(
    'es256-psychic-der',
    'ES256 psychic signature r=s=0, DER-encoded',
    [...ALG_OR_SIG, 'token_malformed'],
    (context, nonce) =>
      unsigned(
        context,
        nonce,
        context.forge.header('handoff+jwt', { alg: 'ES256' }),
        Buffer.from('3006020100020100', 'hex').toString('base64url'),
      ),
  ),
  atTheCallback('eddsa-zero-signature', 'EdDSA signature of 64 zero bytes', ALG_OR_SIG, (context, nonce) =>
    unsigned(
      context,
      nonce,
      context.forge.header('handoff+jwt', { alg: 'EdDSA' }),
      Buffer.alloc(64).toString('base64url'),
    ),
  ),
  respelled(
    'respelled-spare-bits',
    'used token re-spelled: spare base64url bits of the signature',
    ['token_replayed', ...SHAPE_OR_SIG],
    (_context, signature) => withSpareBits(signature) ?? signature,
  ),
  respelled(
    'respelled-malleable-s',
    'used token re-spelled: ES256 high-s (n - s) or EdDSA S + L',
    ['token_replayed', 'invalid_signature'],
    (context, signature) =>
      context.forge.alg === 'ES256' ? es256HighS(signature) : ed25519SPlusL(signature),
  ),
  ...otherEndpoints(),
];
