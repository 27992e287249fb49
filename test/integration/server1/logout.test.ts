import { join } from 'node:path';
import { browse, CookieJar, findForm, formPost, hiddenField, testClock, waitFor } from '@jwt-handoff/testkit';
import { tempDataDir } from '@jwt-handoff/testkit/vitest';
import Database from 'better-sqlite3';
import { createLocalJWKSet, decodeJwt, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ApiHandler,
  type BackchannelAnswer,
  BILLING,
  clientsWith,
  type FakeClient,
  handOff,
  metric,
  PUBLIC_URL,
  pageReason,
  publishedKeys,
  SERVER2_CALLBACK,
  type Server1Harness,
  type SignOutPath,
  signIn,
  signOutTokenOf,
  signOutWithForm,
  startFakeClient,
  startServer1,
  userIdOf,
} from './helpers.js';

const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** Short back-off, so retries happen within a test. */
const FAST_RETRIES = { LOGOUT_RETRY_BASE_MS: '20', LOGOUT_RETRY_MAX_MS: '100' };

let dataDir: string;
let client: FakeClient;

beforeEach(async () => {
  dataDir = tempDataDir('jwt-handoff-server1');
  client = await startFakeClient();
});

afterEach(async () => {
  // The client goes first (the apps close when the test finishes, after this): a delivery
  // hanging on it would hold up the app's close.
  await client.close();
});

/** server1 on this test's data directory, with server2's back-channel URL and API on the fake client. */
function startWithClient(env: Record<string, string> = {}, clock = testClock()): Promise<Server1Harness> {
  return startServer1({ dataDir, env: { CLIENTS: clientsWith(client), ...env }, clock });
}

/** A new browser signed in as `username`. */
async function signedIn(server: Server1Harness, username = 'alice'): Promise<CookieJar> {
  const jar = new CookieJar();
  await signIn(server.app, jar, { username });
  if (!jar.get('s1_session')) throw new Error('sign-in set no session cookie');
  return jar;
}

/**
 * A new browser signed in as `username` and handed off to server2 once: only then is server2
 * told of its sign-out.
 */
async function handedOff(server: Server1Harness, username = 'alice'): Promise<CookieJar> {
  const jar = await signedIn(server, username);
  await handOff(server.app, jar);
  return jar;
}

/** Presses a sign-out button on server1's dashboard. */
function signOut(server: Server1Harness, jar: CookieJar, path: SignOutPath = '/logout') {
  return signOutWithForm(server.app, jar, path);
}

async function isSignedIn(server: Server1Harness, jar: CookieJar): Promise<boolean> {
  const response = await browse(server.app, jar, { url: '/' });
  return response.statusCode === 200;
}

/** The sid the handoff tokens of this browser's session carry. */
async function handoffSid(server: Server1Harness, jar: CookieJar): Promise<string> {
  const query = new URLSearchParams({ client_id: 'server2', redirect_uri: SERVER2_CALLBACK, state: 's-1' });
  const page = await browse(server.app, jar, { url: `/handoff/authorize?${query}` });
  const { payload } = await jwtVerify(
    hiddenField(page.body, 'token'),
    createLocalJWKSet(await publishedKeys(server.app)),
    { currentDate: new Date(server.clock.now()) },
  );
  return payload.sid as string;
}

/** Verifies a logout token as server2 (or `audience`) would: server1's JWKS, typ, issuer and audience. */
async function verifyLogoutToken(server: Server1Harness, token: string, audience = 'server2') {
  return jwtVerify(token, createLocalJWKSet(await publishedKeys(server.app)), {
    algorithms: ['EdDSA'],
    typ: 'logout+jwt',
    issuer: PUBLIC_URL,
    audience,
    currentDate: new Date(server.clock.now()),
  });
}

async function claimsOfEveryLogout(server: Server1Harness): Promise<JWTPayload[]> {
  return Promise.all(
    client.logouts.map(async (logout) => (await verifyLogoutToken(server, logout.logoutToken)).payload),
  );
}

function deliveries(server: Server1Harness, outcome: 'delivered' | 'retry' | 'rejected' | 'expired') {
  return metric(server.app, `server1_logout_deliveries_total{outcome="${outcome}"}`);
}

