import { randomBytes } from 'node:crypto';
import { type Attack, type Outcome, refused, succeeded, unexpected } from '../attack.js';
import { CannotTestError } from '../cannot-test.js';
import type { AttackContext } from '../context.js';
import { describe } from '../http/answer.js';
import type { Browser } from '../http/browser.js';
import { isDeletion, parseSetCookie } from '../http/cookie-jar.js';
import type { HttpResponse } from '../http/recording-client.js';
import { judgeRefusal } from '../judge.js';
import {
  complete,
  formPostOf,
  hasServer1Session,
  hasServer2Session,
  postToken,
} from '../session/handoff-walk.js';
import { signInAtServer1 } from '../session/server1-sign-in.js';
import { WHERE } from '../targets.js';

/** A refusal of server1's authorize endpoint: a 400 page, never a redirect and never a token. */
export function judgeNoRedirect(response: HttpResponse, reasons: readonly string[]): Outcome {
  if (response.headers.location !== undefined) return succeeded(`${describe(response)} (redirected)`);
  if (formPostOf(response)) return succeeded(`${response.status}: a token was minted`);
  return judgeRefusal(response, reasons);
}

/** The attacker's token (for its own state) completed in a victim's browser: OAuth login CSRF. */
async function loginCsrf(context: AttackContext, victimStartedAHandoff: boolean): Promise<Outcome> {
  const victim = context.newBrowser();
  if (victimStartedAHandoff) await context.tokens.stateOf(victim);
  const callback = await postToken(victim, context.deployment.callbackUrl, await context.tokens.fresh());
  if (callback.status >= 400) return judgeRefusal(callback, []);
  const completion = await complete(victim, callback);
  if (await hasServer2Session(victim, context.deployment.server2)) {
    return succeeded(
      `the victim's browser is signed in to the attacker's account (${completion ? describe(completion) : '-'})`,
    );
  }
  return completion ? judgeRefusal(completion, ['state_mismatch']) : refused(describe(callback));
}

/** A browser that has started a handoff, a real token for its state, and the callback's answer to it. */
async function postedHandoff(context: AttackContext): Promise<{ browser: Browser; completeUrl: string }> {
  const browser = context.newBrowser();
  const token = await context.tokens.forState(await context.tokens.stateOf(browser));
  const callback = await postToken(browser, context.deployment.callbackUrl, token);
  if (callback.headers.location === undefined)
    throw new CannotTestError(`server2 refused a real token: ${describe(callback)}`);
  return { browser, completeUrl: new URL(callback.headers.location, callback.url).href };
}

/** The value a response sets for cookie `name`, if it sets it. */
function issuedCookie(response: HttpResponse, name: string): string | undefined {
  const cookie = response.setCookies.map(parseSetCookie).find((candidate) => candidate.name === name);
  return cookie && !isDeletion(cookie) ? cookie.value : undefined;
}

const planted = () => randomBytes(32).toString('base64url');

function flow(attack: Omit<Attack, 'family'>): Attack {
  return { ...attack, family: 'flow' };
}

