import { suiteScope } from '@jwt-handoff/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_URL, type Server1Harness, startServer1 } from './helpers.js';

const suite = suiteScope();
let server: Server1Harness;

beforeAll(async () => {
  server = await startServer1({
    env: { JWKS_MAX_AGE_SEC: '120', HANDOFF_TOKEN_TTL: '45', SIGNING_ALG: 'ES256' },
    scope: suite,
  });
});

const PATHS = ['/.well-known/jwt-handoff-configuration', '/.well-known/openid-configuration'];

describe('the discovery document', () => {
  it('names the issuer, its keys and its endpoints under the OpenID Connect Discovery names', async () => {
    const response = await server.app.inject({ url: PATHS[0] });

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toMatchObject({
      issuer: PUBLIC_URL,
      jwks_uri: `${PUBLIC_URL}/.well-known/jwks.json`,
      authorization_endpoint: `${PUBLIC_URL}/handoff/authorize`,
      response_modes_supported: ['form_post'],
      id_token_signing_alg_values_supported: ['ES256'],
      prompt_values_supported: ['login'],
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
    });
    expect(response.json().claims_supported).toContain('auth_time');
  });

  it('describes every token kind with its typ, the lifetime minted and the largest accepted', async () => {
    const { token_kinds: kinds } = (await server.app.inject({ url: PATHS[0] })).json();

    expect(kinds).toEqual({
      handoff: { typ: 'handoff+jwt', lifetime_sec: 45, max_lifetime_sec: 300 },
      service: { typ: 'service+jwt', lifetime_sec: 60, max_lifetime_sec: 60 },
      logout: { typ: 'logout+jwt', lifetime_sec: 120, max_lifetime_sec: 120 },
    });
  });

  it('serves the same bytes at both paths', async () => {
    const [a, b] = await Promise.all(PATHS.map((url) => server.app.inject({ url })));

    expect(a?.body).toBe(b?.body);
    expect(a?.headers.etag).toBe(b?.headers.etag);
  });

  it('names the end-session endpoint (RP-initiated logout) under its OpenID Connect name', async () => {
    const document = (await server.app.inject({ url: PATHS[0] })).json();
    expect(document.end_session_endpoint).toBe(`${document.issuer}/logout/end-session`);
  });

  it.each(PATHS)('%s is cached like the JWKS: public max-age, ETag, a bodiless 304', async (url) => {
    const first = await server.app.inject({ url });
    const etag = first.headers.etag as string;

    expect(first.headers['cache-control']).toBe('public, max-age=120');
    expect(etag).toMatch(/^"[^"]+"$/);
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`]) {
      const again = await server.app.inject({ url, headers: { 'if-none-match': ifNoneMatch } });
      expect(again.statusCode).toBe(304);
      expect(again.body).toBe('');
      expect(again.headers.etag).toBe(etag);
    }
    const changed = await server.app.inject({ url, headers: { 'if-none-match': '"other"' } });
    expect(changed.statusCode).toBe(200);
  });

  it('counts the documents served by status in /metrics', async () => {
    const metrics = await server.app.inject({ url: '/metrics' });

    expect(metrics.body).toMatch(/server1_discovery_requests_total\{status="200"\} [1-9]/);
    expect(metrics.body).toMatch(/server1_discovery_requests_total\{status="304"\} [1-9]/);
  });
});