/** Waits until at least `count` attempts ended with `outcome`; resolves with how many did. */
async function outcomeCount(
  server: Server1Harness,
  outcome: 'delivered' | 'retry' | 'rejected' | 'expired',
  count: number,
): Promise<number> {
  await waitFor(
    `${count} back-channel attempt(s) ending "${outcome}"`,
    async () => ((await deliveries(server, outcome)) ?? 0) >= count,
  );
  return (await deliveries(server, outcome)) as number;
}

function outboxDepth(server: Server1Harness) {
  return metric(server.app, 'server1_logout_outbox_depth');
}

describe('POST /logout', () => {
  it('ends the session and posts exactly one logout token, as a form, to the client', async () => {
    const server = await startWithClient();
    const jar = await handedOff(server);

    const response = await signOut(server, jar);

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/login?signed_out=1');
    expect(await isSignedIn(server, jar)).toBe(false);
    expect(await outcomeCount(server, 'delivered', 1)).toBe(1);
    expect(client.logouts).toHaveLength(1);
    expect(client.logouts[0]?.contentType).toBe('application/x-www-form-urlencoded');
    expect([...(client.logouts[0]?.fields.keys() ?? [])]).toEqual(['logout_token']);
    expect(await outboxDepth(server)).toBe(0);
  });

  it('signs a logout+jwt naming the user and the session its handoff tokens carried', async () => {
    const server = await startWithClient();
    const jar = await signedIn(server);
    const userId = await userIdOf(server.app, jar);
    const sid = await handoffSid(server, jar);

    await signOut(server, jar);
    await outcomeCount(server, 'delivered', 1);

    const { payload, protectedHeader } = await verifyLogoutToken(
      server,
      client.logouts[0]?.logoutToken ?? '',
    );
    expect(protectedHeader).toMatchObject({ typ: 'logout+jwt', alg: 'EdDSA' });
    expect(payload).toMatchObject({
      iss: PUBLIC_URL,
      aud: 'server2',
      sub: userId,
      sid,
      iat: server.clock.nowSec(),
    });
    expect(payload.events).toEqual({ [BACKCHANNEL_LOGOUT_EVENT]: {} });
    expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(payload).not.toHaveProperty('nonce');
    expect(payload).not.toHaveProperty('tokens_valid_after');
    expect((payload.exp as number) - (payload.iat as number)).toBe(120);
  });

  it('without a session answers 303 and tells no client anything', async () => {
    const server = await startWithClient();

    const response = await browse(
      server.app,
      new CookieJar(),
      formPost('/logout', {}, { origin: PUBLIC_URL }),
    );

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/login?signed_out=1');
    // The outbox is written before the answer, so an empty one means nothing is on its way.
    expect(await outboxDepth(server)).toBe(0);
    expect(client.logouts).toHaveLength(0);
  });

  it('from a foreign Origin is refused with 403 csrf_failed, keeps the session and tells no client', async () => {
    const server = await startWithClient();
    const jar = await signedIn(server);
    const sid = await handoffSid(server, jar);

    // With the right token: the Origin check is a layer of its own.
    const response = await browse(
      server.app,
      jar,
      formPost(
        '/logout',
        { csrf_token: await signOutTokenOf(server.app, jar) },
        { origin: 'http://localhost:4002' },
      ),
    );

    expect(response.statusCode).toBe(403);
    expect(pageReason(response.body)).toBe('csrf_failed');
    expect(await outboxDepth(server)).toBe(0);
    expect(await isSignedIn(server, jar)).toBe(true);
    // The real sign-out that follows is the first and only thing the client hears.
    await signOut(server, jar);
    await outcomeCount(server, 'delivered', 1);
    expect((await claimsOfEveryLogout(server)).map((claims) => claims.sid)).toEqual([sid]);
  });
});

