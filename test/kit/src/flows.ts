import type { Browser, Page } from './browser.js';

/** What a handoff went through, for assertions. */
export interface HandoffRun {
  /** The final page on server2. */
  readonly page: Page;
  /** The form_post page server1 answered, with the token in it. */
  readonly formPostPage: Page;
  /** The handoff token that was posted. */
  readonly token: string;
  /** Whether server1 asked for a password on the way. */
  readonly askedForPassword: boolean;
}

/**
 * Opens server2 (its home page, or /handoff/start with `returnTo` for any other page) and walks the handoff as a browser without scripts would:
 * signs in on server1 when asked, then presses the form_post page's button.
 */
export async function handoff(
  browser: Browser,
  server2Url: string,
  credentials: { username: string; password: string },
  returnTo = '/',
): Promise<HandoffRun> {
  const entry = returnTo === '/' ? '/' : `/handoff/start?return_to=${encodeURIComponent(returnTo)}`;
  let page = await browser.open(new URL(entry, server2Url).href);
  const askedForPassword = new URL(page.url).pathname === '/login';
  if (askedForPassword) {
    page = await browser.submitForm(page, '/login', credentials);
  }
  if (!page.url.includes('/handoff/authorize') || page.status !== 200) {
    throw new Error(`expected server1's form_post page, got ${page.status} at ${page.url}:\n${page.body}`);
  }
  const formPostPage = page;
  const token = /name="token" value="([^"]+)"/.exec(page.body)?.[1];
  if (!token) throw new Error(`no token on the form_post page:\n${page.body}`);
  page = await browser.submitForm(page, '/handoff/callback');
  return { page, formPostPage, token, askedForPassword };
}

/**
 * Signs out as a user without scripts would: opens `pageUrl` (a page showing the sign-out forms,
 * server1's dashboard or server2's home page) and presses the button of the form posting to a
 * path ending in `action`, so the form's hidden `csrf_token` goes with it. Follows the redirects
 * to the signed-out page and returns it.
 */
export async function signOut(browser: Browser, pageUrl: string, action = '/logout'): Promise<Page> {
  const page = await browser.open(pageUrl);
  return browser.submitForm(page, action);
}
