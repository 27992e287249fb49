import {
  createLocalKeySource,
  type KeySource,
  KeySourceUnavailableError,
  type TokenReason,
} from '@jwt-handoff/shared';
import { generateTestKey, mintToken, segment } from '@jwt-handoff/testkit';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  CLIENT_ID,
  expectErrorPage,
  expectJsonError,
  handoffClaims,
  ISSUER_URL,
  postCallback,
  type Response,
  type Server2Harness,
  startServer2,
  txnOf,
  unavailableKeySource,
} from './helpers.js';

/** A refused callback: the reason in JSON, and neither a txn (no redirect) nor any cookie. */
function expectRefused(response: Response, status: number, reason: string, error = 'invalid_token'): void {
  expect(expectJsonError(response, status, reason).error).toBe(error);
  expect(response.headers.location).toBeUndefined();
  expect(response.headers['set-cookie']).toBeUndefined();
}

function postForm(
  server: Server2Harness,
  payload: string,
  contentType = 'application/x-www-form-urlencoded',
) {
  return server.app.inject({
    method: 'POST',
    url: '/handoff/callback',
    headers: { 'content-type': contentType, origin: ISSUER_URL },
    payload,
  });
}

interface RefusedToken {
  readonly what: string;
  readonly reason: TokenReason;
  readonly token: (server: Server2Harness) => Promise<string>;
}

const REFUSED_TOKENS: readonly RefusedToken[] = [
  { what: 'that is not a JWT at all', reason: 'token_malformed', token: async () => 'not-a-token' },
  { what: 'whose segments are not JSON', reason: 'token_malformed', token: async () => 'abc.def.ghi' },
  {
    what: 'without a jti',
    reason: 'token_malformed',
    token: (server) => server.mint({ jti: undefined }),
  },
  {
    what: 'without a nonce',
    reason: 'token_malformed',
    token: (server) => server.mint({ nonce: undefined }),
  },
  {
    what: 'without a sub',
    reason: 'token_malformed',
    token: (server) => server.mint({ sub: undefined }),
  },
  { what: 'whose nonce is empty', reason: 'token_malformed', token: (server) => server.mint({ nonce: '' }) },
  {
    what: 'whose nonce is a number',
    reason: 'token_malformed',
    token: (server) => server.mint({ nonce: 42 }),
  },
  {
    what: 'whose nonce is an object',
    reason: 'token_malformed',
    token: (server) => server.mint({ nonce: { state: 'x' } }),
  },
  {
    what: 'signed by another key under our kid',
    reason: 'invalid_signature',
    token: async (server) => {
      const impostor = await generateTestKey();
      return mintToken({ ...impostor, kid: server.key.kid }, handoffClaims(server.clock));
    },
  },
  {
    what: 'whose payload was changed after signing',
    reason: 'invalid_signature',
    token: async (server) => {
      const [header, , signature] = (await server.mint()).split('.');
      return `${header}.${segment(handoffClaims(server.clock, { sub: 'user-admin' }))}.${signature}`;
    },
  },
  {
    what: 'naming a kid the issuer does not publish',
    reason: 'unknown_kid',
    token: async (server) => mintToken(await generateTestKey(), handoffClaims(server.clock)),
  },
  {
    what: 'naming no kid',
    reason: 'unknown_kid',
    token: (server) => server.mint({}, { kid: undefined }),
  },
  {
    what: 'of typ service+jwt',
    reason: 'invalid_type',
    token: (server) => server.mint({}, { typ: 'service+jwt' }),
  },
  {
    what: 'of typ logout+jwt',
    reason: 'invalid_type',
    token: (server) => server.mint({}, { typ: 'logout+jwt' }),
  },
  { what: 'of typ JWT', reason: 'invalid_type', token: (server) => server.mint({}, { typ: 'JWT' }) },
  { what: 'without a typ', reason: 'invalid_type', token: (server) => server.mint({}, { typ: undefined }) },
  {
    what: 'from another issuer',
    reason: 'invalid_issuer',
    token: (server) => server.mint({ iss: 'http://localhost:4999' }),
  },
  {
    what: 'whose issuer differs only by a trailing slash',
    reason: 'invalid_issuer',
    token: (server) => server.mint({ iss: `${ISSUER_URL}/` }),
  },
  {
    what: 'for another audience',
    reason: 'invalid_audience',
    token: (server) => server.mint({ aud: 'server3' }),
  },
  {
    what: 'for several audiences including ours',
    reason: 'invalid_audience',
    token: (server) => server.mint({ aud: [CLIENT_ID, 'server3'] }),
  },
  {
    what: 'that expired a minute ago',
    reason: 'token_expired',
    token: (server) => {
      const now = server.clock.nowSec();
      return server.mint({ iat: now - 120, exp: now - 60 });
    },
  },
  {
    what: 'issued a minute in the future',
    reason: 'token_not_yet_valid',
    token: (server) => {
      const now = server.clock.nowSec();
      return server.mint({ iat: now + 60, exp: now + 120 });
    },
  },
  {
    what: 'whose nbf is a minute away',
    reason: 'token_not_yet_valid',
    token: (server) => server.mint({ nbf: server.clock.nowSec() + 60 }),
  },
  {
    what: 'living 301 s (exp - iat)',
    reason: 'lifetime_too_long',
    token: (server) => {
      const now = server.clock.nowSec();
      return server.mint({ iat: now, exp: now + 301 });
    },
  },
  {
    what: 'with alg none',
    reason: 'unsupported_alg',
    token: async (server) =>
      `${segment({ alg: 'none', kid: server.key.kid, typ: 'handoff+jwt' })}.${segment(handoffClaims(server.clock))}.`,
  },
  {
    what: 'with alg HS256, keyed with the public key',
    reason: 'unsupported_alg',
    token: (server) =>
      new SignJWT(handoffClaims(server.clock))
        .setProtectedHeader({ alg: 'HS256', kid: server.key.kid, typ: 'handoff+jwt' })
        .sign(new TextEncoder().encode(JSON.stringify(server.key.publicJwk))),
  },
  {
    what: 'with alg ES256 when only EdDSA is allowed',
    reason: 'unsupported_alg',
    token: async (server) => {
      const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
      const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
      return new SignJWT(handoffClaims(server.clock))
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'handoff+jwt' })
        .sign(privateKey);
    },
  },
];