describe('POST /logout/everywhere', () => {
  it("ends every session of the user and leaves another user's session alone", async () => {
    const server = await startWithClient();
    const [laptop, phone, bob] = [
      await signedIn(server),
      await signedIn(server),
      await signedIn(server, 'bob'),
    ];

    const response = await signOut(server, laptop, '/logout/everywhere');

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/login?signed_out=1');
    expect(await isSignedIn(server, laptop)).toBe(false);
    expect(await isSignedIn(server, phone)).toBe(false);
    expect(await isSignedIn(server, bob)).toBe(true);
  });

  it('posts one token naming the user, with no sid, revoking tokens issued up to this second', async () => {
    const server = await startWithClient();
    const laptop = await handedOff(server);
    await signedIn(server);
    const userId = await userIdOf(server.app, laptop);
    server.clock.advance(1_234);

    await signOut(server, laptop, '/logout/everywhere');

    expect(await outcomeCount(server, 'delivered', 1)).toBe(1);
    const [claims] = await claimsOfEveryLogout(server);
    expect(client.logouts).toHaveLength(1);
    expect(claims).toMatchObject({ sub: userId, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } });
    expect(claims).not.toHaveProperty('sid');
    expect(claims?.tokens_valid_after).toBe(Math.floor(server.clock.now() / 1000));
    expect(Number.isInteger(claims?.tokens_valid_after)).toBe(true);
  });

  it('issues the next sign-in a token from the second after the sign-out, which no client refuses', async () => {
    const server = await startWithClient();
    const laptop = await handedOff(server);
    server.clock.advance(400); // mid-second: the sign-in below happens in the sign-out's second
    await signOut(server, laptop, '/logout/everywhere');
    expect(await outcomeCount(server, 'delivered', 1)).toBe(1);
    const [revocation] = await claimsOfEveryLogout(server);
    const cutOff = revocation?.tokens_valid_after as number;
    expect(cutOff).toBe(Math.floor(server.clock.now() / 1000));

    const again = await signedIn(server);
    const claims = decodeJwt(await handOff(server.app, again));

    // "At or before" the cut-off is refused (docs/design.md): the token is from the next second.
    expect(claims.iat).toBe(cutOff + 1);
    expect(claims.exp).toBe(cutOff + 1 + 60);
    // A sign-in in any later second is issued at once, with that second as its iat.
    server.clock.advance(5_000);
    expect(decodeJwt(await handOff(server.app, again)).iat).toBe(Math.floor(server.clock.now() / 1000));
  });

  it('from a foreign Origin is refused with 403 csrf_failed and ends nothing', async () => {
    const server = await startWithClient();
    const [laptop, phone] = [await handedOff(server), await handedOff(server)];

    const response = await browse(
      server.app,
      laptop,
      formPost(
        '/logout/everywhere',
        { csrf_token: await signOutTokenOf(server.app, laptop) },
        { origin: 'https://evil.example' },
      ),
    );

    expect(response.statusCode).toBe(403);
    expect(pageReason(response.body)).toBe('csrf_failed');
    expect(await isSignedIn(server, laptop)).toBe(true);
    expect(await isSignedIn(server, phone)).toBe(true);
    expect(await outboxDepth(server)).toBe(0);
  });
});

