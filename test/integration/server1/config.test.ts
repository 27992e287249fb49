import { loadConfig } from '@jwt-handoff/server1';
import { ConfigError } from '@jwt-handoff/shared';
import { describe, expect, it } from 'vitest';

/** The ConfigError loadConfig throws for `env`; fails the test when it throws nothing else. */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig', () => {
  it('works for the local demo with an empty environment', () => {
    const config = loadConfig({});

    expect(config).toMatchObject({
      port: 4001,
      publicUrl: 'http://localhost:4001',
      handoffTokenTtlSec: 60,
      signingAlgorithm: 'EdDSA',
      seedDemoUsers: false,
    });
    expect(config.clients.map((client) => client.id)).toEqual(['server2']);
    expect(config.clients[0]?.redirectUris).toEqual(['http://localhost:4002/handoff/callback']);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '4001abc' }],
    ['PUBLIC_URL', { PUBLIC_URL: 'localhost:4001' }],
    ['PUBLIC_URL', { PUBLIC_URL: 'ftp://localhost' }],
    ['PUBLIC_URL', { PUBLIC_URL: 'http://localhost:4001/?x=1' }],
    ['CLIENTS', { CLIENTS: '[{"id":' }],
    ['CLIENTS', { CLIENTS: '[]' }],
    ['CLIENTS', { CLIENTS: '[{"id":"server2","redirect_uris":["not a url"]}]' }],
    [
      'CLIENTS',
      {
        CLIENTS:
          '[{"id":"a","redirect_uris":["http://a.example/cb"]},{"id":"a","redirect_uris":["http://a.example/cb"]}]',
      },
    ],
    ['DEMO_PASSWORD', { SEED_DEMO_USERS: 'true' }],
    ['HANDOFF_TOKEN_TTL', { HANDOFF_TOKEN_TTL: '301' }],
    ['HANDOFF_TOKEN_TTL', { HANDOFF_TOKEN_TTL: '0' }],
  ])('refuses a bad %s, naming it', (variable, env) => {
    expect(configError(env).message).toContain(variable);
  });

  it('names every bad variable in one error', () => {
    const error = configError({
      PORT: 'eighty',
      PUBLIC_URL: 'not a url',
      CLIENTS: '{not json',
      SEED_DEMO_USERS: 'true',
      HANDOFF_TOKEN_TTL: '301',
    });

    expect(error.problems).toHaveLength(5);
    for (const variable of ['PORT', 'PUBLIC_URL', 'CLIENTS', 'DEMO_PASSWORD', 'HANDOFF_TOKEN_TTL']) {
      expect(error.message).toContain(variable);
    }
  });

  it('accepts the longest handoff token lifetime, 300 seconds', () => {
    expect(loadConfig({ HANDOFF_TOKEN_TTL: '300' }).handoffTokenTtlSec).toBe(300);
  });
});
