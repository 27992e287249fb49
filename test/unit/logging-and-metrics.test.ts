import { MetricsRegistry, maskSecretQuery } from '@jwt-handoff/shared';
import { describe, expect, it } from 'vitest';

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
});
