import { describe } from '../http/answer.js';
import { type Browser, isRedirect } from '../http/browser.js';
import { parseForms } from '../http/html-form.js';
import type { HttpResponse } from '../http/recording-client.js';

/** Where server2's GET /handoff/start sends the browser: server1's authorize URL and its parameters. */
export interface StartedHandoff {
  readonly response: HttpResponse;
  readonly authorizeUrl: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state: string;
}

/** The form_post page's form: the token and where the page posts it. */
export interface FormPost {
  readonly token: string;
  readonly action: string;
}

/** GET server2's /handoff/start with `returnTo`; the redirect it answers, or undefined when it refuses. */
export async function startHandoff(
  browser: Browser,
  server2: string,
  returnTo = '/',
): Promise<StartedHandoff | undefined> {
  const response = await browser.get(`${server2}/handoff/start?return_to=${encodeURIComponent(returnTo)}`);
  return authorizeRedirectOf(response);
}

/** Reads server2's redirect to server1's authorize endpoint. */
export function authorizeRedirectOf(response: HttpResponse): StartedHandoff | undefined {
  const location = response.headers.location;
  if (!isRedirect(response.status) || location === undefined) return undefined;
  const url = new URL(location, response.url);
  const [clientId, redirectUri, state] = ['client_id', 'redirect_uri', 'state'].map((name) =>
    url.searchParams.get(name),
  );
  if (!clientId || !redirectUri || !state) return undefined;
  return { response, authorizeUrl: url.href, clientId, redirectUri, state };
}

/** The token and action of a form_post page, or undefined when `response` is not one. */
export function formPostOf(response: HttpResponse): FormPost | undefined {
  if (response.status !== 200) return undefined;
  const form = parseForms(response.body).find((candidate) => candidate.fields.token !== undefined);
  if (!form?.fields.token) return undefined;
  return { token: form.fields.token, action: new URL(form.action, response.url).href };
}

/**
 * Posts `token` to the callback the way the form_post page does in a browser: a cross-site form
 * post from a page with `Referrer-Policy: no-referrer`, so `Origin: null`.
 */
export function postToken(browser: Browser, callbackUrl: string, token: string): Promise<HttpResponse> {
  return browser.post(callbackUrl, { token }, { origin: 'null' });
}

/** Follows the callback's redirect to /handoff/complete (one GET, not beyond). */
export async function complete(browser: Browser, callback: HttpResponse): Promise<HttpResponse | undefined> {
  const location = callback.headers.location;
  if (!isRedirect(callback.status) || location === undefined) return undefined;
  return browser.get(new URL(location, callback.url).href);
}

/** Whether `browser` holds a session on server2: its GET /me answers 200. */
export async function hasServer2Session(browser: Browser, server2: string): Promise<boolean> {
  return (await browser.get(`${server2}/me`)).status === 200;
}

/** Whether `browser` holds a session on server1: its dashboard answers 200 rather than sending it to sign in. */
export async function hasServer1Session(browser: Browser, server1: string): Promise<boolean> {
  return (await browser.get(`${server1}/`)).status === 200;
}

/** Describes a step that did not go as the contract says, for an error message. */
export function unexpectedStep(what: string, response: HttpResponse | undefined): string {
  return `${what}: got ${response ? `${describe(response)} from ${response.method} ${response.url}` : 'no redirect'}`;
}
