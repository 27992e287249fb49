import type { KeySource } from '@jwt-handoff/shared';
import { segment } from '@jwt-handoff/testkit';
import type { InjectOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import {
  Browser,
  expectErrorPage,
  expectJsonError,
  ISSUER_URL,
  postCallback,
  signIn,
  startServer2,
} from './helpers.js';

function keySourceReady(ready: boolean): KeySource {
  return {
    getKey: async () => {
      throw new Error('not used by these tests');
    },
    isReady: () => ready,
    refresh: async () => {},
  };
}

describe('health and metrics', () => {
  it('answers /healthz with 200', async () => {
    const server = await startServer2();
    const response = await server.app.inject({ url: '/healthz' });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz with 503 until server1 keys are held', async () => {
    const server = await startServer2({ keySource: keySourceReady(false) });
    const response = await server.app.inject({ url: '/readyz' });

    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ reason: 'not_ready' });
  });

  it('answers /readyz with 200 once server1 keys are held', async () => {
    const server = await startServer2({ keySource: keySourceReady(true) });
    const response = await server.app.inject({ url: '/readyz' });

    expect(response.statusCode).toBe(200);
  });

  it('keeps /healthz at 200 while not ready: an outage of server1 must not get server2 restarted', async () => {
    const server = await startServer2({ keySource: keySourceReady(false) });

    expect((await server.app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });

  it('counts handoffs by outcome and refused tokens by reason on /metrics', async () => {
    const server = await startServer2();
    await signIn(server, new Browser(server));
    const now = server.clock.nowSec();
    await postCallback(server, await server.mint({ iat: now - 120, exp: now - 60 }));
    await postCallback(server, await server.mint({ aud: 'server3' }));

    const response = await server.app.inject({ url: '/metrics' });

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const lines = response.body.split('\n');
    expect(lines).toContain('# TYPE server2_handoffs_total counter');
    expect(lines).toContain('server2_handoffs_total{outcome="completed"} 1');
    expect(lines).toContain('server2_handoffs_total{outcome="rejected"} 2');
    expect(lines).toContain('# TYPE server2_token_rejections_total counter');
    expect(lines).toContain('server2_token_rejections_total{kind="handoff",reason="token_expired"} 1');
    expect(lines).toContain('server2_token_rejections_total{kind="handoff",reason="invalid_audience"} 1');
    expect(lines).toContain('server2_sessions 1');
  });
});

describe('unknown routes', () => {
  it('answers with 404 JSON not_found', async () => {
    const server = await startServer2();
    const response = await server.app.inject({ url: '/no/such/route' });

    expect(expectJsonError(response, 404, 'not_found').error).toBe('not_found');
  });

  it('answers a browser with a 404 page that speaks to people, carrying not_found', async () => {
    const server = await startServer2();
    const response = await server.app.inject({ url: '/no/such/page', headers: { accept: 'text/html' } });

    expectErrorPage(response, 404, 'not_found');
    expect(response.body).toContain('<h1>No such page</h1>');
    expect(response.body).toContain('There is no such page: /no/such/page');
    expect(response.body).not.toContain('no route for');
    expect(response.body).toContain('<a class="button" href="/">Back to the start</a>');
  });

  it('escapes the path it names on the 404 page', async () => {
    const server = await startServer2();
    const response = await server.app.inject({
      url: '/%3Cscript%3Ealert(1)%3C/script%3E',
      headers: { accept: 'text/html' },
    });

    expectErrorPage(response, 404, 'not_found');
    expect(response.body).not.toContain('<script>alert');
  });
});

describe('odd input', () => {
  const form = 'application/x-www-form-urlencoded';
  const get = (url: string, cookie?: string): InjectOptions => ({ url, headers: cookie ? { cookie } : {} });
  const post = (url: string, contentType?: string, payload?: string): InjectOptions => ({
    method: 'POST',
    url,
    headers: contentType ? { 'content-type': contentType } : {},
    ...(payload === undefined ? {} : { payload }),
  });
  const header = segment({ alg: 'EdDSA', kid: 'k', typ: 'handoff+jwt' });

  const oddRequests: ReadonlyArray<[string, InjectOptions]> = [
    ['a start with a badly encoded return_to', get('/handoff/start?return_to=%ZZ')],
    ['a start with a repeated return_to', get('/handoff/start?return_to=/a&return_to=/b')],
    ['a start with a 5000-character return_to', get(`/handoff/start?return_to=/${'a'.repeat(5000)}`)],
    ['a start with a return_to holding a NUL', get('/handoff/start?return_to=/a%00b')],
    ['a complete with a repeated txn', get('/handoff/complete?txn=a&txn=b')],
    ['a complete with a badly encoded txn', get('/handoff/complete?txn=%ZZ')],
    ['a complete with a badly encoded cookie', get('/handoff/complete?txn=x', 's2_handoff=%ZZ')],
    ['a complete with a cookie that is only a dot', get('/handoff/complete?txn=x', 's2_handoff=.')],
    ['a /me with a badly encoded session cookie', get('/me', 's2_session=%E0%A4%A')],
    ['a /me with a 4000-character session cookie', get('/me', `s2_session=${'a'.repeat(4000)}`)],
    ['a / with a malformed Cookie header', get('/', ';;=;s2_session;=x')],
    ['a badly encoded path', get('/%E0%A4%A')],
    ['a DELETE of /me', { method: 'DELETE', url: '/me' }],
    ['a GET of the callback', get('/handoff/callback')],
    ['an OPTIONS of the callback', { method: 'OPTIONS', url: '/handoff/callback' }],
    ['a HEAD of /', { method: 'HEAD', url: '/' }],
    ['a callback with invalid JSON', post('/handoff/callback', 'application/json', '{')],
    ['a callback with an unknown content type', post('/handoff/callback', 'application/xml', '<token/>')],
    ['a callback with no body at all', post('/handoff/callback')],
    ['a callback with a badly encoded field', post('/handoff/callback', form, 'token=%ZZ')],
    ['a callback in UTF-16', post('/handoff/callback', `${form}; charset=utf-16`, 'token=x')],
    ['a callback token of empty segments', post('/handoff/callback', form, 'token=..')],
    [
      'a callback token whose header is JSON null',
      post('/handoff/callback', form, `token=${segment(null)}.${segment({})}.x`),
    ],
    [
      'a callback token whose header is an array',
      post('/handoff/callback', form, `token=${segment(['EdDSA'])}.${segment({})}.x`),
    ],
    [
      'a callback token whose payload is a string',
      post('/handoff/callback', form, `token=${header}.${segment('x')}.x`),
    ],
    ['a logout with invalid JSON', post('/logout', 'application/json', '{')],
    ['a logout with an unknown content type', post('/logout', 'application/xml', '<x/>')],
  ];

  it.each(oddRequests)('answers %s with a 4xx or a redirect, never a 500', async (_what, request) => {
    const server = await startServer2();

    const response = await server.app.inject(request);

    expect(response.statusCode).toBeLessThan(500);
  });

  it.each([
    ['a word', 'yesterday'],
    ['beyond the range of a date', 1e20],
    ['an object', { at: 1 }],
  ])('shows the home page when the signed auth_time is %s', async (_what, authTime) => {
    const server = await startServer2();
    const browser = new Browser(server);
    await signIn(server, browser, { claims: { auth_time: authTime } });

    const home = await browser.get('/');

    expect(home.statusCode).toBe(200);
    expect(home.body).toContain('<h1>Hello, Alice Example</h1>');
    expect(home.body).toMatch(/<th>auth_time<\/th><td><code>[^<]+<\/code>/);
    expect((await browser.get('/me')).statusCode).toBe(200);
  });

  it.each([
    ['an object', { first: 'Alice' }],
    ['an array of markup', ['<script>', 'alert(1)', '</script>']],
    ['a number', 7],
  ])('shows the home page when the signed name is %s', async (_what, name) => {
    const server = await startServer2();
    const browser = new Browser(server);
    await signIn(server, browser, { claims: { name } });

    const home = await browser.get('/');

    expect(home.statusCode).toBe(200);
    expect(home.body).not.toContain('<script>');
  });

  it('refuses a callback carrying server1 Origin but no body type as 415, not as a crash', async () => {
    const server = await startServer2();
    const response = await server.app.inject({
      method: 'POST',
      url: '/handoff/callback',
      headers: { origin: ISSUER_URL },
      payload: 'token=x',
    });

    expectJsonError(response, 415, 'unsupported_media_type');
  });
});
