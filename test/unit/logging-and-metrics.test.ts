import {
  forwardedClients,
  healthRoutes,
  isLoopbackAddress,
  MetricsRegistry,
  maskSecretQuery,
} from '@jwt-handoff/shared';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
/** A few of the process metrics operators expect, one line each (`name value`). */
const PROCESS_SAMPLES = [
  /^process_cpu_user_seconds_total [\d.e+-]+$/m,
  /^process_resident_memory_bytes \d+$/m,
  /^nodejs_eventloop_lag_seconds [\d.e+-]+$/m,
  /^nodejs_heap_size_used_bytes \d+$/m,
  /^nodejs_version_info\{version="v\d+\.\d+\.\d+",major="\d+",minor="\d+",patch="\d+"\} 1$/m,
];

describe('maskSecretQuery', () => {
  it.each([
    ['/handoff/complete?txn=T0PSECRET', '/handoff/complete?txn=***'],
    ['/handoff/authorize?client_id=server2&state=S3CRET', '/handoff/authorize?client_id=server2&state=***'],
    ['/x?token=eyJhbGciOi.e30.sig&page=2', '/x?token=***&page=2'],
    ['/x?code=abc', '/x?code=***'],
  ])('masks the one-time value in %s', (url, masked) => {
    expect(maskSecretQuery(url)).toBe(masked);
  });

  it('masks every occurrence of a repeated secret parameter', () => {
    const masked = maskSecretQuery('/x?token=one&a=1&token=two&state=three');
    expect(masked).not.toMatch(/one|two|three/);
    expect(masked).toContain('a=1');
  });

  it('masks a secret parameter whose name is percent-encoded', () => {
    expect(maskSecretQuery('/x?%74xn=SECRET')).not.toContain('SECRET');
  });

  it('leaves a URL without a query alone', () => {
    expect(maskSecretQuery('/handoff/callback')).toBe('/handoff/callback');
  });

  it('leaves other parameters readable', () => {
    expect(maskSecretQuery('/login?return_to=%2Fdashboard')).toBe('/login?return_to=%2Fdashboard');
  });

  it('masks a secret inside a query nested in a parameter, keeping the rest readable', () => {
    const authorize = '/handoff/authorize?client_id=server2&redirect_uri=http%3A%2F%2Fapp%2Fcb&state=S3CRET';
    const masked = maskSecretQuery(`/login?return_to=${encodeURIComponent(authorize)}`);

    expect(masked).not.toContain('S3CRET');
    const returnTo = new URLSearchParams(masked.split('?').slice(1).join('?')).get('return_to') as string;
    expect(returnTo).toBe(
      '/handoff/authorize?client_id=server2&redirect_uri=http%3A%2F%2Fapp%2Fcb&state=***',
    );
  });

  it('masks secrets nested three queries deep', () => {
    const deepest = `/c?txn=SECRET3`;
    const url = `/x?a=${encodeURIComponent(`/a?b=${encodeURIComponent(`/b?c=${encodeURIComponent(deepest)}&token=SECRET2`)}`)}`;
    const masked = maskSecretQuery(url);

    expect(masked).not.toMatch(/SECRET/);
    expect(decodeURIComponent(decodeURIComponent(decodeURIComponent(masked)))).toContain('/c?txn=***');
  });

  it('masks a whole query nested deeper than it parses', () => {
    let url = '/z?state=TOO_DEEP_SECRET&page=1';
    for (const name of ['d', 'c', 'b', 'a']) url = `/${name}?next=${encodeURIComponent(url)}`;
    const masked = maskSecretQuery(url);

    expect(masked).not.toContain('TOO_DEEP_SECRET');
    expect(masked).not.toContain('page');
  });

  it.each([
    ['a name in another case', '/x?STATE=SECRET'],
    ['a name ending in token', '/x?csrf_token=SECRET&id_token=SECRET'],
    ['a nonce', '/x?nonce=SECRET'],
  ])('masks %s', (_what, url) => {
    expect(maskSecretQuery(url)).not.toContain('SECRET');
  });
});

describe('metrics access helpers', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['2001:db8::1', false],
    ['localhost', false],
    ['unknown', false],
    ['', false],
    [undefined, false],
  ])('isLoopbackAddress(%s) is %s', (address, loopback) => {
    expect(isLoopbackAddress(address)).toBe(loopback);
  });

  it('reads every client a request is forwarded for, without ports, brackets or quotes', () => {
    expect(
      forwardedClients({
        'x-forwarded-for': '127.0.0.1, 198.51.100.1:4711',
        'x-real-ip': '198.51.100.2',
        forwarded: 'for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711", for=unknown',
      }),
    ).toEqual(['127.0.0.1', '198.51.100.1', '198.51.100.2', '192.0.2.60', '2001:db8:cafe::17', 'unknown']);
    expect(forwardedClients({})).toEqual([]);
  });
});

