import { browse, CookieJar, formPost, hiddenField } from '@jwt-handoff/testkit';
import { suiteScope } from '@jwt-handoff/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEMO_PASSWORD,
  pageReason,
  SERVER2_CALLBACK,
  type Server1Harness,
  signIn,
  startServer1,
} from './helpers.js';

const suite = suiteScope();
let server: Server1Harness;

beforeAll(async () => {
  server = await startServer1({ scope: suite });
});

describe('health and metrics', () => {
  it('is alive at /healthz', async () => {
    const response = await server.app.inject({ url: '/healthz' });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('is ready at /readyz', async () => {
    const response = await server.app.inject({ url: '/readyz' });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready' });
  });

  it('counts sign-ins by outcome in /metrics', async () => {
    await signIn(server.app, new CookieJar(), { password: 'not the password' });
    await signIn(server.app, new CookieJar());

    const response = await server.app.inject({ url: '/metrics' });

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.body).toContain('# TYPE server1_logins_total counter');
    expect(response.body).toMatch(/^server1_logins_total\{outcome="success"\} 1$/m);
    expect(response.body).toMatch(/^server1_logins_total\{outcome="failure"\} 1$/m);
    expect(response.body).toMatch(/^server1_sessions \d+$/m);
  });
});

describe('bad input is a 4xx, never a 500', () => {
  /**
   * A login post from a browser holding the form's CSRF cookie, with the given content type and
   * body; a body function gets the form's csrf_token, percent-encoded.
   */
  async function loginPost(contentType: string, payload: string | ((csrf: string) => string)) {
    const jar = new CookieJar();
    const form = await browse(server.app, jar, { url: '/login' });
    const csrf = encodeURIComponent(hiddenField(form.body, 'csrf_token'));
    return browse(server.app, jar, {
      method: 'POST',
      url: '/login',
      headers: { 'content-type': contentType },
      payload: typeof payload === 'string' ? payload : payload(csrf),
    });
  }

  it.each([
    ['application/json', JSON.stringify({ username: 'alice', password: DEMO_PASSWORD })],
    ['text/plain', 'username=alice'],
    ['multipart/form-data; boundary=x', '--x--'],
  ])('refuses a %s login with 415 unsupported_media_type', async (contentType, payload) => {
    const response = await loginPost(contentType, payload);

    expect(response.statusCode).toBe(415);
    expect(pageReason(response.body)).toBe('unsupported_media_type');
  });

  it('refuses broken JSON as an unsupported type, before trying to parse it', async () => {
    const response = await loginPost('application/json', '{"username":');

    expect(response.statusCode).toBe(415);
    expect(pageReason(response.body)).toBe('unsupported_media_type');
  });

  it('refuses a body over 16 KiB with 413 body_too_large', async () => {
    const response = await loginPost(
      'application/x-www-form-urlencoded',
      `username=alice&password=${'a'.repeat(16 * 1024)}`,
    );

    expect(response.statusCode).toBe(413);
    expect(pageReason(response.body)).toBe('body_too_large');
  });

  it('answers an unknown route with a 404 not_found JSON body', async () => {
    const response = await server.app.inject({ url: '/no/such/route' });

    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual({ error: 'not_found', reason: 'not_found' });
  });

  it('answers a browser asking for an unknown route with a 404 page', async () => {
    const response = await server.app.inject({ url: '/no/such/route', headers: { accept: 'text/html' } });

    expect(response.statusCode).toBe(404);
    expect(pageReason(response.body)).toBe('not_found');
  });

  it('answers a method the route does not take with 404 not_found', async () => {
    const response = await server.app.inject({ method: 'PUT', url: '/login' });

    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'not_found', reason: 'not_found' });
  });

  const malformedCookies: [string, string][] = [
    ['bad percent-encoding', 's1_session=%E0%A4%A'],
    ['a name without a value', 's1_session'],
    ['empty names and values', '=; ; ;=='],
    ['an unterminated quote', 's1_session="unterminated'],
    ['a 4000-character value', `s1_session=${'x'.repeat(4000)}`],
    ['repeated names', 's1_session=a; s1_session=b; s1_login_csrf=%ZZ'],
  ];

  it.each(malformedCookies)(
    'treats a cookie header with %s as no session on GET /',
    async (_what, cookie) => {
      const response = await server.app.inject({ url: '/', headers: { cookie } });

      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe('/login?return_to=%2F');
    },
  );

  it.each(malformedCookies)(
    'still serves the login form with a cookie header with %s',
    async (_what, cookie) => {
      const response = await server.app.inject({ url: '/login', headers: { cookie } });

      expect(response.statusCode).toBe(200);
      expect(hiddenField(response.body, 'csrf_token')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    },
  );

  it.each(malformedCookies)(
    'refuses a login post with a cookie header with %s as csrf_failed',
    async (_what, cookie) => {
      const response = await server.app.inject({
        ...formPost('/login', { csrf_token: 'not-the-cookie', username: 'alice', password: DEMO_PASSWORD }),
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      });

      expect(response.statusCode).toBe(403);
      expect(pageReason(response.body)).toBe('csrf_failed');
    },
  );

  it.each(malformedCookies)(
    'sends a handoff with a cookie header with %s to sign in',
    async (_what, cookie) => {
      const query = new URLSearchParams({ client_id: 'server2', redirect_uri: SERVER2_CALLBACK, state: 's' });

      const response = await server.app.inject({ url: `/handoff/authorize?${query}`, headers: { cookie } });

      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toMatch(/^\/login\?return_to=/);
    },
  );

  it('falls back to "/" for a return_to that is not valid percent-encoding', async () => {
    const response = await server.app.inject({ url: '/login?return_to=%E0%A4%A' });

    expect(response.statusCode).toBe(200);
    expect(hiddenField(response.body, 'return_to')).toBe('/');
  });

  it('refuses an authorize query that is not valid percent-encoding with a 400', async () => {
    const response = await server.app.inject({ url: '/handoff/authorize?client_id=%&redirect_uri=%E0%A4%A' });

    expect(response.statusCode).toBe(400);
    expect(pageReason(response.body)).toBe('invalid_client');
    expect(response.headers.location).toBeUndefined();
  });

  it('treats repeated username fields as a failed sign-in, not a crash', async () => {
    const response = await loginPost(
      'application/x-www-form-urlencoded',
      (csrf) =>
        `csrf_token=${csrf}&username=alice&username=bob&password=${encodeURIComponent(DEMO_PASSWORD)}`,
    );

    expect(response.statusCode).toBe(401);
    expect(pageReason(response.body)).toBe('invalid_credentials');
  });

  it('refuses a repeated csrf_token field as csrf_failed', async () => {
    const response = await loginPost(
      'application/x-www-form-urlencoded',
      (csrf) => `csrf_token=${csrf}&csrf_token=${csrf}&username=alice&password=x`,
    );

    expect(response.statusCode).toBe(403);
    expect(pageReason(response.body)).toBe('csrf_failed');
  });

  it('refuses a form body that is not valid percent-encoding as csrf_failed', async () => {
    const response = await loginPost(
      'application/x-www-form-urlencoded',
      'csrf_token=%E0%A4%A&username=%&password=%ZZ',
    );

    expect(response.statusCode).toBe(403);
    expect(pageReason(response.body)).toBe('csrf_failed');
  });
});
