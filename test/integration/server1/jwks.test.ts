import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { suiteScope } from '@jwt-handoff/testkit/vitest';
import { calculateJwkThumbprint, type JSONWebKeySet } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Server1Harness, startServer1 } from './helpers.js';

const suite = suiteScope();
let server: Server1Harness;

beforeAll(async () => {
  server = await startServer1({ env: { JWKS_MAX_AGE_SEC: '120' }, scope: suite });
});

async function fetchJwks(app = server.app) {
  const response = await app.inject({ url: '/.well-known/jwks.json' });
  return { response, jwks: response.json<JSONWebKeySet>() };
}

describe('GET /.well-known/jwks.json', () => {
  it('publishes one Ed25519 signing key with public members only', async () => {
    const { response, jwks } = await fetchJwks();

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(jwks.keys).toHaveLength(1);
    const [key] = jwks.keys;
    expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(Object.keys(key ?? {}).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    expect(key).not.toHaveProperty('d');
  });

  it('names each key by its RFC 7638 thumbprint', async () => {
    const { jwks } = await fetchJwks();

    for (const key of jwks.keys) {
      expect(key.kid).toBe(await calculateJwkThumbprint(key, 'sha256'));
    }
  });

  it('is cacheable, with a public max-age and an ETag', async () => {
    const { response } = await fetchJwks();

    expect(response.headers['cache-control']).toBe('public, max-age=120');
    expect(response.headers.etag).toMatch(/^"[^"]+"$/);
  });

  it('answers 304 without a body to If-None-Match with the current ETag', async () => {
    const { response: first } = await fetchJwks();
    const etag = first.headers.etag as string;

    for (const ifNoneMatch of [etag, `W/${etag}`, `"stale", ${etag}`]) {
      const response = await server.app.inject({
        url: '/.well-known/jwks.json',
        headers: { 'if-none-match': ifNoneMatch },
      });

      expect(response.statusCode).toBe(304);
      expect(response.body).toBe('');
      expect(response.headers.etag).toBe(etag);
      expect(response.headers['cache-control']).toBe('public, max-age=120');
    }
  });

  it('answers 200 to If-None-Match with another ETag', async () => {
    const response = await server.app.inject({
      url: '/.well-known/jwks.json',
      headers: { 'if-none-match': '"something-else"' },
    });

    expect(response.statusCode).toBe(200);
    expect(response.json<JSONWebKeySet>().keys).toHaveLength(1);
  });
});

describe('key storage', () => {
  it('keeps the signing key across a restart on the same data directory', async () => {
    const { jwks: before, response: beforeResponse } = await fetchJwks();
    const restarted = await startServer1({
      dataDir: server.dataDir,
      env: { JWKS_MAX_AGE_SEC: '120' },
      clock: server.clock,
    });

    const { jwks: after, response: afterResponse } = await fetchJwks(restarted.app);

    expect(after.keys.map((key) => key.kid)).toEqual(before.keys.map((key) => key.kid));
    expect(afterResponse.headers.etag).toBe(beforeResponse.headers.etag);
  });

  it('keeps the database, which holds the private keys, readable by its owner only', () => {
    const files = readdirSync(server.dataDir).filter((name) => name.startsWith('server1.sqlite'));

    expect(files).toContain('server1.sqlite');
    for (const name of files) {
      expect({ name, mode: statSync(join(server.dataDir, name)).mode & 0o777 }).toEqual({
        name,
        mode: 0o600,
      });
    }
  });
});
