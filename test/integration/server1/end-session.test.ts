import { join } from 'node:path';
import {
  browse,
  CookieJar,
  findForm,
  formPost,
  generateTestKey,
  mintToken,
  waitFor,
} from '@jwt-handoff/testkit';
import { tempDataDir } from '@jwt-handoff/testkit/vitest';
import Database from 'better-sqlite3';
import { type CryptoKey, decodeJwt, importJWK, type JWK } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BILLING,
  clientsWith,
  type FakeClient,
  handOff,
  PUBLIC_URL,
  pageReason,
  SERVER2_SIGNED_OUT,
  type Server1Harness,
  signIn,
  startFakeClient,
  startServer1,
} from './helpers.js';

const BILLING_SIGNED_OUT = 'http://localhost:4003/logout/complete';

let dataDir: string;
let server2: FakeClient;
let billing: FakeClient;

beforeEach(async () => {
  dataDir = tempDataDir('jwt-handoff-server1');
  server2 = await startFakeClient();
  billing = await startFakeClient();
});
afterEach(async () => {
  await Promise.all([server2.close(), billing.close()]);
});

/** server1 with server2 and billing on fake clients; billing registers its own post-logout address. */
function start(): Promise<Server1Harness> {
  const clients = (JSON.parse(clientsWith(server2, billing)) as Array<Record<string, unknown>>).map(
    (client) =>
      client.id === BILLING.id ? { ...client, post_logout_redirect_uris: [BILLING_SIGNED_OUT] } : client,
  );
  return startServer1({ dataDir, env: { CLIENTS: JSON.stringify(clients) } });
}

/** A browser signed in to server1 and handed off to server2 and billing; its server2 logout hint. */
async function signedInEverywhere(server: Server1Harness, username = 'alice') {
  const jar = new CookieJar();
  await signIn(server.app, jar, { username });
  const token = await handOff(server.app, jar);
  await handOff(server.app, jar, BILLING);
  const hint = decodeJwt(token).logout_hint as string;
  return { jar, hint, sid: decodeJwt(token).sid as string };
}

