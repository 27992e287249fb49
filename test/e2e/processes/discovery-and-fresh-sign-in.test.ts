import { Browser, handoff, type ServicePair, startPair } from '@jwt-handoff/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// server2 as its own process configured with ISSUER_URL alone (ISSUER_DISCOVERY=true, no
// JWKS_URL): it learns server1's keys and sign-in endpoint from the discovery document over real
// HTTP. Its sensitive page demands a sign-in at most 2 s old (5 s with the 3 s clock leeway), so
// a sign-in becomes too old after a short wait, while a loaded machine still completes a handoff
// well within it.
// Past max_age and the leeway, by whole seconds.
const TOO_OLD_AFTER_MS = 6_100;

describe('server2 configured by discovery, with a sensitive page', () => {
  let pair: ServicePair;
  const alice = () => ({ username: 'alice', password: pair.demoPassword });

  beforeAll(async () => {
    pair = await startPair({
      server2Discovery: true,
      server2Env: { SENSITIVE_MAX_AGE_SEC: '2', CLOCK_TOLERANCE_SEC: '3' },
    });
  });
  afterAll(async () => {
    await pair?.close();
  });

  it('serves the discovery document at both well-known paths', async () => {
    for (const path of ['/.well-known/jwt-handoff-configuration', '/.well-known/openid-configuration']) {
      const response = await fetch(`${pair.server1.url}${path}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        issuer: pair.server1.url,
        jwks_uri: `${pair.server1.url}/.well-known/jwks.json`,
      });
    }
  });

  it('is ready and completes a full handoff with keys found through discovery', async () => {
    expect((await fetch(`${pair.server2.url}/readyz`)).status).toBe(200);
    const browser = new Browser();
    const run = await handoff(browser, pair.server2.url, alice());

    expect(run.askedForPassword).toBe(true);
    expect(run.formPostPage.url.startsWith(`${pair.server1.url}/handoff/authorize?`)).toBe(true);
    expect(run.page.status).toBe(200);
    expect(run.page.body).toContain('Sensitive settings');
  });

  it('asks for the password again for the sensitive page once the sign-in is too old', async () => {
    const browser = new Browser();
    await handoff(browser, pair.server2.url, alice());
    const sessionBefore = browser.cookies.get('s1_session');
    expect(sessionBefore).toBeTruthy();
    await new Promise((resolve) => setTimeout(resolve, TOO_OLD_AFTER_MS));

    const asked = await browser.open(`${pair.server2.url}/sensitive`);
    expect(new URL(asked.url).pathname).toBe('/login');
    expect(new URL(asked.url).searchParams.get('reauth')).toBe('1');
    expect(asked.body).toContain('enter your password again');
    const formPost = await browser.submitForm(asked, '/login', alice());
    expect(new URL(formPost.url).searchParams.get('max_age')).toBeNull();
    const page = await browser.submitForm(formPost, '/handoff/callback');

    expect(page.status).toBe(200);
    expect(page.url).toBe(`${pair.server2.url}/sensitive`);
    expect(page.body).toContain('Sensitive settings');
    // Re-authentication gave the server1 session a new id.
    expect(browser.cookies.get('s1_session')).not.toBe(sessionBefore);
  });

  it('refuses a token from an old sign-in when the URL lost its max_age (auth_too_old)', async () => {
    const browser = new Browser();
    await handoff(browser, pair.server2.url, alice());
    await new Promise((resolve) => setTimeout(resolve, TOO_OLD_AFTER_MS));

    // The handoff asks for max_age=2, but the link to server1 arrives without it: server1 mints
    // from the old sign-in, and server2 refuses what its signed state said it asked for.
    const start = await browser.fetch(
      'GET',
      `${pair.server2.url}/handoff/start?return_to=%2Fsensitive&max_age=2`,
    );
    const authorize = new URL(String(start.headers.get('location')));
    authorize.searchParams.delete('max_age');
    const formPost = await browser.open(authorize.href);
    const landed = await browser.submitForm(formPost, '/handoff/callback');

    expect(landed.status).toBe(401);
    expect(landed.body).toContain('auth_too_old');
  });
});