describe.each<SignOutPath>(['/logout', '/logout/everywhere'])(
  "POST %s and the session's sign-out token",
  (path) => {
    /** Asserts that `response` refused the sign-out and that nothing was signed out. */
    async function expectRefused(
      server: Server1Harness,
      response: { statusCode: number; body: string },
      jar: CookieJar,
    ) {
      expect(response.statusCode).toBe(403);
      expect(response.body).toMatch(/^<!doctype html>/i);
      expect(pageReason(response.body)).toBe('csrf_failed');
      expect(await isSignedIn(server, jar)).toBe(true);
      expect(await outboxDepth(server)).toBe(0);
    }

    it('refuses a post without the token and without Origin or Sec-Fetch-Site, and ends nothing', async () => {
      const server = await startWithClient();
      const jar = await signedIn(server);

      // What a client that is no browser, or a browser sending neither header, posts.
      const response = await browse(server.app, jar, formPost(path, {}));

      await expectRefused(server, response, jar);
    });

    it('refuses a post without any body', async () => {
      const server = await startWithClient();
      const jar = await signedIn(server);

      const response = await browse(server.app, jar, { method: 'POST', url: path });

      await expectRefused(server, response, jar);
    });

    it.each<[string, (own: string, sessionId: string) => string]>([
      ['empty', () => 'csrf_token='],
      ['made up, of the right length', () => `csrf_token=${'A'.repeat(43)}`],
      ['one character off', (own) => `csrf_token=${own.slice(0, -1)}${own.endsWith('A') ? 'B' : 'A'}`],
      ['the session id itself', (_own, sessionId) => `csrf_token=${sessionId}`],
      ['sent twice', (own) => `csrf_token=${own}&csrf_token=${own}`],
    ])('refuses a token that is %s', async (_what, body) => {
      const server = await startWithClient();
      const jar = await signedIn(server);
      const payload = body(await signOutTokenOf(server.app, jar), jar.get('s1_session') as string);

      const response = await browse(server.app, jar, {
        ...formPost(path, {}, { origin: PUBLIC_URL }),
        payload,
      });

      await expectRefused(server, response, jar);
    });

    it.each([
      ['another user', 'bob'],
      ['the same user on another device', 'alice'],
    ])('refuses the token of another session, of %s', async (_whose, username) => {
      const server = await startWithClient();
      const victim = await signedIn(server);
      const other = await signedIn(server, username);
      const othersToken = await signOutTokenOf(server.app, other);
      expect(othersToken).not.toBe(await signOutTokenOf(server.app, victim));

      const response = await browse(
        server.app,
        victim,
        formPost(path, { csrf_token: othersToken }, { origin: PUBLIC_URL }),
      );

      await expectRefused(server, response, victim);
      expect(await isSignedIn(server, other)).toBe(true);
    });

    it("refuses the token of the browser's own earlier session", async () => {
      const server = await startWithClient();
      const jar = await handedOff(server);
      const earlier = await signOutTokenOf(server.app, jar);
      await signOut(server, jar);
      await outcomeCount(server, 'delivered', 1);
      await signIn(server.app, jar);

      const response = await browse(
        server.app,
        jar,
        formPost(path, { csrf_token: earlier }, { origin: PUBLIC_URL }),
      );

      await expectRefused(server, response, jar);
    });

    it("accepts the token of the dashboard's form, even without Origin or Sec-Fetch-Site", async () => {
      const server = await startWithClient();
      const jar = await handedOff(server);
      const dashboard = await browse(server.app, jar, { url: '/' });
      const form = findForm(dashboard.body, path);
      expect(form.fields).toEqual({ csrf_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });

      const response = await browse(server.app, jar, formPost(path, form.fields));

      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe('/login?signed_out=1');
      expect(await isSignedIn(server, jar)).toBe(false);
      expect(await outcomeCount(server, 'delivered', 1)).toBe(1);
    });

    it('sends a browser already signed out (in another tab) to the signed-out page, and tells no client', async () => {
      const server = await startWithClient();
      const jar = await handedOff(server);
      const staleForm = findForm((await browse(server.app, jar, { url: '/' })).body, path);
      await signOut(server, jar);
      await outcomeCount(server, 'delivered', 1);

      const response = await browse(
        server.app,
        jar,
        formPost(path, staleForm.fields, { origin: PUBLIC_URL }),
      );

      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe('/login?signed_out=1');
      expect(await outboxDepth(server)).toBe(0);
      expect(client.logouts).toHaveLength(1);
    });

    it('sends a browser whose session has expired to the signed-out page, and tells no client', async () => {
      const server = await startWithClient();
      const jar = await signedIn(server);
      const staleForm = findForm((await browse(server.app, jar, { url: '/' })).body, path);
      server.clock.advance(server.config.sessionIdleTimeoutMs);

      const response = await browse(
        server.app,
        jar,
        formPost(path, staleForm.fields, { origin: PUBLIC_URL }),
      );

      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe('/login?signed_out=1');
      expect(await outboxDepth(server)).toBe(0);
      expect(client.logouts).toHaveLength(0);
    });
  },
);

