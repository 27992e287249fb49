import { browse, CookieJar, formPost, hiddenField } from '@jwt-handoff/testkit';
import { suiteScope } from '@jwt-handoff/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEMO_PASSWORD,
  PUBLIC_URL,
  pageReason,
  responseCookie,
  type Server1Harness,
  signIn,
  startServer1,
} from './helpers.js';

const suite = suiteScope();
let server: Server1Harness;

beforeAll(async () => {
  server = await startServer1({ scope: suite });
});

describe('GET /login', () => {
  it('renders the form with a csrf_token and a return_to field', async () => {
    const response = await server.app.inject({ url: '/login?return_to=%2Fsettings%3Ftab%3D2' });

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toContain('<form method="post" action="/login">');
    expect(hiddenField(response.body, 'csrf_token')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hiddenField(response.body, 'return_to')).toBe('/settings?tab=2');
  });

  it('sets the s1_login_csrf cookie, HttpOnly and SameSite=Strict, equal to the form field', async () => {
    const response = await server.app.inject({ url: '/login' });

    const cookie = responseCookie(response, 's1_login_csrf');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie?.value).toBe(hiddenField(response.body, 'csrf_token'));
  });

  it('puts "/" in the return_to field when the query asks for another site', async () => {
    const response = await server.app.inject({ url: '/login?return_to=%2F%2Fevil.example' });

    expect(hiddenField(response.body, 'return_to')).toBe('/');
  });
});

