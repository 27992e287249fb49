import {
  createServiceClient,
  createServiceTokenCache,
  ServiceCallError,
  type ServiceClient,
  type SigningKey,
} from '@jwt-handoff/shared';
import { generateTestKey, jwksOf, T0, type TestKey, testClock } from '@jwt-handoff/testkit';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { json, startServer, type TestServer } from './helpers/http-server.js';
import { ISSUER } from './helpers/tokens.js';

const SERVICE_ID = 'server1';

let key: TestKey;
let otherKey: TestKey;

beforeAll(async () => {
  [key, otherKey] = await Promise.all([generateTestKey('EdDSA'), generateTestKey('ES256')]);
});

function signingKeyOf(testKey: TestKey): SigningKey {
  return { kid: testKey.kid, alg: testKey.alg, privateKey: testKey.privateKey };
}

/** A token cache over `key` whose clock starts at T0 and is moved with `clock.setSec`. */
function tokenCache(options: { signingKey?: () => SigningKey; ttlSec?: number } = {}) {
  const clock = testClock();
  const tokens = createServiceTokenCache({
    issuer: ISSUER,
    serviceId: SERVICE_ID,
    signingKey: options.signingKey ?? (() => signingKeyOf(key)),
    ttlSec: options.ttlSec,
    now: clock.now,
  });
  return { tokens, clock };
}

/** The verified claims of a service token, checked against `publicKey`'s JWK at `atSec`. */
async function verified(token: string, publicKey: TestKey = key, atSec = T0) {
  return jwtVerify(token, createLocalJWKSet(jwksOf(publicKey)), {
    typ: 'service+jwt',
    issuer: ISSUER,
    currentDate: new Date(atSec * 1000),
  });
}

describe('createServiceTokenCache', () => {
  it('mints a service+jwt naming this service, the audience and the scope, living 60 s', async () => {
    const { tokens } = tokenCache();

    const token = await tokens('server2', 'activity:read');

    const { payload, protectedHeader } = await verified(token);
    expect(protectedHeader).toEqual({ alg: 'EdDSA', kid: key.kid, typ: 'service+jwt' });
    expect(payload).toMatchObject({
      iss: ISSUER,
      sub: SERVICE_ID,
      aud: 'server2',
      scope: 'activity:read',
      iat: T0,
      exp: T0 + 60,
    });
    expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  });

  it('hands out the same token until 15 s before it expires, then a new one with a new jti', async () => {
    const { tokens, clock } = tokenCache();
    const first = await tokens('server2', 'activity:read');

    clock.setSec(T0 + 44);
    expect(await tokens('server2', 'activity:read')).toBe(first);

    clock.setSec(T0 + 45);
    const renewed = await tokens('server2', 'activity:read');

    expect(renewed).not.toBe(first);
    const [before, after] = [
      (await verified(first)).payload,
      (await verified(renewed, key, T0 + 45)).payload,
    ];
    expect(after.jti).not.toBe(before.jti);
    expect(after.iat).toBe(T0 + 45);
    expect(after.exp).toBe(T0 + 105);
    clock.setSec(T0 + 60);
    expect(await tokens('server2', 'activity:read')).toBe(renewed);
  });

  it('keeps a separate token for each audience and scope', async () => {
    const { tokens } = tokenCache();

    const [base, otherAudience, otherScope] = await Promise.all([
      tokens('server2', 'activity:read'),
      tokens('reports', 'activity:read'),
      tokens('server2', 'activity:write'),
    ]);

    expect(new Set([base, otherAudience, otherScope]).size).toBe(3);
    expect((await verified(otherAudience)).payload.aud).toBe('reports');
    expect((await verified(otherScope)).payload.scope).toBe('activity:write');
    expect(await tokens('server2', 'activity:read')).toBe(base);
  });

  it('mints a new token as soon as another key signs (its kid changed)', async () => {
    let current = key;
    const { tokens } = tokenCache({ signingKey: () => signingKeyOf(current) });
    const first = await tokens('server2', 'activity:read');

    current = otherKey;
    const afterRotation = await tokens('server2', 'activity:read');

    expect(afterRotation).not.toBe(first);
    expect(decodeProtectedHeader(afterRotation)).toEqual({
      alg: 'ES256',
      kid: otherKey.kid,
      typ: 'service+jwt',
    });
    await expect(verified(afterRotation, otherKey)).resolves.toBeDefined();
  });

  it('lets concurrent callers share one signature', async () => {
    const { tokens } = tokenCache();

    const results = await Promise.all([1, 2, 3, 4].map(() => tokens('server2', 'activity:read')));

    // Every mint draws a fresh random jti, so one token string means one signature.
    expect(new Set(results).size).toBe(1);
  });

  it('refuses a lifetime over the 60 s the service profile allows', () => {
    expect(() => tokenCache({ ttlSec: 61 })).toThrow(TypeError);
    expect(() => tokenCache({ ttlSec: 60 })).not.toThrow();
  });
});