describe('back-channel delivery', () => {
  // The dispatcher schedules retries by server1's clock and waits for them with real timers, so
  // the clock here moves with real time.
  const tickingClock = () => testClock(undefined, { ticking: true });

  it('retries a client answering 500 until it takes the token, with a fresh token each attempt', async () => {
    const server = await startWithClient(FAST_RETRIES, tickingClock());
    client.answerLogouts(500, 500, 200);
    const jar = await signedIn(server);
    const sid = await handoffSid(server, jar);

    await signOut(server, jar);

    expect(await outcomeCount(server, 'delivered', 1)).toBe(1);
    expect(await deliveries(server, 'retry')).toBe(2);
    expect(await outboxDepth(server)).toBe(0);
    const attempts = await claimsOfEveryLogout(server);
    expect(attempts).toHaveLength(3);
    expect(attempts.map((claims) => claims.sid)).toEqual([sid, sid, sid]);
    expect(new Set(attempts.map((claims) => claims.jti)).size).toBe(3);
  });

  it.each<[string, BackchannelAnswer]>([
    ['a 503', 503],
    ['a 429', 429],
    ['a 408', 408],
    ['a dropped connection', 'drop'],
    ['no answer within LOGOUT_REQUEST_TIMEOUT_MS', 'hang'],
  ])('tries again after %s', async (_what, answer) => {
    const server = await startWithClient(
      { ...FAST_RETRIES, LOGOUT_REQUEST_TIMEOUT_MS: '200' },
      tickingClock(),
    );
    client.answerLogouts(answer, 200);
    const jar = await handedOff(server);

    await signOut(server, jar);

    expect(await outcomeCount(server, 'delivered', 1)).toBe(1);
    expect(await deliveries(server, 'retry')).toBe(1);
    expect(client.logouts).toHaveLength(2);
  });

  it('drops a token the client refuses with a 400, without retrying it', async () => {
    const server = await startWithClient(FAST_RETRIES, tickingClock());
    client.answerLogouts(400, 200);
    const jar = await handedOff(server);

    await signOut(server, jar);

    expect(await outcomeCount(server, 'rejected', 1)).toBe(1);
    // Nothing is left in the outbox, so nothing can be tried again.
    expect(await outboxDepth(server)).toBe(0);
    expect(await deliveries(server, 'retry')).toBeUndefined();
    expect(await deliveries(server, 'delivered')).toBeUndefined();
    expect(client.logouts).toHaveLength(1);
  });

  it('shows the deliveries waiting for a client that is down as server1_logout_outbox_depth', async () => {
    const server = await startWithClient(FAST_RETRIES, tickingClock());
    client.answerLogouts('drop');
    const [laptop, phone] = [await handedOff(server), await handedOff(server)];
    expect(await outboxDepth(server)).toBe(0);

    await signOut(server, laptop);
    await signOut(server, phone);
    await outcomeCount(server, 'retry', 4);

    expect(await outboxDepth(server)).toBe(2);
    client.answerLogouts(200);
    expect(await outcomeCount(server, 'delivered', 2)).toBe(2);
    expect(await outboxDepth(server)).toBe(0);
  });

  it('gives a delivery up once it is LOGOUT_DELIVERY_MAX_AGE_MS old', async () => {
    const clock = tickingClock();
    const server = await startWithClient({ ...FAST_RETRIES, LOGOUT_DELIVERY_MAX_AGE_MS: '1000' }, clock);
    client.answerLogouts(500);
    const jar = await handedOff(server);

    await signOut(server, jar);
    await outcomeCount(server, 'retry', 1);
    expect(await outboxDepth(server)).toBe(1);
    clock.advance(1_000);

    expect(await outcomeCount(server, 'expired', 1)).toBe(1);
    expect(await outboxDepth(server)).toBe(0);
    expect(await deliveries(server, 'delivered')).toBeUndefined();
  });

  it('keeps a pending delivery across a restart on the same data directory', async () => {
    const clock = tickingClock();
    const first = await startWithClient(FAST_RETRIES, clock);
    client.answerLogouts('drop');
    const jar = await signedIn(first);
    const sid = await handoffSid(first, jar);
    await signOut(first, jar);
    await outcomeCount(first, 'retry', 1);

    await first.stop();
    client.answerLogouts(200);
    const restarted = await startWithClient(FAST_RETRIES, clock);

    expect(await outcomeCount(restarted, 'delivered', 1)).toBe(1);
    expect(await outboxDepth(restarted)).toBe(0);
    const delivered = client.logouts.at(-1)?.logoutToken ?? '';
    expect((await verifyLogoutToken(restarted, delivered)).payload.sid).toBe(sid);
  });
});