describe('POST /login', () => {
  it('starts a session in an HttpOnly, SameSite=Lax cookie on Path=/ and sends the browser to return_to', async () => {
    const jar = new CookieJar();

    const response = await signIn(server.app, jar, { returnTo: '/settings?tab=2' });

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/settings?tab=2');
    const session = responseCookie(response, 's1_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(session?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('clears the login CSRF cookie once it has been used', async () => {
    const jar = new CookieJar();

    const response = await signIn(server.app, jar);

    expect(responseCookie(response, 's1_login_csrf')?.maxAge).toBe(0);
    expect(jar.get('s1_login_csrf')).toBeUndefined();
  });

  it.each([
    '//evil.example',
    '/\\evil.example',
    'https:evil.example',
    'https://evil.example',
    '%2F%2Fevil.example',
    '/..//evil.example',
  ])('sends the browser to "/" rather than to the return_to %j', async (returnTo) => {
    const response = await signIn(server.app, new CookieJar(), { returnTo });

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/');
  });
});

describe('login CSRF protection', () => {
  // A form as a real login page would have issued it: the cookie and the field agree.
  async function freshForm() {
    const jar = new CookieJar();
    const page = await browse(server.app, jar, { url: '/login' });
    return { jar, token: hiddenField(page.body, 'csrf_token') };
  }
  const credentials = { return_to: '/', username: 'alice', password: DEMO_PASSWORD };

  async function expectCsrfFailure(response: Awaited<ReturnType<typeof browse>>) {
    expect(response.statusCode).toBe(403);
    expect(pageReason(response.body)).toBe('csrf_failed');
    expect(responseCookie(response, 's1_session')).toBeUndefined();
  }

  it('refuses a post without the CSRF cookie', async () => {
    const { token } = await freshForm();

    await expectCsrfFailure(
      await server.app.inject(formPost('/login', { ...credentials, csrf_token: token })),
    );
  });

  it('refuses a post without the csrf_token field', async () => {
    const { jar } = await freshForm();

    await expectCsrfFailure(await browse(server.app, jar, formPost('/login', credentials)));
  });

  it('refuses a post whose csrf_token does not match the cookie', async () => {
    const { jar, token } = await freshForm();
    const other = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;

    await expectCsrfFailure(
      await browse(server.app, jar, formPost('/login', { ...credentials, csrf_token: other })),
    );
  });

  it('refuses a post from a foreign Origin even with a matching token', async () => {
    const { jar, token } = await freshForm();

    await expectCsrfFailure(
      await browse(
        server.app,
        jar,
        formPost('/login', { ...credentials, csrf_token: token }, { origin: 'http://localhost:4002' }),
      ),
    );
  });

  it('refuses a post the browser marks as cross-site', async () => {
    const { jar, token } = await freshForm();

    await expectCsrfFailure(
      await browse(
        server.app,
        jar,
        formPost('/login', { ...credentials, csrf_token: token }, { 'sec-fetch-site': 'cross-site' }),
      ),
    );
  });

  it('accepts a post from its own Origin', async () => {
    const { jar, token } = await freshForm();

    const response = await browse(
      server.app,
      jar,
      formPost(
        '/login',
        { ...credentials, csrf_token: token },
        { origin: PUBLIC_URL, 'sec-fetch-site': 'same-origin' },
      ),
    );

    expect(response.statusCode).toBe(303);
    expect(jar.get('s1_session')).toBeDefined();
  });
});

describe('wrong credentials', () => {
  it('answers a wrong password and an unknown user with the same 401 page', async () => {
    const jar = new CookieJar();

    const wrongPassword = await signIn(server.app, jar, { username: 'alice', password: 'not the password' });
    const unknownUser = await signIn(server.app, jar, { username: 'mallory', password: DEMO_PASSWORD });

    expect(wrongPassword.statusCode).toBe(401);
    expect(unknownUser.statusCode).toBe(401);
    expect(pageReason(wrongPassword.body)).toBe('invalid_credentials');
    expect(pageReason(unknownUser.body)).toBe('invalid_credentials');
    expect(responseCookie(wrongPassword, 's1_session')).toBeUndefined();
    expect(responseCookie(unknownUser, 's1_session')).toBeUndefined();
    // Only the echoed username may differ between the two pages.
    expect(wrongPassword.body.replace('value="alice"', 'value="?"')).toBe(
      unknownUser.body.replace('value="mallory"', 'value="?"'),
    );
  });

  it('shows the form again, ready for another try with the same CSRF token', async () => {
    const jar = new CookieJar();

    const failed = await signIn(server.app, jar, { password: 'not the password', returnTo: '/settings' });
    const retry = await browse(
      server.app,
      jar,
      formPost('/login', {
        csrf_token: hiddenField(failed.body, 'csrf_token'),
        return_to: hiddenField(failed.body, 'return_to'),
        username: 'alice',
        password: DEMO_PASSWORD,
      }),
    );

    expect(retry.statusCode).toBe(303);
    expect(retry.headers.location).toBe('/settings');
  });
});

// A browser that posts a wrong password is sent back to the form with a 303 (post/redirect/get),
// so that its Back button and reload never re-post the form. Clients that do not ask for HTML
// keep the contract's 401 (above).
describe('wrong credentials from a browser: post/redirect/get', () => {
  const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

  async function browserSignIn(jar: CookieJar, username: string, password: string, returnTo = '/settings') {
    const form = await browse(server.app, jar, { url: '/login', headers: HTML });
    return browse(server.app, jar, {
      ...formPost(
        '/login',
        { csrf_token: hiddenField(form.body, 'csrf_token'), return_to: returnTo, username, password },
        HTML,
      ),
    });
  }

  it('answers the POST with 303 back to the form, keeping return_to, and no session', async () => {
    const jar = new CookieJar();

    const failed = await browserSignIn(jar, 'alice', 'not the password');

    expect(failed.statusCode).toBe(303);
    expect(failed.headers.location).toBe('/login?return_to=%2Fsettings');
    expect(failed.headers['cache-control']).toBe('no-store');
    expect(responseCookie(failed, 's1_session')).toBeUndefined();
    expect(responseCookie(failed, 's1_login_failed')).toMatchObject({
      value: 'alice',
      httpOnly: true,
      sameSite: 'Strict',
    });
  });

  it('shows the failure once on the GET that follows, with the username and the same words for anyone', async () => {
    const jar = new CookieJar();
    const pageAfter = async (username: string, password: string) => {
      const failed = await browserSignIn(jar, username, password);
      return browse(server.app, jar, { url: String(failed.headers.location), headers: HTML });
    };

    const wrongPassword = await pageAfter('alice', 'not the password');
    const unknownUser = await pageAfter('mallory', DEMO_PASSWORD);

    expect(wrongPassword.statusCode).toBe(200);
    expect(pageReason(wrongPassword.body)).toBe('invalid_credentials');
    expect(wrongPassword.body).toContain('The username or password is not right.');
    expect(wrongPassword.body).toContain('value="alice"');
    expect(hiddenField(wrongPassword.body, 'return_to')).toBe('/settings');
    expect(wrongPassword.body.replace('value="alice"', 'value="?"')).toBe(
      unknownUser.body.replace('value="mallory"', 'value="?"'),
    );
    // Once: a reload shows the plain form.
    const reloaded = await browse(server.app, jar, { url: '/login?return_to=%2Fsettings', headers: HTML });
    expect(pageReason(reloaded.body)).toBeUndefined();
    expect(reloaded.body).not.toContain('not right');
  });

  it('lets the next try from that page sign in, with the same CSRF token', async () => {
    const jar = new CookieJar();
    const failed = await browserSignIn(jar, 'alice', 'not the password');
    const form = await browse(server.app, jar, { url: String(failed.headers.location), headers: HTML });

    const retry = await browse(
      server.app,
      jar,
      formPost(
        '/login',
        {
          csrf_token: hiddenField(form.body, 'csrf_token'),
          return_to: hiddenField(form.body, 'return_to'),
          username: hiddenFieldOrValue(form.body, 'username'),
          password: DEMO_PASSWORD,
        },
        HTML,
      ),
    );

    expect(retry.statusCode).toBe(303);
    expect(retry.headers.location).toBe('/settings');
    expect(jar.get('s1_session')).toBeDefined();
  });

  it('still refuses a browser post without its CSRF token: 403 csrf_failed, not a redirect', async () => {
    const response = await server.app.inject(
      formPost('/login', { username: 'alice', password: 'not the password', return_to: '/' }, HTML),
    );

    expect(response.statusCode).toBe(403);
    expect(pageReason(response.body)).toBe('csrf_failed');
    expect(response.headers.location).toBeUndefined();
  });
});

/** The value of the input named `name` (the username field is a text input, not hidden). */
function hiddenFieldOrValue(page: string, name: string): string {
  const match = new RegExp(`name="${name}"[^>]*value="([^"]*)"`).exec(page);
  return match?.[1] ?? '';
}
