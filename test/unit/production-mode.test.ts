import { randomBytes } from 'node:crypto';
import {
  type ConfigError,
  EnvReader,
  insecureUrlProblem,
  isLoopbackHost,
  ProductionMode,
  weakSecretProblem,
} from '@jwt-handoff/shared';
import { describe, expect, it } from 'vitest';

describe('weakSecretProblem', () => {
  it.each([
    ['shorter than 32 characters', 'Zx81-qP3_w'.repeat(3).slice(0, 31), /at least 32 characters/],
    ['one repeated character', 'x'.repeat(32), /too predictable/],
    ['fewer than 8 different characters', 'passwordpasswordpasswordpassword', /too predictable/],
    ['a run repeated', 'Kq7#vB2m'.repeat(5), /too predictable/],
    ['a run repeated and cut short', 'Kq7#vB2mZ'.repeat(4).slice(0, 33), /too predictable/],
    ['a sequence', 'abcdefghijklmnopqrstuvwxyz012345', /too predictable/],
    ['a descending sequence', 'zyxwvutsrqponmlkjihgfedcba987654', /too predictable/],
    ['a sequence of digits', '0123456789'.repeat(4), /too predictable/],
  ])('calls a secret %s weak', (_what, secret, message) => {
    expect(weakSecretProblem(secret)).toMatch(message);
  });

  it('never calls a random secret weak, base64 or hex', () => {
    for (let i = 0; i < 2000; i++) {
      expect(weakSecretProblem(randomBytes(32).toString('base64'))).toBeUndefined();
      expect(weakSecretProblem(randomBytes(16).toString('hex'))).toBeUndefined();
    }
  });

  it('accepts a long passphrase of words', () => {
    expect(weakSecretProblem('correct horse battery staple and a violin')).toBeUndefined();
  });
});

describe('isLoopbackHost', () => {
  it.each([
    'http://localhost:4001',
    'http://LOCALHOST',
    'http://127.0.0.1',
    'http://127.1.2.3:80',
    'http://127.1',
    'http://[::1]:4002',
  ])('counts %s as loopback', (url) => {
    expect(isLoopbackHost(new URL(url).hostname)).toBe(true);
  });

  it.each([
    'http://localhost.example',
    'http://example.localhost.evil',
    'http://128.0.0.1',
    'http://10.0.0.1',
    'http://[::2]',
    'http://[::ffff:7f00:1]',
    'http://0.0.0.0',
    'http://server1:4001',
  ])('does not count %s as loopback', (url) => {
    expect(isLoopbackHost(new URL(url).hostname)).toBe(false);
  });
});

describe('insecureUrlProblem', () => {
  it('accepts https, and http on a loopback host only when allowed', () => {
    expect(insecureUrlProblem('https://id.example', false)).toBeUndefined();
    expect(insecureUrlProblem('http://localhost:4001', true)).toBeUndefined();
    expect(insecureUrlProblem('http://localhost:4001', false)).toMatch(/ALLOW_INSECURE_LOOPBACK=true/);
    expect(insecureUrlProblem('http://id.example', true)).toMatch(/must be an https URL in production/);
  });
});

describe('ProductionMode', () => {
  function problems(env: Record<string, string>, check: (mode: ProductionMode, reader: EnvReader) => void) {
    const reader = new EnvReader(env);
    check(new ProductionMode(reader), reader);
    try {
      reader.finish();
      return [];
    } catch (err) {
      return (err as ConfigError).problems;
    }
  }

  it('is on for NODE_ENV=production only', () => {
    expect(new ProductionMode(new EnvReader({ NODE_ENV: 'production' })).enabled).toBe(true);
    expect(new ProductionMode(new EnvReader({ NODE_ENV: ' Production ' })).enabled).toBe(true);
    for (const value of [undefined, '', 'development', 'test', 'prod']) {
      expect(new ProductionMode(new EnvReader({ NODE_ENV: value })).enabled).toBe(false);
    }
  });

  it('records what it refuses in production and nothing otherwise', () => {
    const check = (mode: ProductionMode) => {
      mode.requireHttps('PUBLIC_URL', 'http://id.example');
      mode.refuse('SEED_DEMO_USERS', 'must not be true in production');
    };

    expect(problems({ NODE_ENV: 'production' }, check)).toEqual([
      'PUBLIC_URL must be an https URL in production, got "http://id.example"',
      'SEED_DEMO_USERS must not be true in production',
    ]);
    expect(problems({}, check)).toEqual([]);
  });

  it('adds nothing for a variable already reported as malformed', () => {
    expect(
      problems({ NODE_ENV: 'production', PUBLIC_URL: 'ftp://id.example' }, (mode, reader) => {
        mode.requireHttps('PUBLIC_URL', reader.baseUrl('PUBLIC_URL', 'http://localhost:4001'));
      }),
    ).toEqual(['PUBLIC_URL must use http or https, got "ftp://id.example"']);
  });
});