describe('MetricsRegistry', () => {
  it('renders a counter with labels in the Prometheus text format', async () => {
    const registry = new MetricsRegistry();
    const rejected = registry.counter('tokens_rejected_total', 'Tokens refused, by reason.');

    rejected({ reason: 'token_expired' });
    rejected({ reason: 'token_expired' });
    rejected({ reason: 'unknown_kid' }, 3);

    expect(await registry.render()).toBe(
      [
        '# HELP tokens_rejected_total Tokens refused, by reason.',
        '# TYPE tokens_rejected_total counter',
        'tokens_rejected_total{reason="token_expired"} 2',
        'tokens_rejected_total{reason="unknown_kid"} 3',
        '',
      ].join('\n'),
    );
  });

  it('renders a counter without labels', async () => {
    const registry = new MetricsRegistry();
    registry.counter('logins_total', 'Logins.')();
    expect(await registry.render()).toContain('\nlogins_total 1\n');
  });

  it('treats the same labels in another order as the same series', async () => {
    const registry = new MetricsRegistry();
    const requests = registry.counter('requests_total', 'Requests.');

    requests({ route: '/me', status: '200' });
    requests({ status: '200', route: '/me' });

    expect(await registry.render()).toContain('requests_total{route="/me",status="200"} 2\n');
  });

  it('escapes backslashes, quotes and newlines in label values', async () => {
    const registry = new MetricsRegistry();
    registry.counter('odd_total', 'Odd labels.')({ value: 'a\\b"c\nd' });
    expect(await registry.render()).toContain('odd_total{value="a\\\\b\\"c\\nd"} 1\n');
  });

  it('reads a gauge when rendering', async () => {
    const registry = new MetricsRegistry();
    let sessions = 1;
    registry.gauge('sessions_active', 'Live sessions.', () => sessions);
    sessions = 7;

    expect(await registry.render()).toBe(
      ['# HELP sessions_active Live sessions.', '# TYPE sessions_active gauge', 'sessions_active 7', ''].join(
        '\n',
      ),
    );
  });

  it('awaits a gauge whose collect is asynchronous', async () => {
    const registry = new MetricsRegistry();
    registry.gauge('users_total', 'Users.', async () => 3);
    expect(await registry.render()).toContain('\nusers_total 3\n');
  });

  it('refuses to declare a metric twice', () => {
    const registry = new MetricsRegistry();
    registry.counter('x_total', 'X.');
    expect(() => registry.gauge('x_total', 'X again.', () => 0)).toThrow(/declared twice/);
  });

  it('renders in the Prometheus text format, version 0.0.4', () => {
    expect(new MetricsRegistry().contentType).toBe(PROMETHEUS_TEXT);
  });

  it('renders no process metrics unless asked (an app built by a test)', async () => {
    const registry = new MetricsRegistry();
    registry.counter('logins_total', 'Logins.')();
    const text = await registry.render();
    expect(text).not.toMatch(/^(process|nodejs)_/m);
  });

  it('renders the process metrics next to its own when asked', async () => {
    const registry = new MetricsRegistry({ processMetrics: true });
    registry.counter('logins_total', 'Logins.')({ outcome: 'success' });
    registry.gauge('sessions_active', 'Live sessions.', () => 4);

    const text = await registry.render();

    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    expect(text).toContain('# TYPE nodejs_gc_duration_seconds histogram');
    for (const sample of PROCESS_SAMPLES) expect(text).toMatch(sample);
    expect(text).toMatch(/^logins_total\{outcome="success"\} 1$/m);
    expect(text).toMatch(/^sessions_active 4$/m);
  });

  it('keeps the metrics of two registries in one process apart, the process metrics in both', async () => {
    const first = new MetricsRegistry({ processMetrics: true });
    const second = new MetricsRegistry({ processMetrics: true });
    first.counter('logins_total', 'Logins.')();
    second.counter('logins_total', 'Logins.')(undefined, 5);

    const [one, two] = [await first.render(), await second.render()];

    expect(one).toMatch(/^logins_total 1$/m);
    expect(two).toMatch(/^logins_total 5$/m);
    expect(one).toMatch(/^nodejs_heap_size_used_bytes \d+$/m);
    expect(two).toMatch(/^nodejs_heap_size_used_bytes \d+$/m);
  });

  it('refuses a metric named like a process metric it renders', () => {
    const registry = new MetricsRegistry({ processMetrics: true });
    expect(() => registry.gauge('nodejs_heap_size_used_bytes', 'Mine.', () => 0)).toThrow(/declared twice/);
  });

  it('serves /metrics as Prometheus text with the process metrics', async () => {
    const app = Fastify();
    const registry = new MetricsRegistry({ processMetrics: true });
    registry.counter('server9_handoffs_total', 'Handoffs.')({ outcome: 'completed' });
    await app.register(healthRoutes, { isReady: () => true, metrics: registry });
    try {
      const response = await app.inject({ url: '/metrics' });

      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe(PROMETHEUS_TEXT);
      expect(response.headers['cache-control']).toBe('no-store');
      for (const sample of PROCESS_SAMPLES) expect(response.body).toMatch(sample);
      expect(response.body).toMatch(/^server9_handoffs_total\{outcome="completed"\} 1$/m);
    } finally {
      await app.close();
    }
  });
});
