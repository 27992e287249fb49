import { findForm } from '@jwt-handoff/testkit';
import { describe, expect, it } from 'vitest';
import {
  Browser,
  expectErrorPage,
  ISSUER_URL,
  PUBLIC_URL,
  type Server2Harness,
  signIn,
  startServer2,
} from './helpers.js';

/** A browser signed in to server2 through a handoff token carrying `hint` as its logout_hint. */
async function signedIn(server: Server2Harness, hint: string | null = 'the-logout-hint') {
  const browser = new Browser(server);
  await signIn(server, browser, { claims: { logout_hint: hint ?? undefined } });
  expect((await browser.get('/me')).statusCode).toBe(200);
  return browser;
}

async function everythingForm(browser: Browser): Promise<Record<string, string>> {
  const home = await browser.get('/');
  expect(home.statusCode).toBe(200);
  // The redirect to server1 answers this form: the page's CSP lets its forms go there.
  expect(home.headers['content-security-policy']).toContain(`form-action 'self' ${ISSUER_URL}`);
  return findForm(home.body, '/logout/everything').fields;
}

describe('POST /logout/everything (sign out of everything)', () => {
  it('ends the local session and sends the browser to server1 with the hint, the registered address and a state', async () => {
    const server = await startServer2();
    const browser = await signedIn(server);

    const response = await browser.postForm('/logout/everything', await everythingForm(browser));

    expect(response.statusCode).toBe(303);
    const location = new URL(response.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe(`${ISSUER_URL}/logout/end-session`);
    const state = location.searchParams.get('state') as string;
    expect(Object.fromEntries(location.searchParams)).toEqual({
      client_id: 'server2',
      post_logout_redirect_uri: `${PUBLIC_URL}/logout/complete`,
      state,
      logout_hint: 'the-logout-hint',
    });
    expect(state).toMatch(/^[\w-]{20,}$/);
    expect((await browser.get('/me')).statusCode).toBe(401);

    // server1 sends the browser back with the state: the signed-out page.
    const back = await browser.get(`/logout/complete?state=${encodeURIComponent(state)}`);
    expect(back.statusCode).toBe(303);
    expect(back.headers.location).toBe('/signed-out?everywhere=1');
    const page = await browser.get('/signed-out?everywhere=1');
    expect(page.body).toContain('You have signed out of everything');
  });

  it('sends no hint when the session has none (server1 then asks the user)', async () => {
    const server = await startServer2();
    const browser = await signedIn(server, null);

    const response = await browser.postForm('/logout/everything', await everythingForm(browser));

    expect(new URL(response.headers.location as string).searchParams.has('logout_hint')).toBe(false);
  });

  it.each([
    ['without the CSRF token', { csrf_token: '' }, {}],
    ['from another origin', {}, { origin: 'https://evil.example' }],
  ])('refuses a post %s: 403 csrf_failed, and the session stays', async (_what, fields, headers) => {
    const server = await startServer2();
    const browser = await signedIn(server);

    const response = await browser.postForm(
      '/logout/everything',
      { ...(await everythingForm(browser)), ...fields },
      headers,
    );

    expectErrorPage(response, 403, 'csrf_failed');
    expect((await browser.get('/me')).statusCode).toBe(200);
  });
});

describe('GET /logout/complete', () => {
  async function startedSignOut(server: Server2Harness) {
    const browser = await signedIn(server);
    const response = await browser.postForm('/logout/everything', await everythingForm(browser));
    return {
      browser,
      state: new URL(response.headers.location as string).searchParams.get('state') as string,
    };
  }

  it('refuses another state: 400 state_mismatch', async () => {
    const server = await startServer2();
    const { browser, state } = await startedSignOut(server);

    expectErrorPage(await browser.get(`/logout/complete?state=${state}x`), 400, 'state_mismatch');
  });

  it('refuses a state in a browser that did not start the sign-out: 400 state_mismatch', async () => {
    const server = await startServer2();
    const { state } = await startedSignOut(server);

    expectErrorPage(await new Browser(server).get(`/logout/complete?state=${state}`), 400, 'state_mismatch');
  });

  it('refuses an answer without a state: 400 state_missing', async () => {
    const server = await startServer2();
    const { browser } = await startedSignOut(server);

    expectErrorPage(await browser.get('/logout/complete'), 400, 'state_missing');
  });

  it('takes each state once', async () => {
    const server = await startServer2();
    const { browser, state } = await startedSignOut(server);
    expect((await browser.get(`/logout/complete?state=${state}`)).statusCode).toBe(303);

    expectErrorPage(await browser.get(`/logout/complete?state=${state}`), 400, 'state_mismatch');
  });
});
