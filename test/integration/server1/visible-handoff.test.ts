import { browse, CookieJar, findForm } from '@jwt-handoff/testkit';
import { describe, expect, it } from 'vitest';
import { SERVER2_CALLBACK, type Server1Harness, signIn, startServer1, TEST_CLIENTS } from './helpers.js';

function authorizePath(state: string, clientId = 'server2', redirectUri = SERVER2_CALLBACK): string {
  return `/handoff/authorize?${new URLSearchParams({ client_id: clientId, redirect_uri: redirectUri, state })}`;
}

async function signedIn(server: Server1Harness): Promise<CookieJar> {
  const jar = new CookieJar();
  await signIn(server.app, jar);
  return jar;
}

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;

describe('the form_post handoff page', () => {
  it('posts itself by default, as before: the auto-submit script, nothing decoded on show', async () => {
    const server = await startServer1();
    const page = await browse(server.app, await signedIn(server), { url: authorizePath('state-1') });

    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<script>document.forms[0].submit();</script>');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'sha256-/);
    expect(page.body).not.toContain('id="continue"');
    expect(page.body).not.toContain('handoff-token-claims');
  });

  it('in step-through mode shows the decoded token, where it goes and why, and waits for Continue', async () => {
    const server = await startServer1({ env: { HANDOFF_STEP_THROUGH: 'true' } });
    const page = await browse(server.app, await signedIn(server), { url: authorizePath('state-1') });

    expect(page.statusCode).toBe(200);
    // No script runs: the user's Continue posts the form.
    expect(page.body).not.toContain('<script');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'none'");
    expect(csp).toContain('form-action http://localhost:4002');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['cache-control']).toBe('no-store');

    const form = findForm(page.body, SERVER2_CALLBACK);
    expect(form.method).toBe('post');
    expect(page.body).toMatch(/<button type="submit" id="continue">Continue to server2<\/button>\s*<\/form>/);
    expect(page.body).toContain(`<code id="post-target">POST ${SERVER2_CALLBACK}</code>`);
    expect(page.body).toContain('never in a URL');

    // What is shown is the token in the form, decoded.
    const claims = claimsOf(form.fields.token as string);
    expect(claims).toMatchObject({ aud: 'server2', nonce: 'state-1' });
    const shownClaims = /<pre id="handoff-token-claims"><code>([\s\S]*?)<\/code><\/pre>/.exec(page.body)?.[1];
    expect(JSON.parse((shownClaims ?? '').replaceAll('&quot;', '"'))).toEqual(claims);
    const shownHeader = /<pre id="handoff-token-header"><code>([\s\S]*?)<\/code><\/pre>/.exec(page.body)?.[1];
    expect(JSON.parse((shownHeader ?? '').replaceAll('&quot;', '"'))).toMatchObject({ typ: 'handoff+jwt' });
  });

  it('escapes the decoded token: a state made of markup comes back in the nonce as text', async () => {
    const server = await startServer1({ env: { HANDOFF_STEP_THROUGH: 'true' } });
    const state = '"><script>alert(1)</script><img/src=x/onerror=alert(2)>';
    const page = await browse(server.app, await signedIn(server), { url: authorizePath(state) });

    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('<script>');
    expect(page.body).not.toContain('<img');
    expect(page.body).toContain('&quot;nonce&quot;: &quot;\\&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('escapes a client name made of markup, on the step-through page and the sign-in page', async () => {
    const name = '<b onmouseover="alert(1)">Evil</b>';
    const clients = TEST_CLIENTS.map((client) => (client.id === 'server2' ? { ...client, name } : client));
    const server = await startServer1({
      env: { HANDOFF_STEP_THROUGH: 'true', CLIENTS: JSON.stringify(clients) },
    });
    const page = await browse(server.app, await signedIn(server), { url: authorizePath('state-1') });
    const login = await browse(server.app, new CookieJar(), {
      url: `/login?return_to=${encodeURIComponent(authorizePath('state-1'))}`,
    });

    for (const body of [page.body, login.body]) {
      expect(body).not.toContain('<b onmouseover');
      expect(body).toContain('&lt;b onmouseover=&quot;alert(1)&quot;&gt;Evil&lt;/b&gt;');
    }
  });
});

describe('the sign-in page', () => {
  it('says which registered service asked for the sign-in, by its display name', async () => {
    const server = await startServer1();
    const reports = TEST_CLIENTS.find((client) => client.id === 'reports') as (typeof TEST_CLIENTS)[number];
    const returnTo = authorizePath('s', 'reports', reports.redirect_uris[0]);
    const login = await browse(server.app, new CookieJar(), {
      url: `/login?return_to=${encodeURIComponent(returnTo)}`,
    });

    expect(login.statusCode).toBe(200);
    expect(login.body).toMatch(
      /<p class="note" id="requested-by"><b>Reports<\/b> asked server1 to sign you in/,
    );
  });

  it('names no service for a plain sign-in or an unregistered client id', async () => {
    const server = await startServer1();
    for (const returnTo of ['/', authorizePath('s', 'nobody')]) {
      const login = await browse(server.app, new CookieJar(), {
        url: `/login?return_to=${encodeURIComponent(returnTo)}`,
      });
      expect(login.statusCode).toBe(200);
      expect(login.body).not.toContain('requested-by');
    }
  });
});
