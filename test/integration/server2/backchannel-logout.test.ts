import { type Claims, generateTestKey, mintToken, setCookieOf } from '@jwt-handoff/testkit';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  Browser,
  expectErrorPage,
  expectJsonError,
  logoutClaims,
  metricLines,
  postBackchannelLogout,
  postCallback,
  type Response,
  type Server2Harness,
  signIn,
  startHandoff,
  startServer2,
  txnOf,
  unavailableKeySource,
} from './helpers.js';

/** server1 delivering a logout token minted from `overrides` ({@link logoutClaims}). */
async function logout(server: Server2Harness, overrides: Claims = {}): Promise<Response> {
  return postBackchannelLogout(server, { logout_token: await server.mintLogout(overrides) });
}

/** A logout that server2 carried out: 200, nothing to cache, no body. */
function expectLoggedOut(response: Response): void {
  expect(response.statusCode).toBe(200);
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.body).toBe('');
}

/**
 * A refused delivery: JSON `{error, reason}` (OpenID Connect Back-Channel Logout 1.0 section 2.8:
 * a bad logout token is a 400 with an OAuth error word).
 */
function expectRefused(response: Response, status: number, reason: string, error = 'invalid_request'): void {
  expect(expectJsonError(response, status, reason).error).toBe(error);
}

/** A browser signed in to server2 through a handoff with these claims; returns it and its sid. */
async function signedIn(server: Server2Harness, claims: Claims): Promise<{ browser: Browser; sid: string }> {
  const browser = new Browser(server);
  const { token, response } = await signIn(server, browser, { claims });
  expect(response.statusCode).toBe(303);
  expect((await browser.get('/me')).statusCode).toBe(200);
  return { browser, sid: decodeJwt(token).sid as string };
}

async function expectSignedIn(browser: Browser): Promise<void> {
  expect((await browser.get('/me')).statusCode).toBe(200);
}

async function expectSignedOut(browser: Browser): Promise<void> {
  expectJsonError(await browser.get('/me'), 401, 'session_missing');
}

describe('POST /backchannel-logout ends sessions', () => {
  it.each([
    ['sid only', false],
    ['sub and sid', true],
  ])(
    'by %s: the session started with that sid, and no other session of the same user',
    async (_what, withSub) => {
      const server = await startServer2();
      const laptop = await signedIn(server, { sub: 'user-alice', sid: 'sid-hash-laptop' });
      const phone = await signedIn(server, { sub: 'user-alice', sid: 'sid-hash-phone' });

      const response = await logout(server, { sid: laptop.sid, sub: withSub ? 'user-alice' : undefined });

      expectLoggedOut(response);
      await expectSignedOut(laptop.browser);
      await expectSignedIn(phone.browser);
    },
  );

  it("by a sid with another user's sub: nothing, since that user has no such session", async () => {
    const server = await startServer2();
    const alice = await signedIn(server, { sub: 'user-alice', sid: 'sid-hash-laptop' });

    expectLoggedOut(await logout(server, { sid: alice.sid, sub: 'user-bob' }));

    await expectSignedIn(alice.browser);
  });

  it("by sub only: every session of that user, and no other user's", async () => {
    const server = await startServer2();
    const laptop = await signedIn(server, { sub: 'user-alice', sid: 'sid-hash-laptop' });
    const phone = await signedIn(server, { sub: 'user-alice', sid: 'sid-hash-phone' });
    const bob = await signedIn(server, { sub: 'user-bob', sid: 'sid-hash-bob' });

    expectLoggedOut(await logout(server, { sub: 'user-alice', sid: undefined }));

    await expectSignedOut(laptop.browser);
    await expectSignedOut(phone.browser);
    await expectSignedIn(bob.browser);
  });

  it('for a user without sessions: 200 all the same, so that server1 stops retrying', async () => {
    const server = await startServer2();

    expectLoggedOut(await logout(server, { sub: 'user-nobody' }));
  });
});

interface RefusedDelivery {
  readonly what: string;
  readonly status: number;
  readonly reason: string;
  /** The `error` word, when not invalid_request. */
  readonly error?: string;
  readonly deliver: (server: Server2Harness) => Promise<Response>;
}

