import type { Outcome } from './attack.js';
import { CannotTestError } from './cannot-test.js';
import type { AttackContext } from './context.js';
import { describe } from './http/answer.js';
import type { HttpResponse } from './http/recording-client.js';
import { judgeRefusal } from './judge.js';
import { complete, hasServer2Session, postToken } from './session/handoff-walk.js';

/** The endpoints that take tokens, as the table names them. */
export const WHERE = {
  callback: 'server2 POST /handoff/callback',
  api: 'server2 GET /api/users/:sub/activity',
  backchannel: 'server2 POST /backchannel-logout',
} as const;

/**
 * Posts a token to server2's callback from a new browser that has just started a handoff, the
 * token built for that browser's state (`build(nonce)`), so that an accepted forgery would also
 * complete. An accepted one is followed to /handoff/complete to show what it achieved.
 */
export async function atCallback(
  context: AttackContext,
  reasons: readonly string[],
  build: (nonce: string) => string | Promise<string>,
): Promise<Outcome> {
  const browser = context.newBrowser();
  const state = await context.tokens.stateOf(browser);
  const response = await postToken(browser, context.deployment.callbackUrl, await build(state));
  const outcome = judgeRefusal(response, reasons);
  if (outcome.verdict !== 'succeeded') return outcome;
  const completion = await complete(browser, response);
  const signedIn = await hasServer2Session(browser, context.deployment.server2);
  return {
    verdict: 'succeeded',
    got: `${describe(response)}; /handoff/complete ${completion ? describe(completion) : '-'}${signedIn ? ', signed in' : ''}`,
  };
}

/** Calls server2's activity API with `token` as a Bearer token, as another service would. */
export async function apiCall(context: AttackContext, token: string): Promise<HttpResponse> {
  const { server2, template } = context.deployment;
  return context.http.send(
    'GET',
    `${server2}/api/users/${encodeURIComponent(String(template.claims.sub))}/activity`,
    {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    },
  );
}

/** Posts `token` to server2's back-channel logout, as server1 would (no cookies, no Origin). */
export async function backchannelPost(context: AttackContext, token: string): Promise<HttpResponse> {
  return context.http.send('POST', `${context.deployment.server2}/backchannel-logout`, {
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ logout_token: token }).toString(),
  });
}

/** A real token, posted once by the attacker as a browser would: the one to replay or re-spell. */
export async function usedToken(context: AttackContext): Promise<string> {
  const token = await context.tokens.fresh();
  const response = await postToken(context.attacker, context.deployment.callbackUrl, token);
  if (response.status >= 400)
    throw new CannotTestError(`server2 refused a real token: ${describe(response)}`);
  await complete(context.attacker, response);
  return token;
}