describe('POST /handoff/callback refuses', () => {
  it.each(REFUSED_TOKENS)('a token $what: 400 $reason', async ({ token, reason }) => {
    const server = await startServer2();

    const response = await postCallback(server, await token(server));

    expectRefused(response, 400, reason);
  });

  it('a post without a token field: 400 token_missing', async () => {
    const server = await startServer2();

    expectRefused(await postForm(server, 'state=x'), 400, 'token_missing');
    expectRefused(await postForm(server, ''), 400, 'token_missing');
  });

  it('an empty token field: 400 token_missing', async () => {
    const server = await startServer2();

    expectRefused(await postCallback(server, ''), 400, 'token_missing');
  });

  it('a repeated token field: 400 token_missing', async () => {
    const server = await startServer2();
    const token = await server.mint();

    expectRefused(await postForm(server, `token=${token}&token=${token}`), 400, 'token_missing');
  });

  it('a token over 8192 bytes, before parsing it: 400 token_too_large', async () => {
    const server = await startServer2();

    expectRefused(await postCallback(server, 'a'.repeat(8193)), 400, 'token_too_large');
    // 8100 characters but 8200 bytes: the limit is in bytes.
    expectRefused(
      await postCallback(server, `${'a'.repeat(8000)}${'é'.repeat(100)}`),
      400,
      'token_too_large',
    );
    // 8192 bytes exactly is not too large; it is just not a token.
    expectRefused(await postCallback(server, 'a'.repeat(8192)), 400, 'token_malformed');
  });

  it('a body over 16 KiB: 413 body_too_large', async () => {
    const server = await startServer2();

    const response = await postForm(server, `token=${'a'.repeat(16 * 1024)}`);

    expectRefused(response, 413, 'body_too_large', 'payload_too_large');
  });

  it.each([
    ['application/json', (token: string) => JSON.stringify({ token })],
    ['text/plain', (token: string) => `token=${token}`],
    [
      'multipart/form-data; boundary=x',
      (token: string) => `--x\r\nContent-Disposition: form-data; name="token"\r\n\r\n${token}\r\n--x--\r\n`,
    ],
  ])('a body of type %s: 415 unsupported_media_type', async (contentType, body) => {
    const server = await startServer2();

    const response = await postForm(server, body(await server.mint()), contentType);

    expectRefused(response, 415, 'unsupported_media_type', 'unsupported_media_type');
  });

  it('the same token posted a second time: 400 token_replayed', async () => {
    const server = await startServer2();
    const token = await server.mint();
    txnOf(await postCallback(server, token));

    expectRefused(await postCallback(server, token), 400, 'token_replayed');
  });

  it('the same token posted twice at once: exactly one post wins', async () => {
    const server = await startServer2();
    const token = await server.mint();

    const responses = await Promise.all([postCallback(server, token), postCallback(server, token)]);

    expect(responses.map((response) => response.statusCode).sort()).toEqual([303, 400]);
    expectRefused(
      responses.find((response) => response.statusCode === 400) as Response,
      400,
      'token_replayed',
    );
  });

  it('a token while server1 keys cannot be had: 503 jwks_unavailable, so that it can be retried', async () => {
    const server = await startServer2({ keySource: unavailableKeySource() });

    const response = await postCallback(server, await server.mint());

    // An outage is ours, not the token's: it is not called invalid.
    expectRefused(response, 503, 'jwks_unavailable', 'temporarily_unavailable');
  });
});

