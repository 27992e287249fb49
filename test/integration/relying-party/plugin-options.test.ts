import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalKeySource, type RelyingPartyOptions, relyingParty } from '@jwt-handoff/shared';
import {
  createTestCa,
  generateTestKey,
  jwksOf,
  mintToken,
  type TestClock,
  type TestKey,
  testClock,
  within,
} from '@jwt-handoff/testkit';
import Fastify, { type FastifyInstance } from 'fastify';
import { Agent } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { handoffClaims, ISSUER_URL } from '../server2/helpers.js';

// The plugin registered on a bare fastify app (no error handler, cookie or form plugin of ours),
// driven through inject with a key generated for the test.
const PUBLIC_URL = 'https://app.example';
const SECRET = 'a-test-secret-that-is-32-chars-long!';

async function bareApp(options: Partial<RelyingPartyOptions> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'relying-plugin-'));
  const key = await generateTestKey();
  const clock = testClock();
  const app = Fastify();
  onTestFinished(async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  await app.register(relyingParty, {
    issuer: ISSUER_URL,
    clientId: 'server2',
    publicUrl: PUBLIC_URL,
    sessionSecret: SECRET,
    dataDir,
    keySource: createLocalKeySource({ keys: [key.publicJwk] }),
    now: clock.now,
    ...options,
  });
  app.get('/private', { config: { html: true }, preHandler: app.requireSession() }, async (request) => ({
    sub: request.relyingSession.sub,
  }));
  app.get('/api/x', { preHandler: app.requireServiceToken('x:read') }, async (request) => ({
    caller: request.serviceToken.sub,
  }));
  await app.ready();
  return { app, key, clock };
}

/** Walks start → callback → complete by inject, carrying the cookies by hand. */
async function handoffThrough(app: FastifyInstance, key: TestKey, clock: TestClock, prefix = '') {
  const start = await app.inject({ url: `${prefix}/handoff/start?return_to=%2Fprivate` });
  const authorize = new URL(String(start.headers.location));
  const stateCookie = String(start.headers['set-cookie']).split(';')[0] as string;
  const token = await mintToken(key, handoffClaims(clock, { nonce: authorize.searchParams.get('state') }));
  const callback = await app.inject({
    method: 'POST',
    url: `${prefix}/handoff/callback`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ token }).toString(),
  });
  const complete = await app.inject({
    url: String(callback.headers.location),
    headers: { cookie: stateCookie },
  });
  return { start, authorize, stateCookie, callback, complete };
}