describe('createServiceClient', () => {
  const servers: TestServer[] = [];
  const clients: ServiceClient[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  /** A client whose tokens are minted by a cache over the test key, on the real clock. */
  function serviceClient(options: { responseTimeoutMs?: number; maxResponseBytes?: number } = {}) {
    const client = createServiceClient({
      tokens: createServiceTokenCache({
        issuer: ISSUER,
        serviceId: SERVICE_ID,
        signingKey: () => signingKeyOf(key),
      }),
      ...options,
    });
    clients.push(client);
    return client;
  }

  async function server(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
    const started = await startServer(handler, '/api/users/u-1/activity');
    servers.push(started);
    return started;
  }

  function call(url: URL | string, signal?: AbortSignal) {
    return { url: String(url), audience: 'server2', scope: 'activity:read', signal };
  }

  /** What `promise` rejects with; fails the test when it resolves. */
  async function rejection(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => expect.fail('the call succeeded'),
      (err: unknown) => err,
    );
  }

  it('sends the service token as a Bearer credential and parses the JSON answer', async () => {
    let authorization: string | undefined;
    let accept: string | undefined;
    const api = await server((request, response) => {
      authorization = request.headers.authorization;
      accept = request.headers.accept;
      json({ sub: 'u-1', active_sessions: 2 })(request, response);
    });

    const answer = await serviceClient().getJson(call(api.url));

    const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1] as string;
    // The answer names the token it was sent with, so a caller can show what it sent.
    expect(answer).toEqual({ status: 200, body: { sub: 'u-1', active_sessions: 2 }, token });
    expect(accept).toBe('application/json');
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwksOf(key)), { typ: 'service+jwt' });
    expect(payload).toMatchObject({ iss: ISSUER, sub: SERVICE_ID, aud: 'server2', scope: 'activity:read' });
  });

  it('does not follow a redirect, so the token never reaches where Location points', async () => {
    const elsewhere = await server(json({ stolen: true }));
    const api = await server((_request, response) => {
      response.writeHead(302, { location: elsewhere.url.href }).end();
    });

    const error = await rejection(serviceClient().getJson(call(api.url)));

    expect(error).toBeInstanceOf(ServiceCallError);
    expect((error as ServiceCallError).status).toBe(302);
    expect(elsewhere.hits()).toBe(0);
  });

  it.each([401, 403, 404, 500, 503])(
    'turns a %i answer into a ServiceCallError with that status',
    async (status) => {
      const api = await server((_request, response) => {
        response.writeHead(status, { 'content-type': 'application/json' }).end('{"error":"x"}');
      });

      const error = await rejection(serviceClient().getJson(call(api.url)));

      expect(error).toBeInstanceOf(ServiceCallError);
      expect((error as ServiceCallError).status).toBe(status);
    },
  );

  it('gives up on a server that never answers after the response timeout', async () => {
    const api = await server(() => {});
    const startedAt = Date.now();

    const error = await rejection(serviceClient({ responseTimeoutMs: 200 }).getJson(call(api.url)));

    expect(error).toBeInstanceOf(ServiceCallError);
    // Generous: undici's timers are coarse; what matters is that the call does end.
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });

  it('gives up on a body that stops arriving after the headers', async () => {
    const api = await server((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"sub":');
    });
    const startedAt = Date.now();

    // Not pinned to ServiceCallError: an error while the body streams comes through as undici's own.
    await expect(serviceClient({ responseTimeoutMs: 200 }).getJson(call(api.url))).rejects.toThrow();
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });

  it('refuses a body over maxResponseBytes that declares its length', async () => {
    const api = await server(json({ padding: 'x'.repeat(2_000) }));

    const error = await rejection(serviceClient({ maxResponseBytes: 1_024 }).getJson(call(api.url)));

    expect(error).toBeInstanceOf(ServiceCallError);
    expect((error as ServiceCallError).message).toMatch(/limit/);
  });

  it('refuses a chunked body once it grows over maxResponseBytes', async () => {
    const api = await server((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write(`{"padding":"${'x'.repeat(800)}`);
      response.end(`${'x'.repeat(800)}"}`);
    });

    const error = await rejection(serviceClient({ maxResponseBytes: 1_024 }).getJson(call(api.url)));

    expect(error).toBeInstanceOf(ServiceCallError);
    expect((error as ServiceCallError).message).toMatch(/limit/);
  });

  it('refuses a body that is not JSON', async () => {
    const api = await server((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<h1>hello</h1>');
    });

    const error = await rejection(serviceClient().getJson(call(api.url)));

    expect(error).toBeInstanceOf(ServiceCallError);
    expect((error as ServiceCallError).status).toBe(200);
  });

  it('reports a refused connection as a ServiceCallError without a status', async () => {
    const gone = await startServer(json({}), '/api/users/u-1/activity');
    await gone.close();

    const error = await rejection(serviceClient().getJson(call(gone.url)));

    expect(error).toBeInstanceOf(ServiceCallError);
    expect((error as ServiceCallError).status).toBeUndefined();
  });

  it("stops at the call's own deadline, well before the client's timeouts", async () => {
    const api = await server(() => {});
    const startedAt = Date.now();

    const error = await rejection(
      serviceClient({ responseTimeoutMs: 30_000 }).getJson(call(api.url, AbortSignal.timeout(100))),
    );

    expect(error).toBeInstanceOf(ServiceCallError);
    expect(Date.now() - startedAt).toBeLessThan(10_000);
  });
});
