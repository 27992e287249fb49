import {
  createRemoteKeySource,
  createVerifier,
  KeySourceUnavailableError,
  type RemoteKeySourceOptions,
  SERVICE_PROFILE,
} from '@jwt-handoff/shared';
import { generateTestKey, jwksOf, mintToken, type TestKey, testClock } from '@jwt-handoff/testkit';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Handler, json, startServer, type TestServer } from './helpers/http-server.js';
import { AUDIENCE, ISSUER, serviceClaims } from './helpers/tokens.js';

let issuerKey: TestKey;
let nextKey: TestKey;
let strangerKey: TestKey;
const servers: TestServer[] = [];

beforeAll(async () => {
  [issuerKey, nextKey, strangerKey] = await Promise.all([
    generateTestKey(),
    generateTestKey(),
    generateTestKey(),
  ]);
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(handler: Handler): Promise<TestServer> {
  const server = await startServer(handler);
  servers.push(server);
  return server;
}

/** A remote key source for `server` and a service-token verifier that uses it. */
function remoteSetup(server: TestServer, options: Partial<RemoteKeySourceOptions> = {}) {
  const keySource = createRemoteKeySource({ url: server.url, ...options });
  // Service tokens are reusable, so one token can be verified again and again; the clock is
  // the tokens' own, while the key source's cache runs on real time.
  const clock = testClock();
  const verify = createVerifier({
    profile: SERVICE_PROFILE,
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['EdDSA'],
    keySource,
    now: clock.now,
  });
  return { keySource, verify };
}

const serviceToken = (key: TestKey) => mintToken(key, serviceClaims(), 'service+jwt');

/** Answers with headers and then never sends the rest of the body. */
const stallAfterHeaders: Handler = (_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.write('{"keys":[');
};

describe('createRemoteKeySource', () => {
  it('is not ready before its first fetch and ready after refresh()', async () => {
    const server = await serve(json(jwksOf(issuerKey)));
    const { keySource } = remoteSetup(server);

    expect(keySource.isReady()).toBe(false);
    await keySource.refresh();
    expect(keySource.isReady()).toBe(true);
    expect(server.hits()).toBe(1);
  });

  it('verifies a token with the keys it fetched', async () => {
    const server = await serve(json(jwksOf(issuerKey)));
    const { keySource, verify } = remoteSetup(server);
    await keySource.refresh();

    const result = await verify(await serviceToken(issuerKey));

    expect(result.ok).toBe(true);
  });

  it('fetches the keys on first use when refresh() was never called', async () => {
    const server = await serve(json(jwksOf(issuerKey)));
    const { verify } = remoteSetup(server);

    expect((await verify(await serviceToken(issuerKey))).ok).toBe(true);
    expect(server.hits()).toBe(1);
  });

  it('rejects a token whose kid the JWKS does not hold as unknown_kid', async () => {
    const server = await serve(json(jwksOf(issuerKey)));
    const { keySource, verify } = remoteSetup(server);
    await keySource.refresh();

    expect(await verify(await serviceToken(strangerKey))).toMatchObject({ ok: false, reason: 'unknown_kid' });
  });

  it('refetches once for unknown kids, then not again during the cool-down', async () => {
    const server = await serve(json(jwksOf(issuerKey)));
    const { keySource, verify } = remoteSetup(server, { cooldownMs: 60_000 });
    await keySource.refresh();

    for (let i = 0; i < 5; i += 1) await verify(await serviceToken(strangerKey));

    // The prefetch, then the one refetch the first unknown kid caused.
    expect(server.hits()).toBe(2);
  });

  it('picks up a newly published key on an unknown kid once the cool-down has passed', async () => {
    const server = await serve(json(jwksOf(issuerKey)));
    const { keySource, verify } = remoteSetup(server, { cooldownMs: 0 });
    await keySource.refresh();
    server.handle(json(jwksOf(issuerKey, nextKey)));

    expect((await verify(await serviceToken(nextKey))).ok).toBe(true);
    expect(server.hits()).toBe(2);
  });

  it('keeps verifying with cached keys while the endpoint is down and the cache is fresh', async () => {
    const server = await serve(json(jwksOf(issuerKey)));
    const { keySource, verify } = remoteSetup(server);
    await keySource.refresh();
    server.handle((_request, response) => {
      response.statusCode = 503;
      response.end();
    });

    expect((await verify(await serviceToken(issuerKey))).ok).toBe(true);
    expect(keySource.isReady()).toBe(true);
  });

  describe('refuses a JWKS it should not trust', () => {
    const cases: [string, Handler][] = [
      [
        'a 500 answer',
        (_request, response) => {
          response.statusCode = 500;
          response.end(JSON.stringify(jwksOf()));
        },
      ],
      [
        'a body that is not JSON',
        (_request, response) => {
          response.setHeader('content-type', 'application/json');
          response.end('{"keys": [');
        },
      ],
      ['JSON that is not a key set', json({ keys: 'none' })],
      [
        'a declared body over maxResponseBytes',
        (_request, response) => {
          response.setHeader('content-type', 'application/json');
          response.end(JSON.stringify({ ...jwksOf(issuerKey), padding: 'x'.repeat(4096) }));
        },
      ],
      [
        'a chunked body over maxResponseBytes',
        (_request, response) => {
          response.setHeader('content-type', 'application/json');
          // No content-length: the limit must be enforced while reading.
          response.write(`{"keys":${JSON.stringify(jwksOf(issuerKey).keys)},"padding":"`);
          for (let i = 0; i < 8; i += 1) response.write('x'.repeat(1024));
          response.end('"}');
        },
      ],
    ];

    it.each(cases)('rejects refresh() on %s and reports jwks_unavailable', async (_name, handler) => {
      const server = await serve(handler);
      const { keySource, verify } = remoteSetup(server, { maxResponseBytes: 2048 });

      await expect(keySource.refresh()).rejects.toBeInstanceOf(KeySourceUnavailableError);
      expect(keySource.isReady()).toBe(false);
      expect(await verify(await serviceToken(issuerKey))).toMatchObject({
        ok: false,
        reason: 'jwks_unavailable',
      });
    });

    it('accepts a body of exactly maxResponseBytes', async () => {
      const body = JSON.stringify(jwksOf(issuerKey));
      const server = await serve(json(jwksOf(issuerKey)));
      const { keySource } = remoteSetup(server, { maxResponseBytes: Buffer.byteLength(body) });

      await expect(keySource.refresh()).resolves.toBeUndefined();
    });

    it('does not follow a redirect to another origin, even to a server with valid keys', async () => {
      const elsewhere = await serve(json(jwksOf(issuerKey)));
      const server = await serve((_request, response) => {
        response.writeHead(302, { location: elsewhere.url.href });
        response.end();
      });
      const { keySource, verify } = remoteSetup(server);

      await expect(keySource.refresh()).rejects.toBeInstanceOf(KeySourceUnavailableError);
      expect(await verify(await serviceToken(issuerKey))).toMatchObject({
        ok: false,
        reason: 'jwks_unavailable',
      });
      expect(elsewhere.hits()).toBe(0);
    });

    it.each([
      ['never answers', (() => {}) as Handler],
      ['stalls after the headers', stallAfterHeaders],
    ])('gives up after timeoutMs on a server that %s', async (_name, handler) => {
      const server = await serve(handler);
      const { keySource, verify } = remoteSetup(server, { timeoutMs: 200 });

      const started = performance.now();
      await expect(keySource.refresh()).rejects.toBeInstanceOf(KeySourceUnavailableError);
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(await verify(await serviceToken(issuerKey))).toMatchObject({
        ok: false,
        reason: 'jwks_unavailable',
      });
    });
  });
});