const REFUSED_DELIVERIES: readonly RefusedDelivery[] = [
  {
    what: 'without a logout_token field',
    status: 400,
    reason: 'token_missing',
    deliver: (server) => postBackchannelLogout(server, { token: 'x' }),
  },
  {
    what: 'with a handoff token (typ handoff+jwt)',
    status: 400,
    reason: 'invalid_type',
    deliver: async (server) => postBackchannelLogout(server, { logout_token: await server.mint() }),
  },
  {
    what: 'with a service token (typ service+jwt)',
    status: 400,
    reason: 'invalid_type',
    deliver: async (server) => postBackchannelLogout(server, { logout_token: await server.mintService() }),
  },
  {
    what: 'with a nonce (section 2.6: then it is some other kind of token)',
    status: 400,
    reason: 'token_malformed',
    deliver: (server) => logout(server, { nonce: 'n-0S6_WzA2Mj' }),
  },
  {
    what: 'without an events claim',
    status: 400,
    reason: 'token_malformed',
    deliver: (server) => logout(server, { events: undefined }),
  },
  {
    what: 'whose events claim lacks the back-channel logout event',
    status: 400,
    reason: 'token_malformed',
    deliver: (server) => logout(server, { events: { 'http://example.test/event/other': {} } }),
  },
  {
    what: 'with neither sub nor sid',
    status: 400,
    reason: 'token_malformed',
    deliver: (server) => logout(server, { sub: undefined, sid: undefined }),
  },
  {
    what: 'signed by another key under our kid',
    status: 400,
    reason: 'invalid_signature',
    deliver: async (server) => {
      const impostor = await generateTestKey();
      const token = await mintToken(
        { ...impostor, kid: server.key.kid },
        logoutClaims(server.clock),
        'logout+jwt',
      );
      return postBackchannelLogout(server, { logout_token: token });
    },
  },
  {
    what: 'as JSON rather than a form',
    status: 415,
    reason: 'unsupported_media_type',
    error: 'unsupported_media_type',
    deliver: async (server) =>
      server.app.inject({
        method: 'POST',
        url: '/backchannel-logout',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ logout_token: await server.mintLogout() }),
      }),
  },
];

describe('POST /backchannel-logout refuses, and ends nothing,', () => {
  it.each(REFUSED_DELIVERIES)(
    'a delivery $what: $status $reason',
    async ({ deliver, status, reason, error }) => {
      const server = await startServer2();
      const alice = await signedIn(server, { sub: 'user-alice' });

      expectRefused(await deliver(server), status, reason, error);

      await expectSignedIn(alice.browser);
    },
  );

  it('a logout token delivered a second time: 400 token_replayed', async () => {
    const server = await startServer2();
    const token = await server.mintLogout({ sub: 'user-alice' });
    expectLoggedOut(await postBackchannelLogout(server, { logout_token: token }));
    const alice = await signedIn(server, { sub: 'user-alice' });

    expectRefused(await postBackchannelLogout(server, { logout_token: token }), 400, 'token_replayed');

    await expectSignedIn(alice.browser);
  });

  it('a logout token while server1 keys cannot be had: 503 jwks_unavailable, so that server1 retries', async () => {
    const server = await startServer2({ keySource: unavailableKeySource() });

    expectRefused(await logout(server), 503, 'jwks_unavailable', 'temporarily_unavailable');
  });
});

