import { Browser, handoff, signOut } from '@jwt-handoff/testkit';
import { describe, expect, it } from 'vitest';
import { useE2eTarget } from '../support.js';

// The browser handoff over real HTTP, against local processes or the services named by
// SERVER1_URL and SERVER2_URL (the docker-compose run), with a script-less browser.
describe('the browser handoff between the two services', () => {
  const e2e = useE2eTarget();

  it('sends a signed-out visitor through server1 sign-in and back to server2 signed in', async () => {
    const browser = new Browser();
    const run = await handoff(browser, e2e.target.server2Url, e2e.alice);

    expect(run.askedForPassword).toBe(true);
    expect(run.page.status).toBe(200);
    expect(run.page.url).toBe(`${e2e.target.server2Url}/`);
    expect(run.page.body).toContain('Hello, Alice Liddell');
    const paths = run.page.trail.map((url) => new URL(url).pathname);
    expect(paths).toEqual(['/handoff/callback', '/handoff/complete', '/']);

    const me = await browser.fetch('GET', `${e2e.target.server2Url}/me`);
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body)).toMatchObject({ name: 'Alice Liddell', iss: e2e.target.server1Url });
  });

  it('needs no password for a second handoff while the server1 session lives', async () => {
    const browser = new Browser();
    await handoff(browser, e2e.target.server2Url, e2e.alice);
    await signOut(browser, `${e2e.target.server2Url}/`);
    const second = await handoff(browser, e2e.target.server2Url, e2e.alice, '/me');
    expect(second.askedForPassword).toBe(false);
    expect(second.page.status).toBe(200);
    expect(new URL(second.page.url).pathname).toBe('/me');
  });

  it('refuses a token replayed from another browser: a page for a browser, JSON for a program', async () => {
    const run = await handoff(new Browser(), e2e.target.server2Url, e2e.alice);
    const replay = (accept: string) =>
      new Browser().fetch(
        'POST',
        `${e2e.target.server2Url}/handoff/callback`,
        new URLSearchParams({ token: run.token }).toString(),
        { accept },
      );

    const page = await replay('text/html,application/xhtml+xml,*/*;q=0.8');
    expect(page.status).toBe(400);
    expect(page.body).toContain('<code data-reason>token_replayed</code>');
    const json = await replay('application/json');
    expect(json.status).toBe(400);
    expect(JSON.parse(json.body)).toEqual({ error: 'invalid_token', reason: 'token_replayed' });
  });

  it("refuses to complete another browser's handoff (login CSRF)", async () => {
    // The attacker gets a token for their own account and lures the victim to post it.
    const attacker = new Browser();
    await attacker.open(`${e2e.target.server2Url}/handoff/start?return_to=%2F`);
    const attackerPage = await attacker.open(`${e2e.target.server2Url}/`);
    const formPost = await attacker.submitForm(attackerPage, '/login', {
      username: 'bob',
      password: e2e.target.demoPassword,
    });
    const token = /name="token" value="([^"]+)"/.exec(formPost.body)?.[1] as string;

    const victim = new Browser();
    await victim.open(`${e2e.target.server2Url}/handoff/start?return_to=%2F`);
    const landed = await victim.fetch(
      'POST',
      `${e2e.target.server2Url}/handoff/callback`,
      new URLSearchParams({ token }).toString(),
    );
    const complete = await victim.fetch(
      'GET',
      new URL(landed.headers.get('location') as string, e2e.target.server2Url).href,
    );
    expect(complete.status).toBe(400);
    expect(complete.body).toContain('state_mismatch');
    expect((await victim.fetch('GET', `${e2e.target.server2Url}/me`)).status).toBe(401);
  });

  it('answers 401 on /me once the user signs out of server2', async () => {
    const browser = new Browser();
    await handoff(browser, e2e.target.server2Url, e2e.alice);
    const out = await signOut(browser, `${e2e.target.server2Url}/`);
    expect(out.trail.map((url) => new URL(url).pathname)).toEqual(['/logout', '/signed-out']);
    expect(out.status).toBe(200);
    const me = await browser.fetch('GET', `${e2e.target.server2Url}/me`);
    expect(me.status).toBe(401);
    expect(JSON.parse(me.body).reason).toBe('session_missing');
  });
});
