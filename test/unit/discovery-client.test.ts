import type { IncomingMessage, ServerResponse } from 'node:http';
import { createDiscoveryClient, readDiscoveryDocument } from '@jwt-handoff/shared';
import { testClock } from '@jwt-handoff/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './helpers/http-server.js';

let server: TestServer;
let issuer: string;
const clock = testClock();
const seen: IncomingMessage[] = [];

/** A document for `issuer` as server1 publishes it (only what the client reads matters). */
function documentFor(named: unknown, extra: Record<string, unknown> = {}) {
  return {
    issuer: named,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    authorization_endpoint: `${issuer}/handoff/authorize`,
    ...extra,
  };
}

function answer(status: number, body: unknown, headers: Record<string, string> = {}) {
  server.handle((request: IncomingMessage, response: ServerResponse) => {
    seen.push(request);
    if (headers.etag && request.headers['if-none-match'] === headers.etag) {
      response.writeHead(304, headers).end();
      return;
    }
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
}

beforeEach(async () => {
  server = await startServer(() => {}, '/');
  issuer = server.url.origin;
  seen.length = 0;
});
afterEach(() => server.close());

/** A client on the test clock; its timers are kept, never run, so each fetch is the test's. */
function client(onFetchError?: (error: Error) => void) {
  return createDiscoveryClient({
    issuer,
    now: clock.now,
    random: () => 0,
    setTimeout: () => ({}),
    clearTimeout: () => {},
    retryInitialDelayMs: 1_000,
    retryMaxDelayMs: 8_000,
    maxStaleMs: 10_000,
    ...(onFetchError ? { onFetchError } : {}),
  });
}

describe('the discovery client', () => {
  it('fetches /.well-known/jwt-handoff-configuration and reads the endpoints', async () => {
    answer(200, documentFor(issuer, { end_session_endpoint: `${issuer}/logout/end` }));
    const discovery = client();

    expect(discovery.isReady()).toBe(false);
    const endpoints = await discovery.refresh();
    expect(seen[0]?.url).toBe('/.well-known/jwt-handoff-configuration');
    expect(endpoints).toEqual({
      issuer,
      jwksUri: `${issuer}/.well-known/jwks.json`,
      authorizationEndpoint: `${issuer}/handoff/authorize`,
      endSessionEndpoint: `${issuer}/logout/end`,
    });
    expect(discovery.isReady()).toBe(true);
  });

  it.each([
    ['another host', () => 'http://evil.example'],
    ['a trailing slash', () => `${issuer}/`],
    ['another scheme', () => issuer.replace('http:', 'https:')],
    ['another case', () => issuer.replace('127.0.0.1', '127.0.0.1').toUpperCase()],
    ['no issuer at all', () => undefined],
    ['an issuer that is not a string', () => [issuer]],
  ])('refuses a document naming %s as issuer: not ready, a clear error', async (_name, named) => {
    answer(200, documentFor(named()));
    const errors: Error[] = [];
    const discovery = client((error) => errors.push(error));

    await expect(discovery.refresh()).rejects.toThrow(/names the issuer .* not the configured/);
    expect(discovery.isReady()).toBe(false);
    expect(discovery.current()).toBeUndefined();
    expect(errors[0]?.message).toContain(JSON.stringify(issuer));
  });

  it('refuses a document that is not JSON, not an object, or lacks an endpoint', async () => {
    for (const body of ['not json', '[1]', JSON.stringify({ issuer, jwks_uri: `${issuer}/k` })]) {
      answer(200, body);
      await expect(client().refresh()).rejects.toThrow(/discovery document/);
    }
  });

  it('refuses a failed fetch, and within the back-off refuses again without a fetch', async () => {
    answer(500, {});
    const discovery = client();

    await expect(discovery.endpoints()).rejects.toThrow(/answered 500/);
    expect(seen).toHaveLength(1);
    await expect(discovery.endpoints()).rejects.toThrow(/answered 500/);
    expect(seen).toHaveLength(1);
    clock.advance(1_000);
    answer(200, documentFor(issuer));
    await expect(discovery.endpoints()).resolves.toMatchObject({ issuer });
    expect(seen).toHaveLength(2);
  });

  it('backs off exponentially: the second failure waits twice as long as the first', async () => {
    answer(503, {});
    const discovery = client();
    await expect(discovery.endpoints()).rejects.toThrow();
    clock.advance(1_000);
    await expect(discovery.endpoints()).rejects.toThrow();
    clock.advance(1_999);
    await expect(discovery.endpoints()).rejects.toThrow();
    expect(seen).toHaveLength(2);
    clock.advance(1);
    await expect(discovery.endpoints()).rejects.toThrow();
    expect(seen).toHaveLength(3);
  });

  it('keeps serving the last good document for maxStaleMs past its max-age while fetches fail', async () => {
    answer(200, documentFor(issuer), { 'cache-control': 'public, max-age=60' });
    const discovery = client();
    await discovery.refresh();
    answer(500, {});

    clock.advance(60_000 + 9_999);
    await expect(discovery.refresh()).rejects.toThrow();
    expect(discovery.current()).toMatchObject({ issuer });
    expect(discovery.isReady()).toBe(true);
    clock.advance(1);
    expect(discovery.current()).toBeUndefined();
    expect(discovery.isReady()).toBe(false);
  });

  it('never lets a document with the wrong issuer replace a good one', async () => {
    answer(200, documentFor(issuer), { 'cache-control': 'max-age=60' });
    const discovery = client();
    await discovery.refresh();
    answer(200, documentFor('http://evil.example', { jwks_uri: 'http://evil.example/keys' }));

    await expect(discovery.refresh()).rejects.toThrow(/not the configured/);
    expect(discovery.current()?.jwksUri).toBe(`${issuer}/.well-known/jwks.json`);
  });

  it('revalidates with If-None-Match and keeps the document on a 304', async () => {
    answer(200, documentFor(issuer), { etag: '"v1"', 'cache-control': 'max-age=60' });
    const discovery = client();
    await discovery.refresh();
    clock.advance(59_000);
    await discovery.refresh();

    expect(seen[1]?.headers['if-none-match']).toBe('"v1"');
    clock.advance(60_000 + 9_999);
    expect(discovery.isReady()).toBe(true);
  });
});

describe('readDiscoveryDocument', () => {
  it('refuses http endpoints in the document of an https issuer', () => {
    const https = 'https://id.example';
    expect(() =>
      readDiscoveryDocument(
        { issuer: https, jwks_uri: 'http://id.example/keys', authorization_endpoint: `${https}/a` },
        https,
      ),
    ).toThrow(/jwks_uri must be an absolute https URL/);
    expect(() =>
      readDiscoveryDocument(
        { issuer: https, jwks_uri: `${https}/k`, authorization_endpoint: 'javascript:x' },
        https,
      ),
    ).toThrow(/authorization_endpoint/);
  });
});
