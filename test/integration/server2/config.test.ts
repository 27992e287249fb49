import { randomBytes } from 'node:crypto';
import { loadConfig } from '@jwt-handoff/server2';
import { ConfigError } from '@jwt-handoff/shared';
import { describe, expect, it } from 'vitest';

/** The ConfigError that loadConfig throws for `env`. */
function configErrorFor(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

// A secret as `openssl rand -base64 32` makes one.
const STRONG_SECRET = randomBytes(32).toString('base64');

describe('loadConfig', () => {
  it('reports every bad variable at once, naming each', () => {
    const error = configErrorFor({
      PORT: 'eighty',
      PUBLIC_URL: 'ftp://app.example',
      ISSUER_URL: 'not a url',
      JWKS_URL: 'file:///etc/jwks.json',
      SESSION_SECRET: 'too-short-secret',
      ALLOWED_ALGS: 'HS256',
    });

    expect(error.problems).toHaveLength(6);
    for (const name of ['PORT', 'PUBLIC_URL', 'ISSUER_URL', 'JWKS_URL', 'SESSION_SECRET', 'ALLOWED_ALGS']) {
      expect(error.problems.filter((problem) => problem.startsWith(`${name} `))).toHaveLength(1);
      expect(error.message).toContain(name);
    }
  });

  it('never repeats a short SESSION_SECRET in its message', () => {
    expect(configErrorFor({ SESSION_SECRET: 'too-short-secret' }).message).not.toContain('too-short-secret');
  });

  it.each([
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '4002.5'],
    ['PUBLIC_URL', 'localhost:4002'],
    ['PUBLIC_URL', 'http://localhost:4002/?x=1'],
    ['ISSUER_URL', 'http://user:pass@localhost:4001'],
    ['ISSUER_URL', 'http://localhost:4001#frag'],
    ['JWKS_URL', '/.well-known/jwks.json'],
    ['ALLOWED_ALGS', 'EdDSA,RS256'],
    ['ALLOWED_ALGS', 'none'],
    ['CLIENT_ID', 'server 2'],
    ['SESSION_IDLE_TIMEOUT_MS', '10'],
    ['REDIS_URL', 'localhost:6379'],
    ['REDIS_URL', 'http://localhost:6379'],
    ['REDIS_KEY_PREFIX', 'app*'],
    ['REDIS_KEY_PREFIX', 'has spaces:'],
  ])('refuses %s=%j, naming the variable', (name, value) => {
    const error = configErrorFor({ [name]: value });

    expect(error.problems).toEqual([expect.stringMatching(new RegExp(`^${name} `))]);
  });

  it('has working defaults for the local demo', () => {
    const config = loadConfig({});

    expect(config).toMatchObject({
      port: 4002,
      publicUrl: 'http://localhost:4002',
      clientId: 'server2',
      issuerUrl: 'http://localhost:4001',
      jwksUrl: 'http://localhost:4001/.well-known/jwks.json',
      allowedAlgorithms: ['EdDSA'],
      sessionSecret: undefined,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('keeps the stores in SQLite unless REDIS_URL is set, under a key prefix of its own', () => {
    expect(loadConfig({})).toMatchObject({ redisUrl: undefined, redisKeyPrefix: 'jwt-handoff:server2:' });
    expect(
      loadConfig({ REDIS_URL: 'rediss://:pw@redis.internal:6380/2', REDIS_KEY_PREFIX: 'billing:prod:' }),
    ).toMatchObject({ redisUrl: 'rediss://:pw@redis.internal:6380/2', redisKeyPrefix: 'billing:prod:' });
  });

  it('never repeats a bad REDIS_URL, which may hold a password, in its message', () => {
    const error = configErrorFor({ REDIS_URL: 'redis//:hunter2-password@redis:6379' });
    expect(error.problems).toEqual([
      expect.stringMatching(/^REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/),
    ]);
    expect(error.message).not.toContain('hunter2');
  });

  it("defaults JWKS_URL to the issuer's /.well-known/jwks.json", () => {
    expect(loadConfig({ ISSUER_URL: 'https://id.example' }).jwksUrl).toBe(
      'https://id.example/.well-known/jwks.json',
    );
    expect(loadConfig({ ISSUER_URL: 'https://id.example/' }).jwksUrl).toBe(
      'https://id.example/.well-known/jwks.json',
    );
  });

  it('takes JWKS_URL when given, for an issuer reached by another name inside a network', () => {
    const config = loadConfig({ ISSUER_URL: 'https://id.example', JWKS_URL: 'http://server1:4001/keys' });

    expect(config.issuerUrl).toBe('https://id.example');
    expect(config.jwksUrl).toBe('http://server1:4001/keys');
  });

  it('with ISSUER_DISCOVERY=true leaves JWKS_URL to the discovery document unless it is set', () => {
    expect(loadConfig({ ISSUER_URL: 'https://id.example' }).issuerDiscovery).toBe(false);
    const discovered = loadConfig({ ISSUER_URL: 'https://id.example', ISSUER_DISCOVERY: 'true' });
    expect(discovered.issuerDiscovery).toBe(true);
    expect(discovered.jwksUrl).toBeUndefined();
    const explicit = loadConfig({
      ISSUER_URL: 'https://id.example',
      ISSUER_DISCOVERY: 'true',
      JWKS_URL: 'http://server1:4001/keys',
    });
    expect(explicit.jwksUrl).toBe('http://server1:4001/keys');
  });

  it('refuses an ISSUER_DISCOVERY that is not a boolean, naming it', () => {
    expect(() => loadConfig({ ISSUER_DISCOVERY: 'maybe' })).toThrow(/ISSUER_DISCOVERY/);
  });

  it('reads SENSITIVE_MAX_AGE_SEC (default 300) and refuses a negative one, naming it', () => {
    expect(loadConfig({}).sensitiveMaxAgeSec).toBe(300);
    expect(loadConfig({ SENSITIVE_MAX_AGE_SEC: '0' }).sensitiveMaxAgeSec).toBe(0);
    expect(() => loadConfig({ SENSITIVE_MAX_AGE_SEC: '-5' })).toThrow(/SENSITIVE_MAX_AGE_SEC/);
  });

  it('accepts a SESSION_SECRET of 32 characters and a list of allowed algorithms', () => {
    const config = loadConfig({ SESSION_SECRET: STRONG_SECRET, ALLOWED_ALGS: 'EdDSA, ES256' });

    expect(config.sessionSecret).toBe(STRONG_SECRET);
    expect(config.allowedAlgorithms).toEqual(['EdDSA', 'ES256']);
  });

  it.each([
    ['one repeated character', 'x'.repeat(32)],
    ['a repeated word', 'changeme'.repeat(4)],
    ['a sequence', 'abcdefghijklmnopqrstuvwxyz0123456789'],
  ])('refuses a SESSION_SECRET that is %s, in any mode, without repeating it', (_what, secret) => {
    const error = configErrorFor({ SESSION_SECRET: secret });

    expect(error.problems).toEqual([expect.stringMatching(/^SESSION_SECRET is too predictable/)]);
    expect(error.message).not.toContain(secret);
  });

  it('reads TRUST_PROXY as a hop count or a list of proxy addresses, and refuses true', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8' }).trustProxy).toEqual(['10.0.0.0/8']);
    expect(configErrorFor({ TRUST_PROXY: 'true' }).problems).toEqual([
      expect.stringMatching(/^TRUST_PROXY /),
    ]);
  });
});

describe('production mode (NODE_ENV=production)', () => {
  const SAFE = {
    NODE_ENV: 'production',
    PUBLIC_URL: 'https://app.example',
    ISSUER_URL: 'https://id.example',
    SESSION_SECRET: STRONG_SECRET,
  };

  it('starts with https URLs and a strong SESSION_SECRET', () => {
    expect(loadConfig(SAFE)).toMatchObject({
      publicUrl: 'https://app.example',
      issuerUrl: 'https://id.example',
      jwksUrl: 'https://id.example/.well-known/jwks.json',
    });
    expect(loadConfig({ ...SAFE, JWKS_URL: 'https://server1.internal/keys' }).jwksUrl).toBe(
      'https://server1.internal/keys',
    );
  });

  it('refuses the local demo defaults, naming every variable in one error', () => {
    const error = configErrorFor({
      NODE_ENV: 'production',
      JWKS_URL: 'http://server1:4001/.well-known/jwks.json',
    });

    expect(error.problems).toEqual([
      expect.stringMatching(/^PUBLIC_URL must be an https URL in production/),
      expect.stringMatching(/^ISSUER_URL must be an https URL in production/),
      expect.stringMatching(/^JWKS_URL must be an https URL in production/),
      expect.stringMatching(/^SESSION_SECRET must be set in production/),
    ]);
  });

  it.each([
    ['PUBLIC_URL', { PUBLIC_URL: 'http://app.example' }],
    ['ISSUER_URL', { ISSUER_URL: 'http://id.example' }],
    ['JWKS_URL', { JWKS_URL: 'http://server1:4001/.well-known/jwks.json' }],
    ['JWKS_URL', { JWKS_URL: 'http://localhost:4001/.well-known/jwks.json' }],
    ['SESSION_SECRET', { SESSION_SECRET: undefined }],
    ['SESSION_SECRET', { SESSION_SECRET: 'too-short-secret' }],
    ['SESSION_SECRET', { SESSION_SECRET: 'a'.repeat(64) }],
  ])('refuses an unsafe %s, naming it', (name, unsafe) => {
    const error = configErrorFor({ ...SAFE, ...unsafe });

    expect(error.problems).toEqual([expect.stringMatching(new RegExp(`^${name} `))]);
  });

  it('accepts http on a loopback host only with ALLOW_INSECURE_LOOPBACK=true', () => {
    const loopback = {
      ...SAFE,
      PUBLIC_URL: 'http://localhost:4002',
      ISSUER_URL: 'http://127.0.0.1:4001',
      JWKS_URL: 'http://[::1]:4001/.well-known/jwks.json',
    };

    expect(configErrorFor(loopback).problems).toEqual([
      expect.stringMatching(/^PUBLIC_URL .*ALLOW_INSECURE_LOOPBACK=true/),
      expect.stringMatching(/^ISSUER_URL .*ALLOW_INSECURE_LOOPBACK=true/),
      expect.stringMatching(/^JWKS_URL .*ALLOW_INSECURE_LOOPBACK=true/),
    ]);
    expect(loadConfig({ ...loopback, ALLOW_INSECURE_LOOPBACK: 'true' }).jwksUrl).toBe(
      'http://[::1]:4001/.well-known/jwks.json',
    );
    expect(
      configErrorFor({ ...loopback, JWKS_URL: 'http://server1:4001/keys', ALLOW_INSECURE_LOOPBACK: 'true' })
        .problems,
    ).toEqual([
      expect.stringMatching(
        /^JWKS_URL must be an https URL in production, got "http:\/\/server1:4001\/keys"$/,
      ),
    ]);
  });

  it('checks nothing of this outside production', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).sessionSecret).toBeUndefined();
  });
});
