import { loadConfig } from '@jwt-handoff/server2';
import { ConfigError } from '@jwt-handoff/shared';
import { describe, expect, it } from 'vitest';

/** The ConfigError that loadConfig throws for `env`. */
function configErrorFor(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

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

  it('accepts a SESSION_SECRET of 32 characters and a list of allowed algorithms', () => {
    const config = loadConfig({ SESSION_SECRET: 'x'.repeat(32), ALLOWED_ALGS: 'EdDSA, ES256' });

    expect(config.sessionSecret).toBe('x'.repeat(32));
    expect(config.allowedAlgorithms).toEqual(['EdDSA', 'ES256']);
  });
});
