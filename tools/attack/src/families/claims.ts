import { type Attack, notRun, type Outcome, succeeded } from '../attack.js';
import type { AttackContext } from '../context.js';
import { judgeRefusal, worstOf } from '../judge.js';
import { compact, decodeJws, segment } from '../jws/compact.js';
import { signJws } from '../jws/sign.js';
import { hasServer2Session, postToken } from '../session/handoff-walk.js';
import { apiCall, atCallback, backchannelPost, usedToken, WHERE } from '../targets.js';
import { tokenForAnotherClient } from './another-client.js';

// A token re-signed with the attacker's key must be refused for its signature whatever its claims
// say: a claim reason here would mean claims are read before the signature is checked.
const SIG = ['invalid_signature'];

/** A handoff token with `change` applied to its claims, re-signed with the attacker's key under the real kid. */
function resigned(
  id: string,
  title: string,
  change: (claims: Record<string, unknown>, context: AttackContext) => void,
  typ = 'handoff+jwt',
): Attack {
  return {
    id: `resigned-${id}`,
    family: 'claims',
    title: `re-signed, ${title}`,
    where: WHERE.callback,
    expected: '400 invalid_signature',
    run: (context) =>
      atCallback(context, SIG, (nonce) => {
        const claims = context.forge.handoffClaims(nonce);
        change(claims, context);
        return signJws(
          context.forge.header(typ, typ ? {} : { typ: undefined }),
          claims,
          context.forge.sameAlgKey.signer,
        );
      }),
  };
}

const now = () => Math.floor(Date.now() / 1000);

/** A real token for `nonce` whose payload was edited, the original signature kept. */
async function tampered(
  context: AttackContext,
  nonce: string,
  change: (claims: Record<string, unknown>) => void,
) {
  const { payload, segments } = decodeJws(await context.tokens.forState(nonce));
  change(payload);
  return compact(segments[0], segment(payload), segments[2]);
}