/** RFC 9700 section 4.7 (CSRF), OWASP Session Management: the handoff's state, txn and session ids. docs/attack-self-test.md. */
export const handoffFlowAttacks: readonly Attack[] = [
  flow({
    id: 'login-csrf-pending-handoff',
    title: "attacker's token completed in a victim's browser that started its own handoff",
    where: 'server2 /handoff/callback, /handoff/complete',
    expected: '400 state_mismatch, no session',
    run: (context) => loginCsrf(context, true),
  }),
  flow({
    id: 'login-csrf-no-handoff',
    title: "attacker's token completed in a victim's browser with no handoff",
    where: 'server2 /handoff/callback, /handoff/complete',
    expected: '400 state_mismatch, no session',
    run: (context) => loginCsrf(context, false),
  }),
  flow({
    id: 'token-in-get-query',
    title: 'real token in the URL: GET /handoff/callback?token=…',
    where: 'server2 GET /handoff/callback',
    expected: '4xx, no session',
    async run(context) {
      const browser = context.newBrowser();
      const token = await context.tokens.forState(await context.tokens.stateOf(browser));
      const page = await browser.follow(
        await browser.get(`${context.deployment.callbackUrl}?token=${token}`),
      );
      if (await hasServer2Session(browser, context.deployment.server2))
        return succeeded(`${describe(page)}, signed in`);
      return page.status >= 400
        ? judgeRefusal(page, [])
        : unexpected(`${describe(page)} (no session, but not refused)`);
    },
  }),
  flow({
    id: 'token-in-post-query',
    title: 'real token in the query of an empty POST',
    where: WHERE.callback,
    expected: '400 token_missing, no session',
    async run(context) {
      const browser = context.newBrowser();
      const token = await context.tokens.forState(await context.tokens.stateOf(browser));
      const response = await browser.post(
        `${context.deployment.callbackUrl}?token=${token}`,
        {},
        { origin: 'null' },
      );
      const outcome = judgeRefusal(response, ['token_missing']);
      if (outcome.verdict !== 'succeeded') return outcome;
      await complete(browser, response);
      return (await hasServer2Session(browser, context.deployment.server2))
        ? succeeded(`${outcome.got}, signed in`)
        : outcome;
    },
  }),
  flow({
    id: 'txn-reused',
    title: 'a completed txn opened again',
    where: 'server2 GET /handoff/complete',
    expected: '400 txn_unknown',
    async run(context) {
      const { browser, completeUrl } = await postedHandoff(context);
      const first = await browser.get(completeUrl);
      if (first.status >= 400)
        throw new CannotTestError(`a real handoff did not complete: ${describe(first)}`);
      return judgeRefusal(await browser.get(completeUrl), ['txn_unknown']);
    },
  }),
  flow({
    id: 'txn-stolen',
    title: "a victim's txn opened first in the attacker's browser",
    where: 'server2 GET /handoff/complete',
    expected: '400 state_mismatch | txn_unknown, no session',
    async run(context) {
      const { completeUrl } = await postedHandoff(context);
      const thief = context.newBrowser();
      const response = await thief.get(completeUrl);
      if (await hasServer2Session(thief, context.deployment.server2))
        return succeeded(`${describe(response)}, the thief is signed in`);
      return judgeRefusal(response, ['state_mismatch', 'txn_unknown']);
    },
  }),
  flow({
    id: 'session-fixation-server2',
    title: 'a planted s2 session id survives the handoff',
    where: 'server2 GET /handoff/complete',
    expected: 'a new session id; the planted one not signed in',
    async run(context) {
      const { server2, cookies } = context.deployment;
      const browser = context.newBrowser();
      const value = planted();
      browser.cookies.set(server2, cookies.s2Session, value);
      const completion = await context.tokens.signIn(browser);
      return fixationOutcome(issuedCookie(completion, cookies.s2Session), value, () => {
        const other = context.newBrowser();
        other.cookies.set(server2, cookies.s2Session, value);
        return hasServer2Session(other, server2);
      });
    },
  }),
  flow({
    id: 'session-fixation-server1',
    title: 'a planted s1 session id survives sign-in',
    where: 'server1 POST /login',
    expected: 'a new session id; the planted one not signed in',
    async run(context) {
      const { server1, cookies } = context.deployment;
      const browser = context.newBrowser();
      const value = planted();
      browser.cookies.set(server1, cookies.s1Session, value);
      const signedIn = await signInAtServer1(browser, server1, context.settings.credentials);
      return fixationOutcome(issuedCookie(signedIn, cookies.s1Session), value, () => {
        const other = context.newBrowser();
        other.cookies.set(server1, cookies.s1Session, value);
        return hasServer1Session(other, server1);
      });
    },
  }),
  flow({
    id: 'authorize-unknown-client',
    title: 'authorize with an unregistered client_id',
    where: 'server1 GET /handoff/authorize',
    expected: '400 invalid_client, no redirect',
    run: async (context) =>
      judgeNoRedirect(await authorize(context, { client_id: 'evil-client' }), ['invalid_client']),
  }),
  flow({
    id: 'authorize-no-state',
    title: 'authorize without a state',
    where: 'server1 GET /handoff/authorize',
    expected: '400 state_missing, no redirect',
    run: async (context) =>
      judgeNoRedirect(await authorize(context, { state: undefined }), ['state_missing']),
  }),
];

async function fixationOutcome(
  issued: string | undefined,
  value: string,
  plantedSignedIn: () => Promise<boolean>,
) {
  if (await plantedSignedIn()) return succeeded('the planted session id is signed in');
  if (issued === value) return succeeded('the planted id was kept');
  return issued === undefined
    ? unexpected('no session cookie was set')
    : refused('a new id was issued; the planted one is not signed in');
}

/** server1's authorize endpoint, signed in, with server2's parameters changed by `changes`. */
export function authorize(
  context: AttackContext,
  changes: Record<string, string | undefined>,
): Promise<HttpResponse> {
  const { authorizeEndpoint, clientId, callbackUrl } = context.deployment;
  const parameters: Record<string, string | undefined> = {
    client_id: clientId,
    redirect_uri: callbackUrl,
    state: planted(),
    ...changes,
  };
  const query = new URLSearchParams(
    Object.entries(parameters).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return context.attacker.get(`${authorizeEndpoint}?${query}`);
}
