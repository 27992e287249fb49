import { Browser, handoff, signOut, within } from '@jwt-handoff/testkit';
import { describe, expect, it } from 'vitest';
import { meStatus, useE2eTarget } from '../support.js';

// Sign-out crossing from server1 to server2 over the back-channel, and the service API call,
// over real HTTP (local processes, or the docker-compose services).
describe('sign-out that reaches server2, and service calls', () => {
  const e2e = useE2eTarget();

  it('ends the server2 session within 2 s of signing out on server1', async () => {
    const browser = new Browser();
    await handoff(browser, e2e.target.server2Url, e2e.alice);
    expect(await meStatus(browser, e2e.target.server2Url)).toBe(200);

    const out = await signOut(browser, `${e2e.target.server1Url}/`);
    expect(out.trail.map((url) => new URL(url).pathname)).toEqual(['/logout', '/login']);
    expect(out.url).toBe(`${e2e.target.server1Url}/login?signed_out=1`);

    await within(2000, async () => (await meStatus(browser, e2e.target.server2Url)) === 401);
  });

  it('refuses, on both services, a sign-out posted without the token of its page', async () => {
    const browser = new Browser();
    await handoff(browser, e2e.target.server2Url, e2e.alice);

    // No csrf_token, and neither Origin nor Sec-Fetch-Site: what passed before the token.
    for (const url of [
      `${e2e.target.server1Url}/logout`,
      `${e2e.target.server1Url}/logout/everywhere`,
      `${e2e.target.server2Url}/logout`,
    ]) {
      const refused = await browser.fetch('POST', url, '');
      expect(refused.status, url).toBe(403);
      expect(refused.body, url).toContain('<code data-reason>csrf_failed</code>');
    }

    expect((await browser.open(`${e2e.target.server1Url}/`)).url).toBe(`${e2e.target.server1Url}/`);
    expect(await meStatus(browser, e2e.target.server2Url)).toBe(200);
  });

  it('ends only the sessions that came from the server1 session that signed out', async () => {
    const first = new Browser();
    const second = new Browser();
    await handoff(first, e2e.target.server2Url, e2e.alice);
    await handoff(second, e2e.target.server2Url, e2e.alice);

    await signOut(first, `${e2e.target.server1Url}/`);
    await within(2000, async () => (await meStatus(first, e2e.target.server2Url)) === 401);
    expect(await meStatus(second, e2e.target.server2Url)).toBe(200);
  });

  it('refuses a handoff token minted before "sign out everywhere"', async () => {
    const browser = new Browser();
    const signedIn = await handoff(browser, e2e.target.server2Url, {
      username: 'bob',
      password: e2e.target.demoPassword,
    });
    expect(signedIn.page.status).toBe(200);

    // A second handoff is started but its token not posted yet.
    const pending = await browser.open(`${e2e.target.server2Url}/handoff/start?return_to=%2F`);
    expect(pending.url).toContain('/handoff/authorize');

    const everywhere = await signOut(browser, `${e2e.target.server1Url}/`, '/logout/everywhere');
    expect(everywhere.url).toBe(`${e2e.target.server1Url}/login?signed_out=1`);
    await within(2000, async () => (await meStatus(browser, e2e.target.server2Url)) === 401);

    // The browser posts the pending form and gets a page it can act on.
    const late = await browser.submitForm(pending, '/handoff/callback');
    expect(late.status).toBe(400);
    expect(late.headers.get('content-type')).toMatch(/^text\/html/);
    expect(late.body).toContain('<code data-reason>token_revoked</code>');
    expect(late.body).toContain('Start again');
  });

  it('accepts new handoffs once the revocation second has passed', async () => {
    const browser = new Browser();
    await handoff(browser, e2e.target.server2Url, { username: 'bob', password: e2e.target.demoPassword });
    await signOut(browser, `${e2e.target.server1Url}/`, '/logout/everywhere');
    await within(2000, async () => (await meStatus(browser, e2e.target.server2Url)) === 401);
    // Tokens issued in the revocation's own second are refused (documented); the next is fine.
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const again = await handoff(browser, e2e.target.server2Url, {
      username: 'bob',
      password: e2e.target.demoPassword,
    });
    expect(again.askedForPassword).toBe(true);
    expect(again.page.status).toBe(200);
  });

  it("shows the user's server2 activity on the server1 dashboard, fetched with a service token", async () => {
    const browser = new Browser();
    await handoff(browser, e2e.target.server2Url, e2e.alice);
    const dashboard = await browser.open(`${e2e.target.server1Url}/`);

    expect(dashboard.status).toBe(200);
    expect(dashboard.body).toContain('Your activity on server2');
    expect(dashboard.body).toMatch(/data-active-sessions>[1-9]/);
    expect(dashboard.body).not.toContain('data-unavailable');
  });

  it('refuses the activity API without a valid service token', async () => {
    const api = `${e2e.target.server2Url}/api/users/anyone/activity`;
    const bare = await fetch(api);
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const forged = await fetch(api, { headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.' } });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { reason: string }).reason).toBe('unsupported_alg');
  });
});