describe('tokens_valid_after ("sign out everywhere")', () => {
  it("refuses that user's handoff tokens issued at or before it (same second included) and ends the sessions", async () => {
    const server = await startServer2();
    const alice = await signedIn(server, { sub: 'user-alice' });
    const revokedAt = server.clock.nowSec();

    expectLoggedOut(await logout(server, { sub: 'user-alice', tokens_valid_after: revokedAt }));

    await expectSignedOut(alice.browser);
    const sameSecond = await postCallback(server, await server.mint({ sub: 'user-alice', iat: revokedAt }));
    expect(expectJsonError(sameSecond, 400, 'token_revoked').error).toBe('invalid_token');
    const before = await postCallback(server, await server.mint({ sub: 'user-alice', iat: revokedAt - 10 }));
    expectJsonError(before, 400, 'token_revoked');
  });

  it("accepts that user's handoff tokens issued the second after it", async () => {
    const server = await startServer2();
    const revokedAt = server.clock.nowSec();
    expectLoggedOut(await logout(server, { sub: 'user-alice', tokens_valid_after: revokedAt }));
    server.clock.advance(1_000);

    txnOf(await postCallback(server, await server.mint({ sub: 'user-alice', iat: revokedAt + 1 })));
  });

  it("leaves other users' handoff tokens alone", async () => {
    const server = await startServer2();
    const revokedAt = server.clock.nowSec();
    expectLoggedOut(await logout(server, { sub: 'user-alice', tokens_valid_after: revokedAt }));

    txnOf(await postCallback(server, await server.mint({ sub: 'user-bob', iat: revokedAt })));
  });

  it('is never moved back by a later delivery carrying an older time', async () => {
    const server = await startServer2();
    const revokedAt = server.clock.nowSec();
    expectLoggedOut(await logout(server, { sub: 'user-alice', tokens_valid_after: revokedAt }));

    expectLoggedOut(await logout(server, { sub: 'user-alice', tokens_valid_after: revokedAt - 60 }));

    const sameSecond = await postCallback(server, await server.mint({ sub: 'user-alice', iat: revokedAt }));
    expectJsonError(sameSecond, 400, 'token_revoked');
  });

  it('is moved forward by a later delivery carrying a newer time', async () => {
    const server = await startServer2();
    const first = server.clock.nowSec();
    expectLoggedOut(await logout(server, { sub: 'user-alice', tokens_valid_after: first }));
    server.clock.advance(10_000);

    expectLoggedOut(await logout(server, { sub: 'user-alice', tokens_valid_after: first + 10 }));

    const between = await postCallback(server, await server.mint({ sub: 'user-alice', iat: first + 5 }));
    expectJsonError(between, 400, 'token_revoked');
  });

  it.each([
    ['not a whole number', 1.5],
    ['negative', -1],
    ['a string', '1750000000'],
  ])('is refused when %s: 400 token_malformed, and revokes nothing', async (_what, value) => {
    const server = await startServer2();

    expectRefused(
      await logout(server, { sub: 'user-alice', tokens_valid_after: value }),
      400,
      'token_malformed',
    );

    txnOf(await postCallback(server, await server.mint({ sub: 'user-alice' })));
  });

  it('is refused without a sub (sid only), since it is a time per user: 400 token_malformed', async () => {
    const server = await startServer2();
    const alice = await signedIn(server, { sub: 'user-alice', sid: 'sid-hash-laptop' });

    const response = await logout(server, {
      sub: undefined,
      sid: alice.sid,
      tokens_valid_after: server.clock.nowSec(),
    });

    expectRefused(response, 400, 'token_malformed');
    await expectSignedIn(alice.browser);
  });

  it('stops a handoff whose callback passed before it arrived: /handoff/complete is 400 token_revoked and sets no session', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    const { state } = await startHandoff(browser);
    const token = await server.mint({ sub: 'user-alice', nonce: state });
    const txn = txnOf(await postCallback(server, token));

    expectLoggedOut(await logout(server, { sub: 'user-alice', tokens_valid_after: server.clock.nowSec() }));
    const complete = await browser.get(`/handoff/complete?txn=${encodeURIComponent(txn)}`);

    expectErrorPage(complete, 400, 'token_revoked');
    expect(complete.headers.location).toBeUndefined();
    expect(setCookieOf(complete, 's2_session')).toBeUndefined();
    await expectSignedOut(browser);
  });

  it('stops a handoff from a server1 session that signed out after its callback (by sid)', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    const { state } = await startHandoff(browser);
    const token = await server.mint({ sub: 'user-alice', sid: 'sid-hash-desk', nonce: state });
    const txn = txnOf(await postCallback(server, token));

    expectLoggedOut(await logout(server, { sub: 'user-alice', sid: 'sid-hash-desk' }));
    const complete = await browser.get(`/handoff/complete?txn=${encodeURIComponent(txn)}`);

    expectErrorPage(complete, 400, 'token_revoked');
    expect(setCookieOf(complete, 's2_session')).toBeUndefined();
    await expectSignedOut(browser);
  });

  it('refuses at the callback a handoff token from a server1 session that already signed out', async () => {
    const server = await startServer2();
    expectLoggedOut(await logout(server, { sub: 'user-alice', sid: 'sid-hash-desk' }));

    const late = await postCallback(server, await server.mint({ sub: 'user-alice', sid: 'sid-hash-desk' }));
    expectJsonError(late, 400, 'token_revoked');
    // Another server1 session of the same user is not affected.
    txnOf(await postCallback(server, await server.mint({ sub: 'user-alice', sid: 'sid-hash-phone' })));
  });

  // A token may live 300 s (HANDOFF_TOKEN_TTL=300 at server1), so a sid that ended must be
  // remembered until a token minted just before the sign-out can no longer be presented (exp plus
  // the 5 s leeway) and its txn completed (60 s): 365 s from the sign-out. It was 120 s once, and a
  // token posted 128 s after the sign-out started a session.
  it('refuses a 300 s token minted before its session signed out, posted 128 s after', async () => {
    const server = await startServer2();
    const token = await server.mint({
      sub: 'user-alice',
      sid: 'sid-hash-desk',
      exp: server.clock.nowSec() + 300,
    });
    server.clock.advance(1_000);
    expectLoggedOut(await logout(server, { sub: 'user-alice', sid: 'sid-hash-desk' }));

    server.clock.advance(128_000);
    expectJsonError(await postCallback(server, token), 400, 'token_revoked');
  });

  it('remembers an ended sid until the last token minted before the sign-out has expired and completed', async () => {
    const server = await startServer2();
    const browser = new Browser(server);
    const { state } = await startHandoff(browser);
    const token = await server.mint({
      sub: 'user-alice',
      sid: 'sid-hash-desk',
      nonce: state,
      exp: server.clock.nowSec() + 300,
    });
    expectLoggedOut(await logout(server, { sub: 'user-alice', sid: 'sid-hash-desk' }));

    // Just inside exp + leeway: the token is still presentable, and still refused.
    server.clock.advance(304_000);
    expectJsonError(await postCallback(server, token), 400, 'token_revoked');
    // A purge at the edge of the retention (300 + 5 s + 60 s) keeps the sid; a later one drops it.
    const { relyingParty: rp } = server.app;
    expect(rp.revocation.endedSidRetentionMs).toBe(365_000);
    await rp.stores.revocations.purgeExpired?.(server.clock.now() + 60_999);
    expect(await rp.stores.revocations.isSidEnded('sid-hash-desk', server.clock.now() + 60_999)).toBe(true);
    await rp.stores.revocations.purgeExpired?.(server.clock.now() + 61_000);
    expect(await rp.stores.revocations.isSidEnded('sid-hash-desk', server.clock.now())).toBe(false);
  });

  it('derives the retention from the lifetime the verifier accepts (HANDOFF_MAX_LIFETIME_SEC)', async () => {
    const server = await startServer2({ env: { HANDOFF_MAX_LIFETIME_SEC: '60', CLOCK_TOLERANCE_SEC: '2' } });
    expect(server.app.relyingParty.revocation.endedSidRetentionMs).toBe((60 + 2) * 1000 + 60_000);
  });

  it('survives a restart', async () => {
    const server = await startServer2();
    const revokedAt = server.clock.nowSec();
    expectLoggedOut(await logout(server, { sub: 'user-alice', tokens_valid_after: revokedAt }));

    await server.restart();

    const sameSecond = await postCallback(server, await server.mint({ sub: 'user-alice', iat: revokedAt }));
    expectJsonError(sameSecond, 400, 'token_revoked');
    server.clock.advance(1_000);
    txnOf(await postCallback(server, await server.mint({ sub: 'user-alice', iat: revokedAt + 1 })));
  });
});

describe('/metrics', () => {
  it('counts back-channel logouts by scope and refused logout tokens by reason', async () => {
    const server = await startServer2();
    await logout(server, { sid: 'sid-hash-laptop', sub: undefined });
    await logout(server, { sub: 'user-alice' });
    await logout(server, { sub: 'user-alice', tokens_valid_after: server.clock.nowSec() });
    await logout(server, { nonce: 'n' });

    const lines = await metricLines(server);

    expect(lines).toContain('server2_backchannel_logouts_total{scope="session"} 1');
    expect(lines).toContain('server2_backchannel_logouts_total{scope="user"} 2');
    expect(lines).toContain('server2_token_rejections_total{kind="logout",reason="token_malformed"} 1');
  });
});
