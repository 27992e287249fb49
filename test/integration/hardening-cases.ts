// Cases both services must pass alike: the headers of every response and who may read /metrics.
// Each service's test file runs them on its own app (server1/ and server2/ headers-and-metrics).
import type { FastifyInstance, InjectOptions } from 'fastify';
import { describe, expect, it } from 'vitest';

/** Starts the service under test with `env` on top of its test defaults. */
export type StartService = (env?: Record<string, string>) => Promise<{ readonly app: FastifyInstance }>;

/** One kind of response: a name, the request that gets it, and the status that proves it did. */
export type ResponseCase = readonly [name: string, request: InjectOptions, status: number];

const HSTS = 'max-age=31536000; includeSubDomains';
const METRICS_TOKEN = 'metrics-token-of-this-test-0123456789abcdef';
const ELSEWHERE = '203.0.113.7';

/**
 * `nosniff` on every response in `cases`, HSTS too when PUBLIC_URL is `httpsUrl` and never over
 * http; `page` (a request answered with an HTML page) keeps the CSP and framing it sets itself.
 */
export function securityHeaderCases(
  start: StartService,
  options: { httpsUrl: string; cases: readonly ResponseCase[]; page: InjectOptions },
): void {
  describe('headers of every response', () => {
    it.each(options.cases)(
      'sends nosniff and HSTS on %s when PUBLIC_URL is https',
      async (_name, request, status) => {
        const { app } = await start({ PUBLIC_URL: options.httpsUrl });
        const response = await app.inject(request);

        expect(response.statusCode).toBe(status);
        expect(response.headers['x-content-type-options']).toBe('nosniff');
        expect(response.headers['strict-transport-security']).toBe(HSTS);
      },
    );

    it.each(options.cases)(
      'sends nosniff but no HSTS on %s over plain http',
      async (_name, request, status) => {
        const { app } = await start();
        const response = await app.inject(request);

        expect(response.statusCode).toBe(status);
        expect(response.headers['x-content-type-options']).toBe('nosniff');
        expect(response.headers['strict-transport-security']).toBeUndefined();
      },
    );

    it("leaves a page's own CSP and framing headers as the page sets them", async () => {
      const { app } = await start({ PUBLIC_URL: options.httpsUrl });
      const response = await app.inject(options.page);

      expect(response.headers['content-type']).toMatch(/^text\/html/);
      const csp = String(response.headers['content-security-policy']);
      expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[^']+'; script-src /);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect([response.headers['content-security-policy']].flat()).toHaveLength(1);
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    });
  });
}

/** GET /metrics: loopback peers and the bearer of METRICS_TOKEN only (docs/deployment.md). */
export function metricsAccessCases(start: StartService): void {
  async function metrics(env: Record<string, string> | undefined, request: Omit<InjectOptions, 'url'>) {
    const { app } = await start(env);
    return app.inject({ ...request, url: '/metrics' });
  }

  function expectRefused(response: Awaited<ReturnType<typeof metrics>>): void {
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ error: 'forbidden', reason: 'metrics_forbidden' });
    expect(response.body).not.toContain('# TYPE');
  }

  describe('GET /metrics', () => {
    it.each(['127.0.0.1', '127.0.0.53', '::1', '::ffff:127.0.0.1'])(
      'answers a loopback peer (%s)',
      async (peer) => {
        const response = await metrics(undefined, { remoteAddress: peer });

        expect(response.statusCode).toBe(200);
        expect(response.body).toContain('# TYPE');
      },
    );

    it('answers a proxy on this host that forwards for a client on this host', async () => {
      const response = await metrics(undefined, { headers: { 'x-forwarded-for': '127.0.0.1' } });
      expect(response.statusCode).toBe(200);
    });

    it.each<[string, Omit<InjectOptions, 'url'>]>([
      ['a peer elsewhere', { remoteAddress: ELSEWHERE }],
      ['a peer elsewhere on IPv6', { remoteAddress: '2001:db8::7' }],
      ['a peer elsewhere written as IPv4-mapped IPv6', { remoteAddress: `::ffff:${ELSEWHERE}` }],
      ['a loopback proxy forwarding for a client elsewhere', { headers: { 'x-forwarded-for': ELSEWHERE } }],
      [
        'a loopback proxy whose chain names a client elsewhere',
        { headers: { 'x-forwarded-for': `127.0.0.1, ${ELSEWHERE}` } },
      ],
      [
        'a loopback proxy forwarding for a client elsewhere (Forwarded)',
        { headers: { forwarded: 'for="[2001:db8::7]:4711";proto=https' } },
      ],
      ['a loopback proxy forwarding for an unknown client', { headers: { forwarded: 'for=unknown' } }],
      [
        'a loopback proxy forwarding for a client elsewhere (X-Real-IP)',
        { headers: { 'x-real-ip': ELSEWHERE } },
      ],
      [
        'a peer elsewhere that claims to forward for loopback',
        { remoteAddress: ELSEWHERE, headers: { 'x-forwarded-for': '127.0.0.1' } },
      ],
    ])('refuses %s with 403 metrics_forbidden', async (_name, request) => {
      expectRefused(await metrics(undefined, request));
    });

    it('judges by the socket peer, not request.ip, behind a trusted proxy', async () => {
      // With TRUST_PROXY the client address is read from X-Forwarded-For, which the client
      // writes: request.ip says 127.0.0.1 here, the connection comes from elsewhere.
      const response = await metrics(
        { TRUST_PROXY: '1' },
        { remoteAddress: ELSEWHERE, headers: { 'x-forwarded-for': '127.0.0.1' } },
      );
      expectRefused(response);
    });

    describe('with METRICS_TOKEN set', () => {
      const env = { METRICS_TOKEN };

      it('answers a peer elsewhere that sends the token as a bearer token', async () => {
        for (const scheme of ['Bearer', 'bearer']) {
          const response = await metrics(env, {
            remoteAddress: ELSEWHERE,
            headers: { authorization: `${scheme} ${METRICS_TOKEN}` },
          });
          expect(response.statusCode).toBe(200);
          expect(response.body).toContain('# TYPE');
        }
      });

      it.each([
        ['no token', undefined],
        ['another token', `Bearer ${METRICS_TOKEN.slice(0, -1)}x`],
        ['a prefix of the token', `Bearer ${METRICS_TOKEN.slice(0, 20)}`],
        ['the token with more after it', `Bearer ${METRICS_TOKEN}0`],
        ['the token in another scheme', `Basic ${METRICS_TOKEN}`],
        ['the token without a scheme', METRICS_TOKEN],
      ])('refuses a peer elsewhere with %s', async (_name, authorization) => {
        const headers = authorization === undefined ? {} : { authorization };
        expectRefused(await metrics(env, { remoteAddress: ELSEWHERE, headers }));
      });

      it('still answers a loopback peer without the token', async () => {
        expect((await metrics(env, {})).statusCode).toBe(200);
      });
    });
  });
}
