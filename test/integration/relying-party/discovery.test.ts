import { mkdtempSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RelyingPartyOptions, relyingParty } from '@jwt-handoff/shared';
import {
  generateTestKey,
  jwksOf,
  listenOnLoopback,
  mintToken,
  type TestKey,
  testClock,
  waitFor,
} from '@jwt-handoff/testkit';
import Fastify, { type FastifyInstance } from 'fastify';
import { describe, expect, it, onTestFinished } from 'vitest';
import { handoffClaims } from '../server2/helpers.js';

const SECRET = 'a-test-secret-that-is-32-chars-long!';

/**
 * A fake issuer on loopback: its discovery document (whose fields the test may change) names
 * endpoints at paths of its own, so only discovery can find them.
 */
async function fakeIssuer(key: TestKey) {
  let documentOverrides: Record<string, unknown> = {};
  let discoveryStatus = 200;
  const hits: string[] = [];
  const server = await listenOnLoopback((request, response: ServerResponse) => {
    hits.push(request.url ?? '');
    const send = (status: number, body: unknown) =>
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (request.url === '/.well-known/jwt-handoff-configuration') {
      if (discoveryStatus !== 200) return send(discoveryStatus, {});
      return send(200, {
        issuer: server.url,
        jwks_uri: `${server.url}/discovered/keys`,
        authorization_endpoint: `${server.url}/discovered/authorize`,
        ...documentOverrides,
      });
    }
    if (request.url === '/discovered/keys') return send(200, jwksOf(key));
    return send(404, {});
  });
  onTestFinished(() => server.close());
  return {
    url: server.url,
    hits,
    setDocument(overrides: Record<string, unknown>) {
      documentOverrides = overrides;
    },
    setDiscoveryStatus(status: number) {
      discoveryStatus = status;
    },
  };
}

async function appOn(issuer: string, options: Partial<RelyingPartyOptions> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'relying-discovery-'));
  const clock = testClock(Date.now());
  const app = Fastify();
  onTestFinished(async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  await app.register(relyingParty, {
    issuer,
    clientId: 'server2',
    publicUrl: 'http://app.example',
    sessionSecret: SECRET,
    dataDir,
    discovery: true,
    jwks: { retryInitialDelayMs: 50, retryMaxDelayMs: 100, retryJitterRatio: 0 },
    now: clock.now,
    ...options,
  });
  app.get('/private', { preHandler: app.requireSession({ redirect: false }) }, async (request) => ({
    sub: request.relyingSession.sub,
  }));
  await app.ready();
  return { app, clock };
}

/** start → token signed by `key` for the state → callback → complete. */
async function handoff(app: FastifyInstance, key: TestKey, clock: { nowSec(): number }, issuer: string) {
  const start = await app.inject({ url: '/handoff/start?return_to=%2Fprivate' });
  const authorize = new URL(String(start.headers.location));
  const stateCookie = String(start.headers['set-cookie']).split(';')[0] as string;
  const claims = handoffClaims(clock as never, { iss: issuer, nonce: authorize.searchParams.get('state') });
  const callback = await app.inject({
    method: 'POST',
    url: '/handoff/callback',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ token: await mintToken(key, claims) }).toString(),
  });
  return { start, authorize, callback, stateCookie };
}

