import { randomUUID } from 'node:crypto';
import { createLocalKeySource } from '@jwt-handoff/shared';
import { type Claims, generateTestKey, mintToken, type TestKey, withOverrides } from '@jwt-handoff/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENT_ID,
  expectJsonError,
  getActivity,
  ISSUER_URL,
  metricLines,
  postBackchannelLogout,
  postCallback,
  type Response,
  type Server2Harness,
  serviceClaims,
  startServer2,
  unavailableKeySource,
} from './helpers.js';

let signer: TestKey;
let revoked: TestKey;
let attacker: TestKey;

beforeAll(async () => {
  [signer, revoked, attacker] = await Promise.all([generateTestKey(), generateTestKey(), generateTestKey()]);
});

/** server2 trusting two issuer keys: `signer` (which signs the events) and `revoked`. */
function startWithTwoKeys(): Promise<Server2Harness> {
  return startServer2({
    key: signer,
    keySource: createLocalKeySource({ keys: [signer.publicJwk, revoked.publicJwk] }),
  });
}

/** The claims of a keys-changed event server1 sends now, naming `revoked` (spelled out, not imported). */
function keysChangedClaims(server: Server2Harness, overrides: Claims = {}): Claims {
  const iat = server.clock.nowSec();
  return withOverrides(
    {
      iss: ISSUER_URL,
      sub: ISSUER_URL,
      aud: CLIENT_ID,
      jti: randomUUID(),
      iat,
      exp: iat + 120,
      revoked_kids: [revoked.kid],
    },
    overrides,
  );
}

function keysChangedToken(
  server: Server2Harness,
  overrides: Claims = {},
  options: { key?: TestKey; typ?: string; header?: Record<string, unknown> } = {},
): Promise<string> {
  return mintToken(
    options.key ?? signer,
    keysChangedClaims(server, overrides),
    options.typ ?? 'keys-changed+jwt',
    options.header,
  );
}

const postEvent = (server: Server2Harness, token: string) =>
  postBackchannelLogout(server, { keys_changed_token: token });

/** A service call signed by `key`: 200 while server2 trusts the key. */
async function callApi(server: Server2Harness, key: TestKey): Promise<Response> {
  const token = await mintToken(key, serviceClaims(server.clock), 'service+jwt');
  return getActivity(server, 'user-alice', `Bearer ${token}`);
}