describe('the relyingParty plugin on a bare fastify app', () => {
  it('refuses bad options at registration, naming every one of them', async () => {
    const app = Fastify();
    onTestFinished(() => app.close());
    const registering = app
      .register(relyingParty, {
        issuer: 'not a url',
        clientId: 'has spaces',
        publicUrl: PUBLIC_URL,
        sessionSecret: 'short',
        prefix: 'auth/',
        cookies: { session: 'same', handoffState: 'same' },
        algorithms: ['HS256' as never],
      })
      .ready();
    await expect(registering).rejects.toThrow(
      /"issuer".*"clientId".*"sessionSecret".*"dataDir".*"prefix".*"cookies.session" and "cookies.handoffState" must differ.*"algorithms"/,
    );
  });

  it('refuses a predictable sessionSecret, however long', async () => {
    const app = Fastify();
    onTestFinished(() => app.close());
    const registering = app
      .register(relyingParty, {
        issuer: ISSUER_URL,
        clientId: 'server2',
        publicUrl: PUBLIC_URL,
        sessionSecret: 'x'.repeat(64),
        dataDir: '/nonexistent',
      })
      .ready();
    await expect(registering).rejects.toThrow(/"sessionSecret" is too predictable/);
  });

  it('refuses a redisUrl that is not redis:// or rediss://, and a key prefix SCAN would read as a pattern', async () => {
    const app = Fastify();
    onTestFinished(() => app.close());
    const registering = app
      .register(relyingParty, {
        issuer: ISSUER_URL,
        clientId: 'server2',
        publicUrl: PUBLIC_URL,
        sessionSecret: SECRET,
        redisUrl: 'http://:secret-password@redis:6379',
        redisKeyPrefix: 'app*',
      })
      .ready();
    await expect(registering).rejects.toThrow(
      /"redisUrl" must be a redis:\/\/ or rediss:\/\/ URL.*"redisKeyPrefix"/,
    );
    await expect(registering).rejects.not.toThrow(/secret-password|"dataDir"/);
  });

  it('fails closed when the Redis at redisUrl cannot be reached: not ready, the handoff refused with 503', async () => {
    // Port 1 on loopback refuses at once: a Redis that is down.
    const { app, key, clock } = await bareApp({ redisUrl: 'redis://127.0.0.1:1' });
    expect(app.relyingParty.isReady()).toBe(false);
    const { callback } = await handoffThrough(app, key, clock);
    expect(callback.statusCode).toBe(503);
    expect(callback.json()).toEqual({ error: 'temporarily_unavailable', reason: 'store_unavailable' });
    // The guard answers it the plugin's way, whatever error handler the app has (here fastify's).
    const withCookie = await app.inject({
      url: '/private',
      headers: { cookie: '__Host-s2_session=anything' },
    });
    expect(withCookie.statusCode).toBe(503);
    expect(withCookie.body).toContain('<code data-reason>store_unavailable</code>');
  });

  it('serves its routes under a prefix, with the callback URL and state cookie path to match', async () => {
    const { app, key, clock } = await bareApp({ prefix: '/auth' });
    const run = await handoffThrough(app, key, clock, '/auth');

    expect(run.authorize.origin + run.authorize.pathname).toBe(`${ISSUER_URL}/handoff/authorize`);
    expect(run.authorize.searchParams.get('redirect_uri')).toBe(`${PUBLIC_URL}/auth/handoff/callback`);
    // Over https the state cookie is `__Host-`, whose Path must be `/`, whatever the prefix.
    expect(String(run.start.headers['set-cookie'])).toMatch(
      /^__Host-s2_handoff=[^;]+; Max-Age=600; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
    expect(run.callback.headers.location).toMatch(/^\/auth\/handoff\/complete\?txn=/);
    expect(run.complete.statusCode).toBe(303);
    expect(run.complete.headers.location).toBe('/private');
    expect((await app.inject({ url: '/handoff/start' })).statusCode).toBe(404);
  });

  it('scopes the state cookie to the prefixed handoff routes over plain http, where no prefix exists', async () => {
    const { app, key, clock } = await bareApp({ prefix: '/auth', publicUrl: 'http://app.example' });
    const run = await handoffThrough(app, key, clock, '/auth');

    expect(String(run.start.headers['set-cookie'])).toMatch(
      /^s2_handoff=[^;]+; Max-Age=600; Path=\/auth\/handoff; HttpOnly; SameSite=Lax$/,
    );
    expect(run.complete.statusCode).toBe(303);
    expect(run.complete.headers.location).toBe('/private');
  });

  it('names its cookies as told, with the __Host- prefix over https, and opens the guarded route', async () => {
    const { app, key, clock } = await bareApp({
      cookies: { session: 'billing_session', handoffState: 'billing_handoff' },
    });
    const run = await handoffThrough(app, key, clock);

    expect(run.stateCookie).toMatch(/^__Host-billing_handoff=/);
    const session = String(
      [run.complete.headers['set-cookie']].flat().find((c) => String(c).includes('billing_session')),
    );
    expect(session).toMatch(/^__Host-billing_session=[^;]+; .*HttpOnly.*Secure.*SameSite=Lax/);
    const cookie = session.split(';')[0] as string;
    const open = await app.inject({ url: '/private', headers: { cookie } });
    expect(open.statusCode).toBe(200);
    expect(open.json()).toEqual({ sub: 'user-alice' });
  });

  it('sends a browser without a session to sign in, and answers anything else 401 with a reason', async () => {
    const { app } = await bareApp();
    const browser = await app.inject({ url: '/private?tab=1' });
    expect(browser.statusCode).toBe(303);
    expect(browser.headers.location).toBe('/handoff/start?return_to=%2Fprivate%3Ftab%3D1');

    const api = await app.inject({ url: '/api/x' });
    expect(api.statusCode).toBe(401);
    expect(api.json()).toEqual({ error: 'unauthorized', reason: 'token_missing' });
    expect(api.headers['www-authenticate']).toBe('Bearer realm="server2"');
  });

  it('renders refusals with renderError when given', async () => {
    const { app } = await bareApp({
      renderError: (error, _request, reply) => reply.code(error.statusCode).send({ custom: error.reason }),
    });
    const response = await app.inject({ url: '/handoff/complete?txn=nope' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ custom: 'txn_unknown' });
  });

  it('returns to homePath when the handoff names no page of its own', async () => {
    const { app } = await bareApp({ homePath: '/dashboard' });
    const start = await app.inject({ url: '/handoff/start?return_to=https%3A%2F%2Fevil.example' });
    const cookie = String(start.headers['set-cookie']).split(';')[0] as string;
    const payload = JSON.parse(
      Buffer.from((cookie.split('=')[1] as string).split('.')[0] as string, 'base64url').toString(),
    );
    expect(payload.r).toBe('/dashboard');
  });
});

describe('the relyingParty plugin fetching the JWKS from an issuer with a private CA (tlsCa)', () => {
  /** An https issuer on loopback, certified by a CA made for the test, serving `key`'s JWKS. */
  async function privateCaIssuer() {
    const ca = createTestCa('issuer');
    const { certFile, keyFile } = ca.issue('issuer', ['127.0.0.1']);
    const key = await generateTestKey();
    const server = createHttpsServer(
      { cert: readFileSync(certFile), key: readFileSync(keyFile) },
      (_request, response) => {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(jwksOf(key)));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      ca.remove();
    });
    const jwksUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
    return { ca, jwksUrl };
  }

  /** A bare app on the plugin, listening, whose keys come from `jwksUrl`. */
  async function fetchingApp(jwksUrl: string, tlsCa: readonly string[] | undefined) {
    const dataDir = mkdtempSync(join(tmpdir(), 'relying-plugin-'));
    const app = Fastify();
    onTestFinished(async () => {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    await app.register(relyingParty, {
      issuer: ISSUER_URL,
      clientId: 'server2',
      publicUrl: PUBLIC_URL,
      sessionSecret: SECRET,
      dataDir,
      jwksUrl,
      jwks: { timeoutMs: 2000, cooldownMs: 0 },
      ...(tlsCa ? { tlsCa } : {}),
    });
    await app.ready();
    return app;
  }

  it('is ready once it holds the keys, trusting the CA it was given', async () => {
    const { ca, jwksUrl } = await privateCaIssuer();
    const app = await fetchingApp(jwksUrl, [readFileSync(ca.caFile, 'utf8')]);

    await within(5000, async () => app.relyingParty.isReady());
  });

  it('without the CA, cannot fetch the keys and stays not ready', async () => {
    const { jwksUrl } = await privateCaIssuer();
    const app = await fetchingApp(jwksUrl, undefined);

    await within(5000, async () => !app.relyingParty.keys.isReady() && (await jwksFailed(app)));
    expect(app.relyingParty.isReady()).toBe(false);
  });

  it('refuses tlsCa that is not PEM, and tlsCa beside its own jwks.dispatcher', async () => {
    const app = Fastify();
    onTestFinished(() => app.close());
    const registering = app
      .register(relyingParty, {
        issuer: ISSUER_URL,
        clientId: 'server2',
        publicUrl: PUBLIC_URL,
        sessionSecret: SECRET,
        dataDir: '/nonexistent',
        tlsCa: ['not a certificate'],
        jwks: { dispatcher: new Agent() },
      })
      .ready();
    await expect(registering).rejects.toThrow(
      /"tlsCa" and "jwks.dispatcher" cannot both be given.*"tlsCa" must be a list of PEM certificates/,
    );
  });
});

/** Whether the app's JWKS client has recorded a failed fetch (its metrics say so). */
async function jwksFailed(app: FastifyInstance): Promise<boolean> {
  return /_jwks_fetches_total\{outcome="error"\} [1-9]/.test(await app.relyingParty.metrics.render());
}
