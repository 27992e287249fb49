import { CannotTestError } from '../cannot-test.js';
import { describe } from '../http/answer.js';
import type { Browser } from '../http/browser.js';
import { parseForms } from '../http/html-form.js';
import type { HttpResponse } from '../http/recording-client.js';

/** Who the tool signs in as. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/**
 * Fills in and posts server1's sign-in form found on `loginPage`, as a browser on that page
 * would (same Origin, the form's CSRF token and return_to). Resolves with server1's 303; a
 * refused sign-in stops the run, since nothing can be tested without real tokens.
 */
export async function submitSignIn(
  browser: Browser,
  loginPage: HttpResponse,
  credentials: Credentials,
): Promise<HttpResponse> {
  const form = parseForms(loginPage.body).find((candidate) =>
    new URL(candidate.action, loginPage.url).pathname.endsWith('/login'),
  );
  if (loginPage.status !== 200 || !form) {
    throw new CannotTestError(
      `server1 did not show its sign-in form: ${describe(loginPage)} at ${loginPage.url}`,
    );
  }
  const response = await browser.post(
    new URL(form.action, loginPage.url).href,
    { ...form.fields, username: credentials.username, password: credentials.password },
    { origin: new URL(loginPage.url).origin },
  );
  // A browser's failed sign-in is a 303 back to the form (post/redirect/get); any other
  // redirect is the way on, signed in.
  const backToForm =
    response.headers.location !== undefined &&
    new URL(response.headers.location, response.url).pathname.endsWith('/login');
  if ((response.status === 303 || response.status === 302) && !backToForm) return response;
  const hint =
    response.status === 401 || backToForm
      ? ' (check --user and --password; the demo password is DEMO_PASSWORD, or handoff-demo)'
      : response.status === 429
        ? ` (server1 throttles sign-ins; retry after ${response.headers['retry-after'] ?? 'a while'} s)`
        : '';
  const got = backToForm ? `${response.status} back to the sign-in form` : describe(response);
  throw new CannotTestError(`signing in to server1 as ${credentials.username} failed: ${got}${hint}`);
}

/** Signs `browser` in to server1 from its sign-in page; resolves with the 303 that follows. */
export async function signInAtServer1(
  browser: Browser,
  server1: string,
  credentials: Credentials,
): Promise<HttpResponse> {
  return submitSignIn(browser, await browser.get(`${server1}/login`), credentials);
}