describe('a keys-changed event at POST /backchannel-logout', () => {
  it('refuses the revoked key from then on, for every kind of token, and keeps the others', async () => {
    const server = await startWithTwoKeys();
    // A service token of the revoked key, verified (and cached) before the event.
    const early = await mintToken(revoked, serviceClaims(server.clock), 'service+jwt');
    expect((await getActivity(server, 'user-alice', `Bearer ${early}`)).statusCode).toBe(200);

    const response = await postEvent(server, await keysChangedToken(server));

    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expectJsonError(await getActivity(server, 'user-alice', `Bearer ${early}`), 401, 'key_revoked');
    expectJsonError(await callApi(server, revoked), 401, 'key_revoked');
    expectJsonError(
      await postCallback(server, await mintToken(revoked, { ...(await handoff(server)) })),
      400,
      'key_revoked',
    );
    expect((await callApi(server, signer)).statusCode).toBe(200);
    expect(await metricLines(server)).toContain('server2_keys_changed_events_total 1');
  });

  it('refuses a replayed event: token_replayed', async () => {
    const server = await startWithTwoKeys();
    const token = await keysChangedToken(server);
    expect((await postEvent(server, token)).statusCode).toBe(200);

    expectJsonError(await postEvent(server, token), 400, 'token_replayed');
  });

  it('refuses an event signed by a key it revokes: key_revoked', async () => {
    const server = await startWithTwoKeys();
    expect((await postEvent(server, await keysChangedToken(server))).statusCode).toBe(200);

    const fromRevoked = await keysChangedToken(server, { revoked_kids: [signer.kid] }, { key: revoked });

    expectJsonError(await postEvent(server, fromRevoked), 400, 'key_revoked');
    expect((await callApi(server, signer)).statusCode).toBe(200);
  });

  const refusals: Array<{
    what: string;
    token: (server: Server2Harness) => Promise<string>;
    field?: string;
    reason: string;
  }> = [
    {
      what: 'forged with a key the issuer never published',
      token: (server) => keysChangedToken(server, {}, { key: attacker }),
      reason: 'unknown_kid',
    },
    {
      what: "forged with an attacker's key under the issuer's kid",
      token: (server) => keysChangedToken(server, {}, { key: attacker, header: { kid: signer.kid } }),
      reason: 'invalid_signature',
    },
    {
      what: 'for another client',
      token: (server) => keysChangedToken(server, { aud: 'billing' }),
      reason: 'invalid_audience',
    },
    {
      what: 'from another issuer',
      token: (server) => keysChangedToken(server, { iss: 'http://evil.example', sub: 'http://evil.example' }),
      reason: 'invalid_issuer',
    },
    {
      what: 'of typ logout+jwt',
      token: (server) => keysChangedToken(server, {}, { typ: 'logout+jwt' }),
      reason: 'invalid_type',
    },
    {
      what: 'without a typ',
      token: (server) =>
        keysChangedToken(server, {}, { typ: undefined as unknown as string, header: { typ: undefined } }),
      reason: 'invalid_type',
    },
    {
      what: 'posted as a logout_token',
      token: (server) => keysChangedToken(server),
      field: 'logout_token',
      reason: 'invalid_type',
    },
    {
      what: 'a logout token posted as a keys_changed_token',
      token: (server) => server.mintLogout(),
      reason: 'invalid_type',
    },
    {
      what: 'expired',
      token: (server) =>
        keysChangedToken(server, { iat: server.clock.nowSec() - 200, exp: server.clock.nowSec() - 80 }),
      reason: 'token_expired',
    },
    {
      what: 'living longer than 120 s',
      token: (server) => keysChangedToken(server, { exp: server.clock.nowSec() + 600 }),
      reason: 'lifetime_too_long',
    },
    {
      what: 'without a jti',
      token: (server) => keysChangedToken(server, { jti: undefined }),
      reason: 'token_malformed',
    },
    {
      what: 'naming no kid',
      token: (server) => keysChangedToken(server, { revoked_kids: [] }),
      reason: 'token_malformed',
    },
    {
      what: 'with revoked_kids that is not a list of kids',
      token: (server) => keysChangedToken(server, { revoked_kids: revoked.kid }),
      reason: 'token_malformed',
    },
    {
      what: 'about a subject other than the issuer',
      token: (server) => keysChangedToken(server, { sub: 'user-alice' }),
      reason: 'token_malformed',
    },
  ];

  it.each(refusals)(
    'refuses an event $what: $reason, and revokes nothing',
    async ({ token, field, reason }) => {
      const server = await startWithTwoKeys();

      const response = await postBackchannelLogout(server, {
        [field ?? 'keys_changed_token']: await token(server),
      });

      expect(expectJsonError(response, 400, reason).error).toBe('invalid_request');
      expect((await callApi(server, revoked)).statusCode).toBe(200);
      expect(await metricLines(server)).not.toContain('server2_keys_changed_events_total 1');
    },
  );

  it('refuses a post carrying both a logout_token and a keys_changed_token: invalid_request', async () => {
    const server = await startWithTwoKeys();

    const response = await postBackchannelLogout(server, {
      logout_token: await server.mintLogout(),
      keys_changed_token: await keysChangedToken(server),
    });

    expectJsonError(response, 400, 'invalid_request');
    expect((await callApi(server, revoked)).statusCode).toBe(200);
  });

  it('answers 503 jwks_unavailable while the issuer keys cannot be had, so that server1 retries', async () => {
    const server = await startServer2({ key: signer, keySource: unavailableKeySource() });

    expectJsonError(await postEvent(server, await keysChangedToken(server)), 503, 'jwks_unavailable');
  });
});

/** The claims of a handoff token issued now, for the callback. */
async function handoff(server: Server2Harness): Promise<Claims> {
  const iat = server.clock.nowSec();
  return {
    iss: ISSUER_URL,
    aud: CLIENT_ID,
    sub: 'user-alice',
    jti: randomUUID(),
    nonce: 'n',
    iat,
    exp: iat + 60,
    auth_time: iat,
    sid: 's',
  };
}
