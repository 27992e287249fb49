import { type Attack, type Outcome, refused, succeeded } from '../attack.js';
import type { AttackContext } from '../context.js';
import { shorten } from '../http/answer.js';
import { parseForms } from '../http/html-form.js';
import type { HttpResponse } from '../http/recording-client.js';
import { complete, postToken, startHandoff } from '../session/handoff-walk.js';
import { submitSignIn } from '../session/server1-sign-in.js';
import { authorize, judgeNoRedirect } from './handoff-flow.js';
import { offSitePayloads, redirectUriPayloads } from './redirect-payloads.js';

/** Where a browser goes with `location` from a page at `pageUrl`; undefined when it cannot go anywhere. */
function destination(location: string, pageUrl: string): URL | undefined {
  try {
    return new URL(location, pageUrl);
  } catch {
    return undefined;
  }
}

/** One payload's result: undefined when it stayed on `origin`, else where it led. */
type Probe = (context: AttackContext, payload: string) => Promise<string | undefined>;

/** Tries every payload; refused when each stayed on the service's own origin. */
async function probeAll(context: AttackContext, payloads: readonly string[], probe: Probe): Promise<Outcome> {
  const escaped: string[] = [];
  for (const payload of payloads) {
    const where = await probe(context, payload);
    if (where !== undefined) escaped.push(`${JSON.stringify(payload)} → ${where}`);
  }
  if (escaped.length === 0) return refused(`all ${payloads.length} payloads stayed on the service`);
  return succeeded(`${escaped.length}/${payloads.length} left the site: ${shorten(escaped.join(', '), 600)}`);
}

/** Whether `response` redirects off `origin`, and where to. */
function offSiteRedirect(response: HttpResponse | undefined, origin: string): string | undefined {
  const location = response?.headers.location;
  if (!response || location === undefined) return undefined;
  const url = destination(location, response.url);
  return url && url.origin !== origin ? url.href : undefined;
}

const server2ReturnTo: Probe = async (context, payload) => {
  const { attacker, deployment, tokens } = context;
  const started = await startHandoff(attacker, deployment.server2, payload);
  // Refusing the payload outright is as good as falling back to a path of the service.
  if (!started) return undefined;
  const callback = await postToken(attacker, deployment.callbackUrl, await tokens.forState(started.state));
  return offSiteRedirect(await complete(attacker, callback), new URL(deployment.server2).origin);
};

const server1SignedInReturnTo: Probe = async (context, payload) => {
  const { server1 } = context.deployment;
  const response = await context.attacker.get(`${server1}/login?return_to=${encodeURIComponent(payload)}`);
  return offSiteRedirect(response, new URL(server1).origin);
};

// The form carries return_to into the POST; only a form that carries an off-site value is signed
// in through, to see whether the POST sanitises it on its own.
const server1FormReturnTo: Probe = async (context, payload) => {
  const { server1 } = context.deployment;
  const browser = context.newBrowser();
  const page = await browser.get(`${server1}/login?return_to=${encodeURIComponent(payload)}`);
  const field = parseForms(page.body).find((form) => form.fields.return_to !== undefined)?.fields.return_to;
  const url = field === undefined ? undefined : destination(field, page.url);
  if (!url || url.origin === new URL(server1).origin) return undefined;
  return offSiteRedirect(
    await submitSignIn(browser, page, context.settings.credentials),
    new URL(server1).origin,
  );
};

async function redirectUris(context: AttackContext): Promise<Outcome> {
  const payloads = redirectUriPayloads(context.deployment.callbackUrl);
  const accepted: string[] = [];
  for (const redirectUri of payloads) {
    const outcome = judgeNoRedirect(await authorize(context, { redirect_uri: redirectUri }), [
      'invalid_redirect_uri',
      'invalid_request',
    ]);
    if (outcome.verdict !== 'refused') accepted.push(`${JSON.stringify(redirectUri)}: ${outcome.got}`);
  }
  // The registered callback and a foreign one in the same query: the parameter is repeated.
  const { authorizeEndpoint, clientId, callbackUrl } = context.deployment;
  const query = new URLSearchParams([
    ['client_id', clientId],
    ['redirect_uri', callbackUrl],
    ['redirect_uri', 'https://evil.example/handoff/callback'],
    ['state', 'attack-state'],
  ]);
  const repeated = judgeNoRedirect(await context.attacker.get(`${authorizeEndpoint}?${query}`), [
    'invalid_redirect_uri',
    'invalid_request',
  ]);
  if (repeated.verdict !== 'refused') accepted.push(`redirect_uri repeated: ${repeated.got}`);
  const total = payloads.length + 1;
  if (accepted.length === 0) return refused(`all ${total} refused with a 400 page`);
  return succeeded(`${accepted.length}/${total} not refused: ${shorten(accepted.join(', '), 600)}`);
}

function flow(attack: Omit<Attack, 'family'>): Attack {
  return { ...attack, family: 'flow' };
}

/** RFC 9700 sections 4.1 and 4.11, OWASP Unvalidated Redirects and Forwards. docs/attack-self-test.md. */
export const openRedirectAttacks: readonly Attack[] = [
  flow({
    id: 'open-redirect-server2-return-to',
    title: `return_to after a completed handoff: ${offSitePayloads('http://x').length} encodings of another host`,
    where: 'server2 GET /handoff/start → /handoff/complete',
    expected: 'every redirect stays on server2',
    run: (context) => probeAll(context, offSitePayloads(context.deployment.server2), server2ReturnTo),
  }),
  flow({
    id: 'open-redirect-server1-login',
    title: `return_to of /login when signed in: ${offSitePayloads('http://x').length} encodings`,
    where: 'server1 GET /login',
    expected: 'every redirect stays on server1',
    run: (context) => probeAll(context, offSitePayloads(context.deployment.server1), server1SignedInReturnTo),
  }),
  flow({
    id: 'open-redirect-server1-login-form',
    title: `return_to carried by the sign-in form: ${offSitePayloads('http://x').length} encodings`,
    where: 'server1 GET|POST /login',
    expected: 'the form, and its POST, stay on server1',
    run: (context) => probeAll(context, offSitePayloads(context.deployment.server1), server1FormReturnTo),
  }),
  flow({
    id: 'redirect-uri-not-registered',
    title: `redirect_uri not exactly registered: ${redirectUriPayloads('http://x/c').length + 1} variants`,
    where: 'server1 GET /handoff/authorize',
    expected: '400 invalid_redirect_uri, no redirect, no token',
    run: redirectUris,
  }),
];