describe('the relying plugin configured with the issuer alone (discovery: true)', () => {
  it('finds the keys and the sign-in endpoint in the document, and completes a handoff', async () => {
    const key = await generateTestKey();
    const issuer = await fakeIssuer(key);
    const { app, clock } = await appOn(issuer.url);
    await waitFor('the plugin to be ready', () => app.relyingParty.isReady());

    const { authorize, callback, stateCookie } = await handoff(app, key, clock, issuer.url);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${issuer.url}/discovered/authorize`);
    expect(callback.statusCode).toBe(303);
    const complete = await app.inject({
      url: String(callback.headers.location),
      headers: { cookie: stateCookie },
    });
    expect(complete.statusCode).toBe(303);
    expect(issuer.hits).toContain('/discovered/keys');
    expect(issuer.hits).not.toContain('/.well-known/jwks.json');
  });

  it('refuses a document naming another issuer: not ready, no sign-in, no token accepted', async () => {
    const key = await generateTestKey();
    const issuer = await fakeIssuer(key);
    issuer.setDocument({ issuer: `${issuer.url}/` });
    const { app, clock } = await appOn(issuer.url);
    await waitFor('two discovery fetches', () => issuer.hits.length >= 2);

    expect(app.relyingParty.isReady()).toBe(false);
    const start = await app.inject({ url: '/handoff/start?return_to=%2F' });
    expect(start.statusCode).toBe(503);
    expect(start.headers.location).toBeUndefined();
    expect(start.body).toContain('<code data-reason>discovery_unavailable</code>');
    const token = await mintToken(key, handoffClaims(clock as never, { iss: issuer.url }));
    const callback = await app.inject({
      method: 'POST',
      url: '/handoff/callback',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ token }).toString(),
    });
    expect(callback.statusCode).toBe(503);
    expect(callback.json()).toMatchObject({ reason: 'jwks_unavailable' });
    expect(issuer.hits).not.toContain('/discovered/keys');
  });

  it('answers a token while the document cannot be fetched with 503 jwks_unavailable', async () => {
    const key = await generateTestKey();
    const issuer = await fakeIssuer(key);
    issuer.setDiscoveryStatus(500);
    const { app, clock } = await appOn(issuer.url);
    const token = await mintToken(key, handoffClaims(clock as never, { iss: issuer.url }));
    const callback = await app.inject({
      method: 'POST',
      url: '/handoff/callback',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      payload: new URLSearchParams({ token }).toString(),
    });

    expect(callback.statusCode).toBe(503);
    expect(callback.json()).toMatchObject({ reason: 'jwks_unavailable' });
    expect(app.relyingParty.isReady()).toBe(false);
  });

  it('recovers once the document can be fetched again (retried with back-off)', async () => {
    const key = await generateTestKey();
    const issuer = await fakeIssuer(key);
    issuer.setDiscoveryStatus(500);
    const { app } = await appOn(issuer.url);
    await waitFor('a failed discovery fetch', () => issuer.hits.length >= 1);
    expect(app.relyingParty.isReady()).toBe(false);

    issuer.setDiscoveryStatus(200);
    await waitFor('the plugin to be ready', () => app.relyingParty.isReady());
  });

  it('lets an explicit jwksUrl win over the discovered jwks_uri', async () => {
    const key = await generateTestKey();
    const other = await generateTestKey();
    const issuer = await fakeIssuer(other);
    const keys = await listenOnLoopback((_request, response) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwksOf(key))),
    );
    onTestFinished(() => keys.close());
    const { app, clock } = await appOn(issuer.url, { jwksUrl: `${keys.url}/jwks` });
    await waitFor('the plugin to be ready', () => app.relyingParty.isReady());

    expect((await handoff(app, key, clock, issuer.url)).callback.statusCode).toBe(303);
    // A token of the key only the discovered jwks_uri publishes is not accepted.
    const refused = await handoff(app, other, clock, issuer.url);
    expect(refused.callback.statusCode).toBe(400);
    expect(issuer.hits).not.toContain('/discovered/keys');
  });

  it('without discovery, never asks for the document', async () => {
    const key = await generateTestKey();
    const issuer = await fakeIssuer(key);
    const { app } = await appOn(issuer.url, { discovery: false, jwksUrl: `${issuer.url}/discovered/keys` });
    await waitFor('the plugin to be ready', () => app.relyingParty.isReady());

    expect(issuer.hits).not.toContain('/.well-known/jwt-handoff-configuration');
    const start = await app.inject({ url: '/handoff/start' });
    expect(String(start.headers.location)).toMatch(new RegExp(`^${issuer.url}/handoff/authorize\\?`));
  });
});
