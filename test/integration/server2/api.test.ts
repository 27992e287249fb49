import { generateTestKey, mintToken, segment, T0_MS } from '@jwt-handoff/testkit';
import { describe, expect, it } from 'vitest';
import {
  ACTIVITY_SCOPE,
  Browser,
  expectJsonError,
  getActivity,
  metricLines,
  postCallback,
  type Response,
  type Server2Harness,
  serviceClaims,
  signIn,
  startServer2,
  unavailableKeySource,
} from './helpers.js';

/** The RFC 6750 challenge server2 sends, without any error attribute. */
const BARE_CHALLENGE = 'Bearer realm="server2"';

function bearer(token: string): string {
  return `Bearer ${token}`;
}

/** A 401 for a token that was presented but refused (RFC 6750 section 3.1, invalid_token). */
function expectInvalidToken(response: Response, reason: string): void {
  expect(expectJsonError(response, 401, reason).error).toBe('invalid_token');
  const challenge = String(response.headers['www-authenticate']);
  expect(challenge.startsWith(BARE_CHALLENGE)).toBe(true);
  expect(challenge).toContain('error="invalid_token"');
}

/** The JSON body of a successful activity report. */
function activityOf(response: Response) {
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.headers['cache-control']).toBe('no-store');
  return response.json() as {
    sub: string;
    active_sessions: number;
    last_seen_at: string | null;
    sessions: { started_at: string; last_seen_at: string; expires_at: string }[];
    recent_handoffs: string[];
  };
}

describe('GET /api/users/:sub/activity with a valid service token', () => {
  it('reports a user nobody signed in as: no sessions, never seen', async () => {
    const server = await startServer2();

    const response = await getActivity(server, 'user-nobody', bearer(await server.mintService()));

    expect(activityOf(response)).toEqual({
      sub: 'user-nobody',
      active_sessions: 0,
      last_seen_at: null,
      sessions: [],
      recent_handoffs: [],
    });
  });

  it("reports the session and the handoff of a user who signed in, and only that user's", async () => {
    const server = await startServer2();
    await signIn(server, new Browser(server), { claims: { sub: 'user-alice' } });
    server.clock.advance(5_000);
    await signIn(server, new Browser(server), { claims: { sub: 'user-bob' } });
    const signedInAt = new Date(T0_MS).toISOString();

    const response = await getActivity(server, 'user-alice', bearer(await server.mintService()));

    expect(activityOf(response)).toEqual({
      sub: 'user-alice',
      active_sessions: 1,
      last_seen_at: signedInAt,
      sessions: [
        {
          started_at: signedInAt,
          last_seen_at: signedInAt,
          expires_at: new Date(T0_MS + server.config.sessionAbsoluteTimeoutMs).toISOString(),
        },
      ],
      recent_handoffs: [signedInAt],
    });
  });

  it('accepts the scope among others, space-separated', async () => {
    const server = await startServer2();
    const token = await server.mintService({ scope: `foo ${ACTIVITY_SCOPE}` });

    expect(activityOf(await getActivity(server, 'user-alice', bearer(token))).sub).toBe('user-alice');
  });

  it('takes the Bearer scheme in any case (RFC 7235), from the cache too', async () => {
    const server = await startServer2();
    const token = await server.mintService();

    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      expect(activityOf(await getActivity(server, 'user-alice', `${scheme} ${token}`)).sub).toBe(
        'user-alice',
      );
    }
  });

  it('accepts the same token again: service tokens are reusable until they expire, not single-use', async () => {
    const server = await startServer2();
    const token = await server.mintService();

    activityOf(await getActivity(server, 'user-alice', bearer(token)));
    activityOf(await getActivity(server, 'user-alice', bearer(token)));
  });

  it('refuses an empty user id with 400 invalid_request (its route schema)', async () => {
    const server = await startServer2();
    const token = await server.mintService();

    expectJsonError(await getActivity(server, '', bearer(token)), 400, 'invalid_request');
  });

  it('answers a user id longer than the router takes (100 characters) with 414, token or not', async () => {
    const server = await startServer2();
    const token = await server.mintService();

    expect(activityOf(await getActivity(server, 'u'.repeat(100), bearer(token))).sub).toBe('u'.repeat(100));
    expectJsonError(await getActivity(server, 'u'.repeat(101), bearer(token)), 414, 'invalid_request');
    expectJsonError(await getActivity(server, 'u'.repeat(101)), 414, 'invalid_request');
  });

  it('answers a malformed percent-encoding in the path with 400 invalid_request, in our shape', async () => {
    const server = await startServer2();

    expectJsonError(await server.app.inject({ url: '/api/users/%E0%A4%A/activity' }), 400, 'invalid_request');
  });
});

describe('GET /api/users/:sub/activity without a usable Authorization header', () => {
  it('answers no header at all with 401 token_missing and a bare challenge, without error= (RFC 6750 section 3.1)', async () => {
    const server = await startServer2();

    const response = await getActivity(server, 'user-alice');

    expect(expectJsonError(response, 401, 'token_missing').error).toBe('unauthorized');
    expect(response.headers['www-authenticate']).toBe(BARE_CHALLENGE);
  });

  it.each([
    ['another scheme', 'Basic c2VydmVyMTpzZWNyZXQ='],
    ['Bearer with two parts', 'Bearer abc.def.ghi extra'],
    ['Bearer with nothing after it', 'Bearer'],
    ['Bearer with a space before the token', 'Bearer  abc.def.ghi'],
    ['a scheme that only starts like Bearer', 'Bearerabc.def.ghi'],
  ])('answers %s with 401 token_malformed and error="invalid_token"', async (_what, authorization) => {
    const server = await startServer2();

    expectInvalidToken(await getActivity(server, 'user-alice', authorization), 'token_malformed');
  });
});