describe('POST /handoff/callback accepts', () => {
  it('a token refused with jwks_unavailable, once the keys are back: the refusal did not use its jti', async () => {
    let up = false;
    const key = await generateTestKey();
    const local = createLocalKeySource({ keys: [key.publicJwk] });
    const flaky: KeySource = {
      getKey: (header, token) => {
        if (!up) throw new KeySourceUnavailableError('JWKS endpoint unreachable');
        return local.getKey(header, token);
      },
      isReady: () => up,
      refresh: async () => {},
    };
    const server = await startServer2({ keySource: flaky });
    const token = await mintToken(key, handoffClaims(server.clock));
    expectRefused(await postCallback(server, token), 503, 'jwks_unavailable', 'temporarily_unavailable');

    up = true;

    txnOf(await postCallback(server, token));
  });

  it('a token of the longest allowed lifetime, 300 s', async () => {
    const server = await startServer2();
    const now = server.clock.nowSec();

    txnOf(await postCallback(server, await server.mint({ iat: now, exp: now + 300 })));
  });

  it('a token that expired within the 5 s clock leeway', async () => {
    const server = await startServer2();
    const now = server.clock.nowSec();

    txnOf(await postCallback(server, await server.mint({ iat: now - 63, exp: now - 3 })));
  });

  it('a form with a charset parameter', async () => {
    const server = await startServer2();
    const token = await server.mint();

    txnOf(await postForm(server, `token=${token}`, 'application/x-www-form-urlencoded; charset=UTF-8'));
  });
});

// A browser posts the callback (server1's form_post page) and must get a page it can act on; a
// program posts it too, and keeps getting JSON. The choice follows the request's Accept.
describe('POST /handoff/callback answers a refusal in the form the client asks for', () => {
  const post = (server: Server2Harness, token: string, accept?: string) =>
    server.app.inject({
      method: 'POST',
      url: '/handoff/callback',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: ISSUER_URL,
        ...(accept ? { accept } : {}),
      },
      payload: new URLSearchParams({ token }).toString(),
    });
  const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

  it("a browser's post: an HTML page with the reason, what it means, and a link that starts again", async () => {
    const server = await startServer2();
    const token = await server.mint();
    expect((await post(server, token)).statusCode).toBe(303);
    const replayed = await post(server, token, BROWSER_ACCEPT);

    expectErrorPage(replayed, 400, 'token_replayed');
    expect(replayed.body).toContain('<h1>This sign-in did not work</h1>');
    expect(replayed.body).toMatch(
      /<p data-meaning>This sign-in token was already used\. Each one works once/,
    );
    expect(replayed.body).toContain('<a class="button" href="/handoff/start?return_to=%2F">Start again</a>');
    // Still a refusal: no txn, no cookie, and a page that is not cached.
    expect(replayed.headers.location).toBeUndefined();
    expect(replayed.headers['set-cookie']).toBeUndefined();
    expect(replayed.headers['cache-control']).toBe('no-store');
  });

  it('a token refused for its signature, posted by a browser: the page names invalid_signature', async () => {
    const server = await startServer2();
    const token = await server.mint();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flipped = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    expectErrorPage(await post(server, flipped, BROWSER_ACCEPT), 400, 'invalid_signature');
  });

  it('a post without Accept, or asking for JSON: JSON as before', async () => {
    const server = await startServer2();
    expectRefused(await post(server, 'not-a-token'), 400, 'token_malformed');
    expectRefused(await post(server, 'not-a-token', 'application/json'), 400, 'token_malformed');
    expectRefused(await post(server, 'not-a-token', '*/*'), 400, 'token_malformed');
  });
});