/** RFC 7519 section 7.2, RFC 8725 sections 3.8-3.12: claims, and which kind of token this is. */
export const claimsAttacks: readonly Attack[] = [
  resigned('expired', 'expired an hour ago', (c) =>
    Object.assign(c, { iat: now() - 3660, exp: now() - 3600 }),
  ),
  resigned('not-yet-valid', 'nbf an hour ahead', (c) => Object.assign(c, { nbf: now() + 3600 })),
  resigned('issued-in-future', 'iat an hour ahead', (c) =>
    Object.assign(c, { iat: now() + 3600, exp: now() + 3660 }),
  ),
  resigned('lifetime-a-day', 'living a day', (c) => Object.assign(c, { exp: now() + 86_400 })),
  resigned('no-exp', 'without exp', (c) => delete c.exp),
  resigned('no-jti', 'without jti', (c) => delete c.jti),
  resigned('no-sub', 'without sub', (c) => delete c.sub),
  resigned('no-nonce', 'without nonce', (c) => delete c.nonce),
  resigned('foreign-iss', 'iss of another issuer', (c) =>
    Object.assign(c, { iss: 'https://issuer.evil.example' }),
  ),
  resigned('foreign-aud', 'aud of another client', (c) => Object.assign(c, { aud: 'evil-client' })),
  resigned('aud-array', 'aud [server2, another client]', (c, context) =>
    Object.assign(c, { aud: [context.deployment.clientId, 'evil-client'] }),
  ),
  resigned('other-user', 'sub of another user', (c) => Object.assign(c, { sub: 'admin', name: 'Admin' })),
  resigned('typ-service', 'typ service+jwt', () => undefined, 'service+jwt'),
  resigned('typ-logout', 'typ logout+jwt', () => undefined, 'logout+jwt'),
  resigned('typ-missing', 'no typ', () => undefined, ''),
  {
    id: 'resigned-service-token',
    family: 'claims',
    title: 're-signed service token with scope activity:read',
    where: WHERE.api,
    expected: '401 invalid_signature',
    run: async (context) =>
      judgeRefusal(
        await apiCall(
          context,
          signJws(
            context.forge.header('service+jwt'),
            context.forge.serviceClaims(),
            context.forge.sameAlgKey.signer,
          ),
        ),
        SIG,
      ),
  },
  {
    id: 'resigned-logout-token',
    family: 'claims',
    title: "re-signed logout token for the user's sessions",
    where: WHERE.backchannel,
    expected: '400 invalid_signature',
    run: async (context) =>
      judgeRefusal(
        await backchannelPost(
          context,
          signJws(
            context.forge.header('logout+jwt'),
            context.forge.logoutClaims(),
            context.forge.sameAlgKey.signer,
          ),
        ),
        SIG,
      ),
  },
  {
    id: 'tampered-sub',
    family: 'claims',
    title: 'real token, sub changed, signature kept',
    where: WHERE.callback,
    expected: '400 invalid_signature',
    run: (context) =>
      atCallback(context, SIG, (nonce) =>
        tampered(context, nonce, (c) => Object.assign(c, { sub: 'admin' })),
      ),
  },
  {
    id: 'tampered-exp',
    family: 'claims',
    title: 'real token, exp a day later, signature kept',
    where: WHERE.callback,
    expected: '400 invalid_signature',
    run: (context) =>
      atCallback(context, SIG, (nonce) =>
        tampered(context, nonce, (c) => Object.assign(c, { exp: Number(c.exp) + 86_400 })),
      ),
  },
  {
    id: 'replayed',
    family: 'claims',
    title: 'real token posted a second time',
    where: WHERE.callback,
    expected: '400 token_replayed',
    run: async (context) => {
      const token = await usedToken(context);
      return atCallback(context, ['token_replayed'], () => token);
    },
  },
  {
    id: 'handoff-as-bearer',
    family: 'claims',
    title: 'real handoff token as a Bearer token for the API',
    where: WHERE.api,
    expected: '401 invalid_type',
    run: async (context) => {
      const response = await apiCall(context, await context.tokens.fresh());
      // A 403 insufficient_scope means it passed as a service token and only its scope stopped it.
      return judgeRefusal(response, ['invalid_type']);
    },
  },
  {
    id: 'handoff-as-logout',
    family: 'claims',
    title: 'real handoff token posted as a logout token',
    where: WHERE.backchannel,
    expected: "400 invalid_type, the user's session kept",
    run: async (context) => {
      const outcome = judgeRefusal(await backchannelPost(context, await context.tokens.fresh()), [
        'invalid_type',
      ]);
      if (await hasServer2Session(context.attacker, context.deployment.server2)) return outcome;
      return worstOf([outcome, succeeded("the user's server2 session was ended")]);
    },
  },
  {
    id: 'other-audience',
    family: 'claims',
    title: "real token minted for another client (from server1's dashboard)",
    where: WHERE.callback,
    expected: '400 invalid_audience',
    run: async (context) => {
      const other = await tokenForAnotherClient(context);
      if (typeof other === 'string') return notRun(other);
      return atCallback(context, ['invalid_audience'], () => other.token);
    },
  },
  {
    id: 'expired',
    family: 'claims',
    title: 'real token posted after it expired',
    where: WHERE.callback,
    expected: '400 token_expired',
    phase: 'late',
    run: (context) => expired(context),
  },
];

/**
 * Posts the token kept since sign-in once it is past `exp` plus the assumed leeway, waiting for
 * that only when it fits in `--max-wait`: against a deployment whose tokens live a minute, the
 * run would rather say so than take over a minute.
 */
async function expired(context: AttackContext): Promise<Outcome> {
  const { leewaySec, maxWaitSec } = context.settings;
  const exp = Number(decodeJws(context.expiring).payload.exp);
  const waitMs = (exp + leewaySec + 1) * 1000 - Date.now();
  if (waitMs > maxWaitSec * 1000) {
    return notRun(
      `tokens live ${context.deployment.tokenLifetimeSec} s (+${leewaySec} s leeway): ${Math.ceil(waitMs / 1000)} s more to wait, over --max-wait ${maxWaitSec}`,
    );
  }
  if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  const browser = context.newBrowser();
  const response = await postToken(browser, context.deployment.callbackUrl, context.expiring);
  const outcome = judgeRefusal(response, ['token_expired']);
  return { ...outcome, got: `${outcome.got} (${Math.round(Date.now() / 1000 - exp)} s after exp)` };
}
