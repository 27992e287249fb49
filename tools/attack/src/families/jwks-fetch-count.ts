import { type Outcome, refused, succeeded } from '../attack.js';
import type { AttackContext } from '../context.js';
import { worstOf } from '../judge.js';

const METRIC = 'server1_jwks_requests_total';

/**
 * How many JWKS documents server1 has served, summed over its status labels, from its /metrics;
 * or why that cannot be seen (a deployment may keep /metrics private).
 */
async function jwksServed(context: AttackContext): Promise<number | string> {
  const response = await context.http
    .send('GET', `${context.deployment.server1}/metrics`)
    .catch((err: Error) => err);
  if (response instanceof Error) return `server1 /metrics: ${response.message}`;
  if (response.status !== 200) return `server1 /metrics answered ${response.status}`;
  const values = [...response.body.matchAll(new RegExp(`^${METRIC}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'gm'))];
  if (values.length === 0) return `server1 /metrics has no ${METRIC}`;
  return values.reduce((sum, match) => sum + Number(match[1]), 0);
}

/**
 * Sends `count` tokens under unknown kids in quick succession (well within one cool-down) and
 * counts the JWKS fetches they caused on server1: a verifier that refetches for every unknown
 * kid lets anyone turn it against its issuer. At most one fetch is allowed.
 */
export async function jwksFetchesPerCooldown(
  context: AttackContext,
  send: () => Promise<Outcome>,
  count: number,
): Promise<Outcome> {
  const before = await jwksServed(context);
  const outcomes: Outcome[] = [];
  for (let i = 0; i < count; i++) outcomes.push(await send());
  // A refetch may finish just after the last answer.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const after = await jwksServed(context);
  const refusals = worstOf(outcomes);
  if (refusals.verdict !== 'refused') return refusals;
  if (typeof before !== 'number' || typeof after !== 'number') {
    return {
      verdict: 'not-observable',
      got: `${count} refused; ${typeof before === 'string' ? before : after}`,
    };
  }
  const fetches = after - before;
  return fetches <= 1
    ? refused(`${fetches} JWKS fetch(es) for ${count} unknown kids`)
    : succeeded(`${fetches} JWKS fetches for ${count} unknown kids`);
}