interface RefusedToken {
  readonly what: string;
  readonly reason: string;
  readonly token: (server: Server2Harness) => Promise<string>;
}

const REFUSED_TOKENS: readonly RefusedToken[] = [
  {
    what: 'whose payload was changed after signing',
    reason: 'invalid_signature',
    token: async (server) => {
      const [header, , signature] = (await server.mintService({ scope: 'other:scope' })).split('.');
      return `${header}.${segment(serviceClaims(server.clock))}.${signature}`;
    },
  },
  {
    what: 'that expired a minute ago',
    reason: 'token_expired',
    token: (server) => {
      const now = server.clock.nowSec();
      return server.mintService({ iat: now - 120, exp: now - 60 });
    },
  },
  {
    what: 'for another audience',
    reason: 'invalid_audience',
    token: (server) => server.mintService({ aud: 'server3' }),
  },
  {
    what: 'from another issuer',
    reason: 'invalid_issuer',
    token: (server) => server.mintService({ iss: 'http://localhost:4999' }),
  },
  {
    what: 'naming a kid the issuer does not publish',
    reason: 'unknown_kid',
    token: async (server) => mintToken(await generateTestKey(), serviceClaims(server.clock), 'service+jwt'),
  },
  {
    what: 'with alg none',
    reason: 'unsupported_alg',
    token: async (server) =>
      `${segment({ alg: 'none', kid: server.key.kid, typ: 'service+jwt' })}.${segment(serviceClaims(server.clock))}.`,
  },
  {
    what: 'that is a handoff token (typ handoff+jwt)',
    reason: 'invalid_type',
    token: (server) => server.mint(),
  },
  {
    what: 'that is a logout token (typ logout+jwt)',
    reason: 'invalid_type',
    token: (server) => server.mintLogout(),
  },
];

describe('GET /api/users/:sub/activity refuses', () => {
  it.each(REFUSED_TOKENS)('a token $what: 401 $reason, error="invalid_token"', async ({ token, reason }) => {
    const server = await startServer2();

    expectInvalidToken(await getActivity(server, 'user-alice', bearer(await token(server))), reason);
  });

  it.each(['other:scope', 'activity:write', 'activity:readonly', 'xactivity:read', 'foo activity:read2'])(
    'a valid token whose scope is %s: 403 insufficient_scope, naming the scope it needs',
    async (scope) => {
      const server = await startServer2();

      const response = await getActivity(server, 'user-alice', bearer(await server.mintService({ scope })));

      expect(expectJsonError(response, 403, 'insufficient_scope').error).toBe('insufficient_scope');
      const challenge = String(response.headers['www-authenticate']);
      expect(challenge.startsWith(BARE_CHALLENGE)).toBe(true);
      expect(challenge).toContain('error="insufficient_scope"');
      expect(challenge).toContain(`scope="${ACTIVITY_SCOPE}"`);
    },
  );

  it('a token while server1 keys cannot be had: 503 jwks_unavailable, without calling the token invalid', async () => {
    const server = await startServer2({ keySource: unavailableKeySource() });

    const response = await getActivity(server, 'user-alice', bearer(await server.mintService()));

    expectJsonError(response, 503, 'jwks_unavailable');
    expect(String(response.headers['www-authenticate'] ?? '')).not.toContain('invalid_token');
  });
});

describe('a service token anywhere else', () => {
  it('is refused as a handoff token at POST /handoff/callback: 400 invalid_type', async () => {
    const server = await startServer2();

    const response = await postCallback(server, await server.mintService());

    expect(expectJsonError(response, 400, 'invalid_type').error).toBe('invalid_token');
    expect(response.headers.location).toBeUndefined();
    expect(response.headers['set-cookie']).toBeUndefined();
  });
});

describe('/metrics', () => {
  it('counts refused service tokens by reason under kind="service"', async () => {
    const server = await startServer2();
    const now = server.clock.nowSec();
    await getActivity(server, 'user-alice');
    await getActivity(
      server,
      'user-alice',
      bearer(await server.mintService({ iat: now - 120, exp: now - 60 })),
    );
    await getActivity(server, 'user-alice', bearer(await server.mintService({ scope: 'other:scope' })));
    await getActivity(server, 'user-alice', bearer(await server.mintService({ scope: 'other:scope' })));
    await getActivity(server, 'user-alice', bearer(await server.mintService()));

    const lines = await metricLines(server);

    expect(lines).toContain('server2_token_rejections_total{kind="service",reason="token_missing"} 1');
    expect(lines).toContain('server2_token_rejections_total{kind="service",reason="token_expired"} 1');
    expect(lines).toContain('server2_token_rejections_total{kind="service",reason="insufficient_scope"} 2');
    expect(lines.filter((line) => line.startsWith('server2_token_rejections_total{'))).toHaveLength(3);
  });
});