describe('a delivery that cannot even be attempted', () => {
  /** Sets every stored signing key to retire at `atMs`, as an operator's SQL could. */
  function retireSigningKeys(atMs: number): void {
    const db = new Database(join(dataDir, 'server1.sqlite'));
    try {
      db.prepare('UPDATE signing_keys SET retire_at = ?').run(atMs);
    } finally {
      db.close();
    }
  }

  it('is backed off while server1 keeps answering (no active key to sign the logout token)', async () => {
    const clock = testClock();
    await (await startWithClient({}, clock)).stop();
    retireSigningKeys(clock.now() + 60_000);
    const server = await startWithClient(FAST_RETRIES, clock);
    const jar = await handedOff(server);
    clock.advance(60_000);

    const response = await signOut(server, jar);

    expect(response.statusCode).toBe(303);
    expect(await outcomeCount(server, 'retry', 1)).toBe(1);
    expect((await server.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect(await outboxDepth(server)).toBe(1);
    expect(client.logouts).toHaveLength(0);
  });
});

describe('which clients a sign-out reaches', () => {
  // A second client with a back-channel, next to server2 (`client`): billing.
  let billing: FakeClient;

  beforeEach(async () => {
    billing = await startFakeClient();
  });
  afterEach(async () => {
    await billing.close();
  });

  const startWithTwoClients = (env: Record<string, string> = {}) =>
    startServer1({ dataDir, env: { CLIENTS: clientsWith(client, billing), ...env } });

  /** The claims of the logout tokens `fake` received (addressed to `audience`). */
  function claimsReceivedBy(server: Server1Harness, fake: FakeClient, audience: string) {
    return Promise.all(
      fake.logouts.map(
        async (logout) => (await verifyLogoutToken(server, logout.logoutToken, audience)).payload,
      ),
    );
  }

  /** The visits stored in server1's database, read as another process would. */
  function storedVisits(): Array<{ sid: string; client_id: string }> {
    const db = new Database(join(dataDir, 'server1.sqlite'), { readonly: true, fileMustExist: true });
    try {
      return db
        .prepare<[], { sid: string; client_id: string }>('SELECT sid, client_id FROM session_visits')
        .all();
    } finally {
      db.close();
    }
  }

  it('POST /logout posts a logout token only to the client the session was handed off to', async () => {
    const server = await startWithTwoClients();
    const jar = await signedIn(server);
    await handOff(server.app, jar, BILLING);
    const userId = await userIdOf(server.app, jar);

    await signOut(server, jar);

    expect(await outcomeCount(server, 'delivered', 1)).toBe(1);
    // The outbox is written before the answer: empty now, nothing else is on its way.
    expect(await outboxDepth(server)).toBe(0);
    expect(client.logouts).toHaveLength(0);
    expect(billing.logouts).toHaveLength(1);
    const [claims] = await claimsReceivedBy(server, billing, 'billing');
    expect(claims).toMatchObject({ aud: 'billing', sub: userId });
    expect(claims?.sid).toEqual(expect.any(String));
  });

  it("POST /logout tells no client when the session was handed off to none, whatever the user's other sessions did", async () => {
    const server = await startWithTwoClients();
    const laptop = await signedIn(server);
    const laptopSid = await handoffSid(server, laptop);
    const phone = await signedIn(server);

    await signOut(server, phone);

    expect(await isSignedIn(server, phone)).toBe(false);
    expect(await outboxDepth(server)).toBe(0);
    // The laptop's own sign-out still reaches server2, with the laptop's sid.
    await signOut(server, laptop);
    expect(await outcomeCount(server, 'delivered', 1)).toBe(1);
    expect((await claimsOfEveryLogout(server)).map((claims) => claims.sid)).toEqual([laptopSid]);
    expect(billing.logouts).toHaveLength(0);
  });

  it("POST /logout/everywhere posts one token to each client any of the user's sessions was handed off to", async () => {
    const server = await startWithTwoClients();
    const [laptop, phone, desk] = [await signedIn(server), await signedIn(server), await signedIn(server)];
    await handOff(server.app, laptop);
    await handOff(server.app, laptop);
    await handOff(server.app, phone, BILLING);
    const userId = await userIdOf(server.app, desk);

    await signOut(server, desk, '/logout/everywhere');

    expect(await outcomeCount(server, 'delivered', 2)).toBe(2);
    expect(await outboxDepth(server)).toBe(0);
    const expected = { sub: userId, tokens_valid_after: server.clock.nowSec() };
    const [toServer2] = await claimsOfEveryLogout(server);
    const [toBilling] = await claimsReceivedBy(server, billing, 'billing');
    expect(client.logouts).toHaveLength(1);
    expect(billing.logouts).toHaveLength(1);
    expect(toServer2).toMatchObject(expected);
    expect(toBilling).toMatchObject(expected);
    expect(toServer2).not.toHaveProperty('sid');
    expect(toBilling).not.toHaveProperty('sid');
  });

  it('POST /logout/everywhere from the session that was handed off still tells that client (its visits outlive it)', async () => {
    const server = await startWithTwoClients();
    const laptop = await signedIn(server);
    await handOff(server.app, laptop);

    await signOut(server, laptop, '/logout/everywhere');

    expect(await outcomeCount(server, 'delivered', 1)).toBe(1);
    expect(await outboxDepth(server)).toBe(0);
    expect(client.logouts).toHaveLength(1);
    expect(billing.logouts).toHaveLength(0);
  });

  it('POST /logout/everywhere still tells a client handed off to by a session that has since timed out', async () => {
    const server = await startWithTwoClients();
    const laptop = await signedIn(server);
    await handOff(server.app, laptop);
    // The laptop's server1 session idles out; the server2 session it started may well live on.
    server.clock.advance(server.config.sessionIdleTimeoutMs + 1_000);
    expect(await isSignedIn(server, laptop)).toBe(false);
    const phone = await signedIn(server);

    await signOut(server, phone, '/logout/everywhere');

    expect(await outcomeCount(server, 'delivered', 1)).toBe(1);
    expect(client.logouts).toHaveLength(1);
    expect((await claimsOfEveryLogout(server))[0]).toHaveProperty('tokens_valid_after');
    expect(billing.logouts).toHaveLength(0);
  });

  it('forgets a visit once its sign-out is queued: a later POST /logout/everywhere does not tell that client again', async () => {
    const server = await startWithTwoClients();
    const laptop = await signedIn(server);
    await handOff(server.app, laptop);
    await signOut(server, laptop);
    await outcomeCount(server, 'delivered', 1);
    expect(storedVisits()).toEqual([]);

    await signOut(server, await signedIn(server), '/logout/everywhere');

    expect(await outboxDepth(server)).toBe(0);
    expect(client.logouts).toHaveLength(1);
    expect(storedVisits()).toEqual([]);
  });

  it('keeps a visit one absolute session lifetime after the latest one, written or not, then forgets and purges it', async () => {
    const server = await startWithTwoClients();
    const laptop = await signedIn(server);
    await handOff(server.app, laptop);
    expect(storedVisits().map((visit) => visit.client_id)).toEqual(['server2']);
    // A repeat visit within the minute is not written (visit-retention.ts); it must still be
    // kept one absolute session lifetime after it.
    server.clock.advance(30_000);
    await handOff(server.app, laptop);
    server.clock.advance(server.config.sessionAbsoluteTimeoutMs - 1);

    // Restarted: the purge runs at start (and every minute).
    await server.restart();
    expect(storedVisits().map((visit) => visit.client_id)).toEqual(['server2']);
    // At most a minute longer than that after the first, written, visit.
    server.clock.advance(30_001);
    await server.restart();
    expect(storedVisits()).toEqual([]);
    await signOut(server, await signedIn(server), '/logout/everywhere');

    expect(await outboxDepth(server)).toBe(0);
    expect(client.logouts).toHaveLength(0);
  });
});

describe("the dashboard's activity panel", () => {
  const SERVICE_CALL_TIMEOUT_MS = 300;
  const REPORT = {
    active_sessions: 2,
    last_seen_at: '2029-12-31T23:58:00.000Z',
    recent_handoffs: ['2029-12-31T23:57:00.000Z', '2029-12-31T22:00:00.000Z'],
  };

  /** What the fake API saw of each call: the path and the verified service token's claims. */
  interface ApiCall {
    path: string;
    claims: JWTPayload;
  }

  /**
   * server2's activity API as the fake client: it verifies the Bearer service token against
   * server1's JWKS (typ, iss, aud), requires the activity:read scope, and reports `REPORT`.
   */
  function activityApi(server: Server1Harness, jwks: JSONWebKeySet, calls: ApiCall[]): ApiHandler {
    return async (request, response) => {
      const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
      const claims = await jwtVerify(token, createLocalJWKSet(jwks), {
        typ: 'service+jwt',
        issuer: PUBLIC_URL,
        audience: 'server2',
        requiredClaims: ['sub', 'jti', 'iat', 'exp', 'scope'],
        currentDate: new Date(server.clock.now()),
      }).then(
        (verified) => verified.payload,
        () => undefined,
      );
      if (!claims || !String(claims.scope).split(' ').includes('activity:read')) {
        response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
        return;
      }
      calls.push({ path: request.url ?? '', claims });
      const sub = decodeURIComponent(/^\/api\/users\/([^/]+)\/activity$/.exec(request.url ?? '')?.[1] ?? '');
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sub, ...REPORT }));
    };
  }

  async function dashboardWithApi(env: Record<string, string> = {}) {
    const server = await startWithClient({
      SERVICE_CALL_TIMEOUT_MS: String(SERVICE_CALL_TIMEOUT_MS),
      ...env,
    });
    const calls: ApiCall[] = [];
    client.answerApi(activityApi(server, await publishedKeys(server.app), calls));
    return { server, calls, jar: await handedOff(server) };
  }

  it("shows the user's activity that server2's API reports", async () => {
    const { server, jar } = await dashboardWithApi();

    const dashboard = await browse(server.app, jar, { url: '/' });

    expect(dashboard.statusCode).toBe(200);
    expect(dashboard.body).toContain('Your activity on server2');
    expect(dashboard.body).toContain('<b data-active-sessions>2</b>');
    expect(dashboard.body).toContain('<time>2029-12-31T23:58:00.000Z</time>');
    expect(dashboard.body).toContain('<time>2029-12-31T23:57:00.000Z</time>');
    expect(dashboard.body).not.toContain('data-unavailable');
  });

  it("asks for the signed-in user's activity with a service+jwt for server2 scoped activity:read", async () => {
    const { server, calls, jar } = await dashboardWithApi();
    const userId = await userIdOf(server.app, jar);

    expect(calls).toHaveLength(1);
    expect(calls[0]?.path).toBe(`/api/users/${encodeURIComponent(userId)}/activity`);
    expect(calls[0]?.claims).toMatchObject({
      iss: PUBLIC_URL,
      sub: 'server1',
      aud: 'server2',
      scope: 'activity:read',
      iat: server.clock.nowSec(),
      exp: server.clock.nowSec() + 60,
    });
  });

  it('names the caller by SERVICE_ID', async () => {
    const { server, calls, jar } = await dashboardWithApi({ SERVICE_ID: 'identity-dashboard' });

    await browse(server.app, jar, { url: '/' });

    expect(calls[0]?.claims.sub).toBe('identity-dashboard');
  });

  it('answers within SERVICE_CALL_TIMEOUT_MS, with a note, when the API does not answer', async () => {
    const { server, jar } = await dashboardWithApi();
    let asked = 0;
    client.answerApi(() => {
      asked += 1;
    });
    const startedAt = performance.now();

    const dashboard = await browse(server.app, jar, { url: '/' });

    expect(dashboard.statusCode).toBe(200);
    expect(dashboard.body).toContain('data-unavailable');
    expect(dashboard.body).toContain('Signed in as Alice Liddell');
    expect(asked).toBe(1);
    // Generous slack: what matters is that a hanging API cannot hold the page.
    expect(performance.now() - startedAt).toBeLessThan(SERVICE_CALL_TIMEOUT_MS + 2_000);
  });

  it('shows a note when the API answers 500', async () => {
    const { server, jar } = await dashboardWithApi();
    client.answerApi((_request, response) => {
      response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal"}');
    });

    const dashboard = await browse(server.app, jar, { url: '/' });

    expect(dashboard.statusCode).toBe(200);
    expect(dashboard.body).toContain('data-unavailable');
    expect(dashboard.body).toContain('server2 is not answering right now');
    expect(dashboard.body).not.toContain('data-active-sessions');
  });
});