function endSessionUrl(params: Record<string, string | undefined>): string {
  const query = new URLSearchParams(
    Object.entries({
      client_id: 'server2',
      post_logout_redirect_uri: SERVER2_SIGNED_OUT,
      state: 'state-42',
      ...params,
    }).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return `/logout/end-session?${query}`;
}

async function isSignedIn(server: Server1Harness, jar: CookieJar): Promise<boolean> {
  return (await browse(server.app, jar, { url: '/' })).statusCode === 200;
}

/** server1's signing key, read from its database (as an attacker who stole it, or server1 itself, would sign). */
async function server1Key(): Promise<{ kid: string; alg: 'EdDSA'; privateKey: CryptoKey }> {
  const db = new Database(join(dataDir, 'server1.sqlite'), { readonly: true });
  try {
    const row = db.prepare('SELECT kid, private_jwk FROM signing_keys').get() as {
      kid: string;
      private_jwk: string;
    };
    return {
      kid: row.kid,
      alg: 'EdDSA',
      privateKey: (await importJWK(JSON.parse(row.private_jwk) as JWK, 'EdDSA')) as CryptoKey,
    };
  } finally {
    db.close();
  }
}

describe('GET /logout/end-session with a valid hint for the current session', () => {
  it('ends the session, tells the other clients, and goes back to the registered address with the state', async () => {
    const server = await start();
    const { jar, hint, sid } = await signedInEverywhere(server);

    const response = await browse(server.app, jar, { url: endSessionUrl({ logout_hint: hint }) });

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(`${SERVER2_SIGNED_OUT}?state=state-42`);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(await isSignedIn(server, jar)).toBe(false);
    await waitFor(
      'the back-channel logouts',
      () => billing.logouts.length >= 1 && server2.logouts.length >= 1,
    );
    expect(decodeJwt(billing.logouts[0]?.logoutToken as string)).toMatchObject({ aud: BILLING.id, sid });
  });

  it('goes straight back, ending nothing, when the browser has no session', async () => {
    const server = await start();
    const { hint } = await signedInEverywhere(server);

    const response = await browse(server.app, new CookieJar(), { url: endSessionUrl({ logout_hint: hint }) });

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(`${SERVER2_SIGNED_OUT}?state=state-42`);
  });
});

describe('GET /logout/end-session refuses, with a 400 page and never a redirect', () => {
  const cases: Array<[string, Record<string, string | undefined>, string]> = [
    ['an unknown client', { client_id: 'nobody' }, 'invalid_client'],
    [
      'no post_logout_redirect_uri',
      { post_logout_redirect_uri: undefined },
      'invalid_post_logout_redirect_uri',
    ],
    [
      'an unregistered post_logout_redirect_uri',
      { post_logout_redirect_uri: 'https://evil.example/' },
      'invalid_post_logout_redirect_uri',
    ],
    [
      "another client's registered address",
      { post_logout_redirect_uri: BILLING_SIGNED_OUT },
      'invalid_post_logout_redirect_uri',
    ],
    [
      'the registered address with a query',
      { post_logout_redirect_uri: `${SERVER2_SIGNED_OUT}?next=//evil.example` },
      'invalid_post_logout_redirect_uri',
    ],
    [
      'the registered address with a trailing slash',
      { post_logout_redirect_uri: `${SERVER2_SIGNED_OUT}/` },
      'invalid_post_logout_redirect_uri',
    ],
    [
      'the registered address in upper case',
      { post_logout_redirect_uri: SERVER2_SIGNED_OUT.toUpperCase() },
      'invalid_post_logout_redirect_uri',
    ],
    ['a malformed state', { state: 'a b' }, 'invalid_request'],
  ];

  it.each(cases.map(([what, params, reason]) => ({ what, params, reason })))(
    '$what: $reason',
    async ({ params, reason }) => {
      const server = await start();
      const { jar, hint } = await signedInEverywhere(server);

      const response = await browse(server.app, jar, {
        url: endSessionUrl({ logout_hint: hint, ...params }),
      });

      expect(response.statusCode).toBe(400);
      expect(response.headers.location).toBeUndefined();
      expect(pageReason(response.body)).toBe(reason);
      // Even with a valid hint, nothing ended.
      expect(await isSignedIn(server, jar)).toBe(true);
    },
  );

  it('refuses an unregistered address on the confirmation form post too, ending nothing', async () => {
    const server = await start();
    const { jar } = await signedInEverywhere(server);
    const page = await browse(server.app, jar, { url: endSessionUrl({}) });
    const form = findForm(page.body, '/logout/end-session');

    const response = await browse(
      server.app,
      jar,
      formPost(
        '/logout/end-session',
        { ...form.fields, post_logout_redirect_uri: 'https://evil.example/' },
        { origin: PUBLIC_URL },
      ),
    );

    expect(response.statusCode).toBe(400);
    expect(response.headers.location).toBeUndefined();
    expect(pageReason(response.body)).toBe('invalid_post_logout_redirect_uri');
    expect(await isSignedIn(server, jar)).toBe(true);
  });
});

describe('GET /logout/end-session asks for confirmation, and ends nothing, for a hint that does not prove its client', () => {
  const hints: Array<
    [
      string,
      (server: Server1Harness, own: { hint: string; sid: string }) => Promise<string | undefined>,
      string,
    ]
  > = [
    ['no hint', async () => undefined, 'logout_hint_missing'],
    ['a hint that is not a token', async () => 'not-a-token', 'token_malformed'],
    [
      "a hint forged with an attacker's key under server1's kid",
      async (_server, own) => {
        const attacker = await generateTestKey();
        const claims = decodeJwt(own.hint);
        return mintToken({ ...attacker, kid: (await server1Key()).kid }, claims, 'logout_hint+jwt');
      },
      'invalid_signature',
    ],
    [
      'a hint signed by a key server1 never published',
      async (_server, own) => mintToken(await generateTestKey(), decodeJwt(own.hint), 'logout_hint+jwt'),
      'unknown_kid',
    ],
    [
      'an expired hint',
      async (server, own) => {
        const now = Math.floor(server.clock.now() / 1000);
        return mintToken(
          await server1Key(),
          { ...decodeJwt(own.hint), iat: now - 3600, exp: now - 60 },
          'logout_hint+jwt',
        );
      },
      'token_expired',
    ],
    [
      'the handoff token itself (another typ)',
      async (server) => {
        const jar = new CookieJar();
        await signIn(server.app, jar);
        return handOff(server.app, jar);
      },
      'invalid_type',
    ],
    [
      "billing's hint for the same session, at server2's request",
      async (_server, own) => {
        const claims = decodeJwt(own.hint);
        return mintToken(await server1Key(), { ...claims, aud: BILLING.id }, 'logout_hint+jwt');
      },
      'invalid_audience',
    ],
    [
      "the valid hint of bob's session",
      async (server) => (await signedInEverywhere(server, 'bob')).hint,
      'logout_hint_mismatch',
    ],
    [
      "a valid hint of another of alice's sessions",
      async (server) => (await signedInEverywhere(server, 'alice')).hint,
      'logout_hint_mismatch',
    ],
  ];

  it.each(hints.map(([what, makeHint, reason]) => ({ what, makeHint, reason })))(
    '$what: $reason',
    async ({ makeHint, reason }) => {
      const server = await start();
      const own = await signedInEverywhere(server);
      const hint = await makeHint(server, own);

      const response = await browse(server.app, own.jar, { url: endSessionUrl({ logout_hint: hint }) });

      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(pageReason(response.body)).toBe(reason);
      const form = findForm(response.body, '/logout/end-session');
      expect(form.fields).toMatchObject({
        client_id: 'server2',
        post_logout_redirect_uri: SERVER2_SIGNED_OUT,
        state: 'state-42',
      });
      expect(await isSignedIn(server, own.jar)).toBe(true);
      expect(server2.logouts).toEqual([]);
    },
  );

  it('ends the session when the user confirms, with the CSRF-protected form', async () => {
    const server = await start();
    const { jar } = await signedInEverywhere(server);
    const page = await browse(server.app, jar, { url: endSessionUrl({}) });
    const form = findForm(page.body, '/logout/end-session');

    const response = await browse(
      server.app,
      jar,
      formPost('/logout/end-session', form.fields, { origin: PUBLIC_URL }),
    );

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(`${SERVER2_SIGNED_OUT}?state=state-42`);
    expect(await isSignedIn(server, jar)).toBe(false);
    await waitFor('the back-channel logout to billing', () => billing.logouts.length >= 1);
  });

  it.each([
    [
      'without the CSRF token',
      (fields: Record<string, string>) => ({ ...fields, csrf_token: '' }),
      PUBLIC_URL,
    ],
    ['from another origin', (fields: Record<string, string>) => fields, 'https://evil.example'],
  ])('refuses the confirmation %s: 403 csrf_failed, ending nothing', async (_what, change, origin) => {
    const server = await start();
    const { jar } = await signedInEverywhere(server);
    const page = await browse(server.app, jar, { url: endSessionUrl({}) });
    const form = findForm(page.body, '/logout/end-session');

    const response = await browse(
      server.app,
      jar,
      formPost('/logout/end-session', change(form.fields), { origin }),
    );

    expect(response.statusCode).toBe(403);
    expect(pageReason(response.body)).toBe('csrf_failed');
    expect(await isSignedIn(server, jar)).toBe(true);
  });
});
