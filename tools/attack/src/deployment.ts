import { CannotTestError } from './cannot-test.js';
import { describe } from './http/answer.js';
import type { Browser } from './http/browser.js';
import { isDeletion, parseSetCookie } from './http/cookie-jar.js';
import type { HttpResponse, RecordingClient } from './http/recording-client.js';
import { decodeJws } from './jws/compact.js';
import type { PublishedJwk } from './jws/published-key.js';
import {
  complete,
  formPostOf,
  hasServer2Session,
  postToken,
  startHandoff,
  unexpectedStep,
} from './session/handoff-walk.js';
import { type Credentials, submitSignIn } from './session/server1-sign-in.js';

/** What the tool learnt about the deployment by signing in, as a browser would. */
export interface Deployment {
  /** server1's base URL as given, without a trailing slash. */
  readonly server1: string;
  readonly server2: string;
  /** The `iss` of server1's tokens. */
  readonly issuer: string;
  /** server2's client id at server1 (the tokens' `aud`). */
  readonly clientId: string;
  /** server2's registered callback, where the form_post page posts. */
  readonly callbackUrl: string;
  /** server1's authorize endpoint, without a query. */
  readonly authorizeEndpoint: string;
  /** server1's published keys. */
  readonly jwks: readonly PublishedJwk[];
  /** The published key that signed the sign-in token. */
  readonly signingKey: PublishedJwk;
  /** The sign-in token's header and claims: the template of forged tokens. */
  readonly template: { readonly header: Record<string, unknown>; readonly claims: Record<string, unknown> };
  /** `exp - iat` of server1's handoff tokens, in seconds. */
  readonly tokenLifetimeSec: number;
  /** The token the sign-in used, posted once: the one to replay. */
  readonly usedToken: string;
  /** server1's form_post page of the sign-in. */
  readonly formPostPage: HttpResponse;
  /** Cookie names as the deployment set them (with their `__Host-`/`__Secure-` prefixes on https). */
  readonly cookies: { readonly s1Session: string; readonly s2Session: string; readonly s2State: string };
}

/** The first cookie a response sets (not deletes) whose name ends with `suffix`, or any it sets. */
function setCookieName(response: HttpResponse | undefined, suffix: string): string | undefined {
  const set = (response?.setCookies ?? []).map(parseSetCookie).filter((cookie) => !isDeletion(cookie));
  return (set.find((cookie) => cookie.name.endsWith(suffix)) ?? set[0])?.name;
}

/**
 * Checks that both services are ready, then signs in as a browser would: server2's
 * /handoff/start, server1's authorize and sign-in form, the form_post page (its token read before
 * it is posted), the callback and /handoff/complete, and server2's /me. Anything off the contract
 * stops the run (CannotTestError), since every attack depends on it.
 */
export async function prepareDeployment(
  http: RecordingClient,
  attacker: Browser,
  urls: { server1: string; server2: string },
  credentials: Credentials,
): Promise<Deployment> {
  const { server1, server2 } = urls;
  for (const [name, base] of [
    ['server1', server1],
    ['server2', server2],
  ] as const) {
    const ready = await http.send('GET', `${base}/readyz`).catch((err: Error) => {
      throw new CannotTestError(`cannot reach ${name} at ${base}: ${err.message}`);
    });
    if (ready.status !== 200)
      throw new CannotTestError(`${name} is not ready: GET /readyz answered ${describe(ready)}`);
  }

  const started = await startHandoff(attacker, server2);
  if (!started)
    throw new CannotTestError(
      unexpectedStep('server2 /handoff/start did not send the browser to sign in', undefined),
    );
  const authorize = new URL(started.authorizeUrl);
  if (authorize.origin !== new URL(server1).origin) {
    throw new CannotTestError(
      `server2 sends browsers to sign in at ${authorize.origin}, not at --server1 ${server1}: pass --server1 ${authorize.origin}`,
    );
  }
  if (new URL(started.redirectUri).origin !== new URL(server2).origin) {
    throw new CannotTestError(`server2's callback ${started.redirectUri} is not on --server2 ${server2}`);
  }

  let page = await attacker.get(started.authorizeUrl);
  const loginUrl = page.headers.location;
  if (loginUrl === undefined)
    throw new CannotTestError(unexpectedStep('server1 /handoff/authorize did not ask to sign in', page));
  const loginPage = await attacker.get(new URL(loginUrl, page.url).href);
  const signedIn = await submitSignIn(attacker, loginPage, credentials);
  page = await attacker.follow(signedIn);
  const formPost = formPostOf(page);
  if (!formPost)
    throw new CannotTestError(unexpectedStep('server1 showed no form_post page after sign-in', page));

  const { header, payload } = decodeJws(formPost.token);
  const response = await attacker.send('GET', `${server1}/.well-known/jwks.json`);
  const jwks = parseJwks(response);
  const signingKey = jwks.find((key) => key.kid === header.kid);
  if (!signingKey)
    throw new CannotTestError(`server1's JWKS has no key ${String(header.kid)}, which signed its token`);

  const callback = await postToken(attacker, formPost.action, formPost.token);
  const completion = await complete(attacker, callback);
  if (!completion || !(await hasServer2Session(attacker, server2))) {
    throw new CannotTestError(
      unexpectedStep('the handoff did not sign in to server2', completion ?? callback),
    );
  }
  return {
    server1,
    server2,
    issuer: String(payload.iss),
    clientId: started.clientId,
    callbackUrl: started.redirectUri,
    authorizeEndpoint: `${authorize.origin}${authorize.pathname}`,
    jwks,
    signingKey,
    template: { header, claims: payload },
    tokenLifetimeSec: Number(payload.exp) - Number(payload.iat),
    usedToken: formPost.token,
    formPostPage: page,
    cookies: {
      s1Session: setCookieName(signedIn, 'session') ?? 's1_session',
      s2Session: setCookieName(completion, 'session') ?? 's2_session',
      s2State: setCookieName(started.response, 'handoff') ?? 's2_handoff',
    },
  };
}

function parseJwks(response: HttpResponse): PublishedJwk[] {
  try {
    const keys = (JSON.parse(response.body) as { keys?: unknown }).keys;
    if (response.status === 200 && Array.isArray(keys)) return keys as PublishedJwk[];
  } catch {
    // reported below
  }
  throw new CannotTestError(`server1's JWKS is not readable: ${describe(response)}`);
}
